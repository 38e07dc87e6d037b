/** Record lines of the exactly-once journal (src/runtime/journal.ts): their shape and the latest line of each. */
import type { JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { errorResponse } from '../protocol/jsonrpc.js';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';

/** One journal record as stored. */
export interface Stored {
  s: string;
  id: RequestId;
  tool: string;
  at: number;
  resp?: JsonRpcResponse;
  done?: number;
}

export const keyOf = (sessionId: string, id: RequestId) => `${sessionId}\u0000${typeof id}:${String(id)}`;

/**
 * The latest line of each record, in the order they were last written: lines of `sources` in order,
 * a later line of a record replacing the earlier one, a `{"gone":key}` line retiring it. Lines that
 * are not records are passed on for {@link Journal.load} to report.
 */
export function latest(...sources: unknown[][]): unknown[] {
  const live = new Map<string, unknown>();
  const bad: unknown[] = [];
  for (const src of sources) {
    for (const line of src) {
      let r: { s?: unknown; id?: unknown; gone?: unknown } | null;
      try {
        r = JSON.parse(String(line)) as typeof r;
      } catch {
        bad.push(line);
        continue;
      }
      if (r && typeof r === 'object' && typeof r.gone === 'string') live.delete(r.gone);
      else if (r && typeof r === 'object' && typeof r.s === 'string' && (typeof r.id === 'string' || typeof r.id === 'number')) {
        const k = keyOf(r.s, r.id);
        live.delete(k);
        live.set(k, line);
      } else bad.push(line);
    }
  }
  return [...bad, ...live.values()];
}

export function strip(e: Stored): Stored {
  const r: Stored = { s: e.s, id: e.id, tool: e.tool, at: e.at };
  if (e.resp) r.resp = e.resp;
  if (e.done !== undefined) r.done = e.done;
  return r;
}

/** The answer recorded for a call whose writer stopped before its outcome: ANDON_INTERRUPTED. */
export function interruptedResponse(rec: Stored): JsonRpcResponse {
  return errorResponse(
    rec.id,
    new AndonError(
      RuntimeErrors.Interrupted,
      `Request interrupted by a server restart and not replayed: tool "${rec.tool}" was running when the previous process stopped. It may or may not have taken effect; check before retrying with a new request id.`,
      { reason: 'interrupted', tool: rec.tool, requestId: rec.id, startedAt: rec.at },
    ).toMcpError(),
  );
}
