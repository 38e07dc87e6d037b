/**
 * Reading HTTP responses, for the HTTP transports: whole bodies with a size limit, SSE streams as
 * JSON messages, and socket errors as ClientErrors.
 */
import type { IncomingMessage } from 'node:http';
import { ClientError } from './errors.js';
import { SseParser } from './sse-parser.js';

/** Reads a whole body as UTF-8, failing past `limit` bytes. */
export function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy();
        reject(new ClientError('MALFORMED_RESPONSE', `The response body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', (err) => reject(new ClientError('STREAM_CLOSED', `The response body was cut: ${err.message}`, { cause: err })));
    res.once('close', () => {
      if (!res.complete) reject(new ClientError('STREAM_CLOSED', 'The connection closed before the response body was complete'));
    });
  });
}

/** Where the `id` and `retry` an SSE stream sent are kept, so that it can be resumed. */
export interface SseCursor {
  lastEventId?: string;
  retryMs?: number;
}

/**
 * Feeds the `message` events of an SSE response to `on.message` as parsed JSON (an event that is
 * not JSON goes to `on.malformed`, with the reason), recording `id` and `retry` in `cursor`. `on.end`
 * runs when the response ends, closes or fails, with whether any message arrived.
 */
export function readSseMessages(
  res: IncomingMessage,
  cursor: SseCursor,
  on: { message(value: unknown): void; malformed(why: string): void; end(delivered: boolean): void },
): void {
  let delivered = false;
  const parser = new SseParser({
    onId: (id) => {
      cursor.lastEventId = id;
    },
    onRetry: (ms) => {
      cursor.retryMs = ms;
    },
    onEvent: (ev) => {
      if (ev.event !== 'message' || ev.data.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(ev.data);
      } catch (err) {
        on.malformed(`${(err as Error).message}${snippet(ev.data)}`);
        return;
      }
      delivered = true;
      on.message(value);
    },
  });
  res.on('data', (chunk: Buffer) => parser.push(chunk));
  const done = () => {
    parser.end();
    on.end(delivered);
  };
  res.once('end', done);
  res.once('close', done);
  res.once('error', done);
}

export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The start of a body, for an error message: `: <up to 200 characters>`, or nothing. */
export function snippet(text: string): string {
  const t = text.trim();
  if (!t) return '';
  return `: ${t.length > 200 ? `${t.slice(0, 200)}…` : t}`;
}

/** Maps socket errors to CONNECTION_FAILED; keeps ClientErrors. */
export function toClientError(err: unknown): ClientError {
  if (err instanceof ClientError) return err;
  const e = err as NodeJS.ErrnoException;
  return new ClientError('CONNECTION_FAILED', `HTTP request failed: ${e?.code ? `${e.code} ` : ''}${e?.message ?? String(err)}`, { cause: err });
}
