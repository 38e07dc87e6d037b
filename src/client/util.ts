/** Small helpers shared by the layers of the client. */
import { ClientError } from './errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { RequestOptions } from './types.js';

export function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function abortError(method: string, signal: AbortSignal): ClientError {
  const reason = signal.reason;
  return new ClientError('ABORTED', `${method} was aborted${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`, { cause: reason });
}

/** Resolves after `ms` on `clock` (default the system clock); rejects with ABORTED when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError('wait', signal));
      return;
    }
    const t = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(t);
      reject(abortError('wait', signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends a list request page by page, following `nextCursor`, and returns every item under `key`. */
export async function paginate(
  client: { request(method: string, params: Record<string, unknown>, opts: RequestOptions): Promise<Record<string, unknown>> },
  method: string,
  key: string,
  opts: RequestOptions,
  valid: (item: unknown) => boolean,
): Promise<unknown[]> {
  const out: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const r = await client.request(method, cursor === undefined ? {} : { cursor }, opts);
    const items = r[key];
    if (!Array.isArray(items)) throw new ClientError('INVALID_RESULT', `${method} result has no "${key}" array`, { details: { result: r } });
    const bad = items.findIndex((i) => !valid(i));
    if (bad !== -1) throw new ClientError('INVALID_RESULT', `${method} result: ${key}[${bad}] is malformed`, { details: { item: items[bad] } });
    out.push(...items);
    const next = r.nextCursor;
    if (next === undefined || next === null) return out;
    if (typeof next !== 'string') throw new ClientError('INVALID_RESULT', `${method} result: nextCursor must be a string`);
    if (seen.has(next)) throw new ClientError('INVALID_RESULT', `${method}: the server returned the cursor "${next}" twice (pagination loop)`);
    seen.add(next);
    cursor = next;
  }
  throw new ClientError('INVALID_RESULT', `${method}: more than 10,000 pages`);
}
