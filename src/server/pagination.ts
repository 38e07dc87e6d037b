/**
 * Cursor pagination of every `* /list`. Cursors are opaque to clients (base64url of `o:<offset>`)
 * and checked on the way back in, so a forged or stale cursor is an error, not a silent reset.
 */
import { invalidParams } from '../protocol/errors.js';

/** One page of `items` under `key`, starting at `params.cursor`, with `nextCursor` when more remain. */
export function paginate(key: string, items: Record<string, unknown>[], params: Record<string, unknown>, pageSize: number): Record<string, unknown> {
  let start = 0;
  const cursor = params.cursor;
  if (cursor !== undefined) {
    if (typeof cursor !== 'string') throw invalidParams('cursor', 'must be a string');
    const n = Number.parseInt(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^o:/, ''), 10);
    if (!Buffer.from(cursor, 'base64url').toString('utf8').startsWith('o:') || !Number.isInteger(n) || n < 0 || n > items.length) {
      throw invalidParams('cursor', 'is not a cursor this server issued');
    }
    start = n;
  }
  const end = start + pageSize;
  const result: Record<string, unknown> = { [key]: start === 0 && end >= items.length ? items : items.slice(start, end) };
  if (end < items.length) result.nextCursor = Buffer.from(`o:${end}`).toString('base64url');
  return result;
}
