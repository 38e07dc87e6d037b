/** Session ids for the Streamable HTTP transport, drawn from a pooled CSPRNG buffer. */
import { randomBytes } from 'node:crypto';

/**
 * Session ids: 128 bits from the CSPRNG as 32 hex chars, like newSessionId(), but drawn from a
 * 4 KiB pool refilled 256 ids at a time (one randomBytes call per session was 5% of an
 * initialize). Every byte is used once.
 */
let idPool = Buffer.alloc(0);
let idOffset = 0;
export function pooledSessionId(): string {
  if (idOffset + 16 > idPool.length) {
    idPool = randomBytes(4096);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + 16);
  idOffset += 16;
  return id;
}
