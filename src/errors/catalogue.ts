/**
 * The one error catalogue (fastify's `lib/errors.js`, undici's `core/errors.js`): every local error
 * andon-mcp raises or sends has an entry here with a stable string code, a message, whether a retry
 * can succeed, and — for refusals that travel to a peer — its wire form: a JSON-RPC code and the
 * HTTP status a Streamable HTTP exchange answers with. `docs/errors.md` is checked against this
 * table by a test, so a new refusal is documented in one place.
 *
 * Wire-only protocol errors (parse error, invalid params…) stay in `src/protocol/errors.ts`.
 */
import { ErrorCode, McpError } from '../protocol/errors.js';

/** One catalogue entry. */
export interface ErrorDef {
  /** Stable string code, `ANDON_*`. Never renamed once released. */
  readonly code: string;
  /** Default message; an instance may carry a more specific one. */
  readonly message: string;
  /** Whether the same request can succeed later without a change on the caller's side. */
  readonly retryable: boolean;
  /** JSON-RPC error code when this error is answered to an MCP peer. */
  readonly wireCode?: number;
  /** HTTP status when answered over HTTP (Streamable HTTP, ops listener). */
  readonly httpStatus?: number;
  /** One line for docs/errors.md: when this error happens. */
  readonly when: string;
}

/** Extra facts a refusal carries to the peer in JSON-RPC `error.data` and HTTP headers. */
export interface ErrorData {
  /** When a retry may succeed; becomes `Retry-After` (seconds, rounded up) over HTTP. */
  retryAfterMs?: number;
  /** The operator's or the stage's reason, for humans. */
  reason?: string;
  /** Component id the refusal is about (`node`, `tool:divide`, …). */
  component?: string;
  [key: string]: unknown;
}

/**
 * A local error from the catalogue. `code` is the entry's stable code; `toMcpError()` gives the
 * wire form with `data` = { code, retryAfterMs, reason, component, … }.
 */
export class AndonError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly wireCode: number | undefined;
  readonly httpStatus: number | undefined;
  readonly data: ErrorData;

  constructor(def: ErrorDef, message?: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message ?? def.message, options);
    this.name = 'AndonError';
    this.code = def.code;
    this.retryable = def.retryable;
    this.wireCode = def.wireCode;
    this.httpStatus = def.httpStatus;
    this.data = data;
  }

  /** `Retry-After` header value in whole seconds, when the error says when to retry. */
  get retryAfterSeconds(): number | undefined {
    const ms = this.data.retryAfterMs;
    return ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000));
  }

  /** The JSON-RPC error a peer receives. */
  toMcpError(): McpError {
    return new McpError(this.wireCode ?? ErrorCode.InternalError, this.message, { code: this.code, ...this.data });
  }
}

/** Creates a catalogue entry; the registry below lists every entry for docs and tests. */
export function defineError(def: ErrorDef): ErrorDef {
  if (!/^ANDON_[A-Z0-9_]+$/.test(def.code)) throw new Error(`error code must be ANDON_*: ${def.code}`);
  if (registry.has(def.code)) throw new Error(`duplicate error code ${def.code}`);
  registry.set(def.code, def);
  return def;
}

const registry = new Map<string, ErrorDef>();

/** Every catalogue entry, in definition order (docs/errors.md is checked against this). */
export function catalogue(): ErrorDef[] {
  return [...registry.values()];
}

/** True when `err` is an AndonError of entry `def`. */
export function isError(err: unknown, def: ErrorDef): err is AndonError {
  return err instanceof AndonError && err.code === def.code;
}

// ───────────────────────────── admission refusals ─────────────────────────────
// Every refusal of the admission pipeline (src/admission) comes from here. The next issues add
// theirs (rate limits, degradation, breakers, flags) in this section.

export const Errors = {
  Draining: defineError({
    code: 'ANDON_DRAINING',
    message: 'Server is draining; retry on another instance',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the node is draining (SIGTERM, `andon drain`): new work is refused, in-flight work finishes',
  }),
  NodeHalted: defineError({
    code: 'ANDON_NODE_HALTED',
    message: 'Node is halted',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'an operator halted the node (`andon halt node`); `data.reason` carries the reason',
  }),
  ComponentHalted: defineError({
    code: 'ANDON_HALTED',
    message: 'Component is halted',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the server, a transport or a prompt/resource component is halted; `data.component` names it',
  }),
} as const;

// ───────────────────────────── wire limits ─────────────────────────────
// Limits the transports enforce on what a peer sends or fails to read (src/protocol, src/transports,
// src/admin/ops-server.ts).

/** Refusals and drops of the transports' input and output limits. */
export const WireErrors = {
  JsonTooDeep: defineError({
    code: 'ANDON_JSON_TOO_DEEP',
    message: 'JSON nests deeper than the limit',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: 'a message nests arrays/objects deeper than `MAX_JSON_DEPTH` (64); `data.limit` names the limit',
  }),
  SseBacklog: defineError({
    code: 'ANDON_SSE_BACKLOG',
    message: 'SSE stream dropped: the client is not reading',
    retryable: true,
    when: 'more than `maxStreamBufferBytes` (4 MiB) of an SSE stream sit unread in the socket: the connection is closed and logged; the client resumes with `Last-Event-ID`',
  }),
  BadUrl: defineError({
    code: 'ANDON_BAD_URL',
    message: 'Bad request URL',
    retryable: false,
    httpStatus: 400,
    when: 'the ops listener got a request target it cannot parse or decode (e.g. `%E0%A4%A`, `//[`)',
  }),
} as const;
