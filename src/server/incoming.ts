/**
 * What a transport hands the server for each request: the message, the peer it came from, its
 * era and the {@link Exchange} its related messages and response go through.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonRpcRequest } from '../protocol/jsonrpc.js';
import type { Era } from '../protocol/versions.js';
import type { Exchange } from './context.js';
import type { Peer, Session } from './session.js';

/** Everything a transport knows about one incoming request. */
export interface IncomingRequest {
  request: JsonRpcRequest;
  /** The 2025 session, or the stdio peer (which also carries 2026 requests). */
  peer: Peer | undefined;
  /** The 2025 session when the request is a 2025-era request. */
  session: Session | undefined;
  era: Era;
  exchange: Exchange;
  /** Aborted by the transport on cancellation or (2026) stream close. */
  signal: AbortSignal;
  /** Lets the runtime abort the request (drain, halt). */
  abort?: (reason: Error) => void;
  /** HTTP request headers (trace context for observability); undefined on stdio. */
  headers?: IncomingHttpHeaders;
  /** The peer's network address (HTTP: the socket's remote address); undefined on stdio. */
  remote?: string;
  /** The authenticated subject (an OAuth token's `sub`), set by an authentication stage. */
  subject?: string;
  /** @internal What the breakers stage keeps between admission and the response (src/resilience/breaker-stage.ts). */
  breakerGuard?: unknown;
}

/**
 * The identity limits, flags and audit key on: the authenticated subject when there is one, else
 * the 2025 session, else the remote address, else `stdio` for the stdio peer, else `anonymous`.
 */
export function clientKey(req: IncomingRequest): string {
  if (req.subject !== undefined) return `sub:${req.subject}`;
  if (req.session !== undefined) return `session:${req.session.id}`;
  if (req.remote !== undefined) return `ip:${req.remote}`;
  // stdio: one client per process.
  return req.peer !== undefined ? 'stdio' : 'anonymous';
}

/**
 * The IncomingRequest transports build on the hot path: `signal` is a getter, so the AbortSignal
 * (~2.5 µs to create) exists only if a handler, a hook or the runtime asks for it.
 */
export class Incoming implements IncomingRequest {
  remote?: string;
  subject?: string;
  // Declared (so defined in the constructor): every request object keeps one shape.
  breakerGuard?: unknown;
  constructor(
    readonly request: JsonRpcRequest,
    readonly peer: Peer | undefined,
    readonly session: Session | undefined,
    readonly era: Era,
    readonly exchange: Exchange,
    readonly aborter: AbortController,
    readonly headers?: IncomingHttpHeaders,
  ) {}

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  abort(reason: Error): void {
    this.aborter.abort(reason);
  }
}

/** Hook run before every request is dispatched; throw an McpError to refuse it. */
export type RequestHook = (req: IncomingRequest) => void | Promise<void>;
