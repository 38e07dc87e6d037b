/**
 * The request scope: trace and session ids of the request being served, carried through every
 * await by AsyncLocalStorage. It is filled by {@link RequestTracing} from the `andon:request:start`
 * channel (published with `runStores`, so the store is entered before the handler runs) and read
 * by the logger's mixin, which is how every log line of a request gets its trace id without the
 * request path passing a logger around.
 *
 * One AsyncLocalStorage per process is deliberate, the same choice OpenTelemetry makes for its
 * context manager: the scope belongs to the async context, not to any one server or logger.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Span } from '@opentelemetry/api';

/** What is known about the request in whose async context code runs. */
export interface RequestScope {
  /** W3C trace id, 32 lowercase hex (from `traceparent`, or generated on first read when absent). */
  traceId: string;
  /** This request's span id, 16 hex (generated on first read). */
  spanId: string;
  /** The caller's span id from `traceparent`, when there was one. */
  parentSpanId: string | undefined;
  /** W3C trace flags, two hex digits (`01` sampled). */
  traceFlags: string;
  /** `tracestate` passed through unchanged. */
  traceState: string | undefined;
  /** 2025 session id, when the request belongs to a session. */
  sessionId: string | undefined;
  requestId: string | number | null | undefined;
  method: string;
  /** `performance.now()` at dispatch. */
  startedAt: number;
  /** The OpenTelemetry span, when tracing with OTel is enabled and an SDK is installed. */
  span: Span | undefined;
}

/** The process-wide request scope store. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/** The scope of the request being served, or undefined outside a request. */
export function currentScope(): RequestScope | undefined {
  return requestScope.getStore();
}

/** The `traceparent` header value to send downstream from inside a request (W3C, version 00). */
export function currentTraceparent(): string | undefined {
  const s = requestScope.getStore();
  return s ? `00-${s.traceId}-${s.spanId}-${s.traceFlags}` : undefined;
}

/** A parsed W3C `traceparent`. */
export interface TraceParent {
  traceId: string;
  parentId: string;
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * Parses a W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header). Returns
 * undefined for anything invalid (version ff, all-zero ids, wrong lengths), in which case the
 * spec says to start a new trace.
 */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < 55 || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  // Version 00 has exactly four fields; later versions may append more, which we ignore.
  if (version === '00' && value.trim().length !== 55) return undefined;
  return { traceId, parentId, flags };
}

// Ids come from a pooled buffer of CSPRNG bytes: one randomBytes call per 256 ids instead of one
// per request keeps trace id generation off the profile.
let pool = Buffer.alloc(0);
let offset = 0;
function hex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

/** A new random trace id (16 bytes, hex). */
export function newTraceId(): string {
  const id = hex(16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** A new random span id (8 bytes, hex). */
export function newSpanId(): string {
  const id = hex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}
