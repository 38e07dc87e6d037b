/**
 * The response step: how a refusal from the catalogue reaches the peer. Over HTTP, a JSON-RPC
 * error whose `data.code` names a catalogue entry with an HTTP status (503 draining/halted, 429
 * rate limited, …) gets that status and `Retry-After` from `data.retryAfterMs`, in both eras.
 * Over stdio, and inside an SSE stream whose status line already went out, the JSON-RPC error
 * itself carries `data` = { code, retryAfterMs, reason, component }.
 */
import { AndonError, catalogue, type ErrorDef } from '../errors/catalogue.js';
import { errorResponse, type JsonRpcErrorResponse, type RequestId } from '../protocol/jsonrpc.js';

/** The HTTP form of a refusal. */
export interface HttpRefusal {
  status: number;
  /** `Retry-After` in whole seconds, when the refusal says when to retry. */
  retryAfter: string | undefined;
  /** `WWW-Authenticate`, when the refusal carries a challenge (`data.wwwAuthenticate`: 401/403 of src/auth). */
  wwwAuthenticate?: string;
}

let byCode = new Map<string, ErrorDef>();

function defOf(code: string): ErrorDef | undefined {
  let def = byCode.get(code);
  if (def === undefined) {
    // Entries are defined at import time by the modules that own them: rebuild on a miss.
    const all = catalogue();
    if (all.length !== byCode.size) byCode = new Map(all.map((d) => [d.code, d]));
    def = byCode.get(code);
  }
  return def;
}

/**
 * The HTTP status and `Retry-After` of a JSON-RPC error, when it is a catalogued refusal;
 * undefined for any other error (which keeps the era's usual status).
 */
export function httpRefusal(error: { code: number; data?: unknown }): HttpRefusal | undefined {
  const data = error.data as { code?: unknown; retryAfterMs?: unknown; wwwAuthenticate?: unknown } | undefined;
  if (data === null || typeof data !== 'object' || typeof data.code !== 'string') return undefined;
  const def = defOf(data.code);
  if (def?.httpStatus === undefined) return undefined;
  const ms = data.retryAfterMs;
  const r: HttpRefusal = { status: def.httpStatus, retryAfter: typeof ms === 'number' && ms >= 0 ? String(Math.max(1, Math.ceil(ms / 1000))) : undefined };
  if (typeof data.wwwAuthenticate === 'string') r.wwwAuthenticate = data.wwwAuthenticate;
  return r;
}

/** The JSON-RPC error response for anything a request failed with: a refusal keeps its `data`. */
export function refusalResponse(id: RequestId | null | undefined, err: unknown): JsonRpcErrorResponse {
  return errorResponse(id, err instanceof AndonError ? err.toMcpError() : err);
}

/** The exchange a stream-opening request (2026 listen over HTTP) shows the stages: it sends nothing. */
export const HTTP_STREAM_EXCHANGE = { send: (): void => {}, transport: 'http' };

/**
 * The HTTP answer refusing request `id` with `err`: a catalogued refusal's status and
 * `Retry-After`, else 400, and the JSON-RPC error body.
 */
export function httpRefusalAnswer(id: RequestId, err: unknown): [number, JsonRpcErrorResponse, Record<string, string> | undefined] {
  const answer = refusalResponse(id, err);
  const r = httpRefusal(answer.error);
  const headers: Record<string, string> | undefined = r?.retryAfter || r?.wwwAuthenticate ? {} : undefined;
  if (r?.retryAfter) headers!['retry-after'] = r.retryAfter;
  if (r?.wwwAuthenticate) headers!['www-authenticate'] = r.wwwAuthenticate;
  return [r?.status ?? 400, answer, headers];
}
