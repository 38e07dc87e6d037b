/**
 * Integrity protection for 2026 `requestState`: the state a handler sets travels to the client
 * as `base64url(payload).base64url(hmac)` and is verified when it comes back, so a tampered or
 * forged state is refused with -32602 instead of reaching the handler.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, McpError } from '../protocol/errors.js';

export class StateSealer {
  private readonly key: Buffer;

  constructor(secret?: string | Buffer) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  seal(state: string): string {
    const payload = Buffer.from(state, 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** Returns the original state, or throws -32602 when the state was altered or not issued here. */
  open(sealed: string): string {
    const dot = sealed.indexOf('.');
    if (dot > 0) {
      const payload = sealed.slice(0, dot);
      const given = Buffer.from(sealed.slice(dot + 1), 'base64url');
      const want = this.mac(payload);
      if (given.length === want.length && timingSafeEqual(given, want) && sealed.slice(dot + 1) === want.toString('base64url')) {
        return Buffer.from(payload, 'base64url').toString('utf8');
      }
    }
    throw new McpError(ErrorCode.InvalidParams, 'Invalid params: "requestState" failed its integrity check (it was altered or not issued by this server)');
  }
}
