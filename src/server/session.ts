/**
 * Peers and sessions. A Peer is one conversation partner that can receive server→client requests
 * and cancel its own in-flight requests (a stdio connection, or a 2025 HTTP session). A Session adds
 * the 2025-era state negotiated by `initialize`.
 */
import { randomBytes } from 'node:crypto';
import type { JsonRpcMessage, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from './types.js';

/**
 * The abort reason when the client itself cancelled a request (notifications/cancelled). The
 * receiver of a cancellation should not respond, so transports check for it.
 */
export class ClientCancelled extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ClientCancelled';
  }
}

/** True when `signal` was aborted by the client's notifications/cancelled. */
export function cancelledByClient(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof ClientCancelled;
}

/** Where a message goes: a writer supplied by the transport. */
export type Sink = (message: JsonRpcMessage) => void;

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

/** One client connection or session that can be sent requests and that owns in-flight requests. */
export class Peer {
  /** Aborters of requests that this peer has in flight, by JSON-RPC id. */
  readonly inflight = new Map<RequestId, AbortController>();
  private readonly pending = new Map<RequestId, Pending>();
  private nextId = 0;
  /** Unrelated server→client messages (list changes, resource updates); null when nowhere to send. */
  standalone: Sink | null = null;

  /** Sends a request to the client through `sink` and resolves with its result. */
  request(sink: Sink, method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const id = `s${++this.nextId}`;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new McpError(ErrorCode.InternalError, `Request ${method} was cancelled before it was sent`));
        return;
      }
      const onAbort = () => {
        if (this.pending.delete(id)) {
          sink({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'cancelled by server' } });
          reject(new McpError(ErrorCode.InternalError, `Request ${method} was cancelled`));
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      sink({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Routes a client response to the request it answers. Returns false for an unknown id. */
  resolveResponse(msg: JsonRpcResponse): boolean {
    const id = msg.id;
    if (id === undefined || id === null) return false;
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    if ('error' in msg) p.reject(new McpError(msg.error.code, msg.error.message, msg.error.data));
    else p.resolve(msg.result);
    return true;
  }

  /** Fails every outstanding server→client request, e.g. when the peer goes away. */
  rejectAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new McpError(ErrorCode.InternalError, reason));
    this.pending.clear();
  }

  /** Aborts every in-flight request of this peer. */
  abortAll(reason: string): void {
    for (const ac of this.inflight.values()) ac.abort(new Error(reason));
    this.inflight.clear();
  }
}

/** A 2025-era session, created by `initialize`. */
export class Session extends Peer {
  readonly id: string;
  protocolVersion = '';
  /** The transport carrying the session (a metrics label). */
  transport: 'http' | 'stdio' | 'sse' | 'websocket' | 'tcp' = 'http';
  clientInfo: Implementation | undefined;
  clientCapabilities: ClientCapabilities = {};
  /** Minimum level for notifications/message; undefined sends everything. */
  logLevel: LoggingLevel | undefined;
  /** Resource URIs this session subscribed to. */
  readonly subscriptions = new Set<string>();
  initialized = false;
  closed = false;
  /**
   * Responses kept for requests interrupted by a restart (replayed or failed): a client that
   * retries the same id gets this instead of a second execution.
   */
  completed: Map<RequestId, JsonRpcResponse> | undefined;
  /** Last request on the session, ms on the transport's clock (the idle sweeper reads it). */
  lastActivity: number;

  /** `now`: the creation time on the transport's clock. Default `Date.now()`. */
  constructor(id: string = newSessionId(), now: number = Date.now()) {
    super();
    this.id = id;
    this.lastActivity = now;
  }
}

/** A session id from the CSPRNG: 32 hex chars (visible ASCII, 128 bits). */
export function newSessionId(): string {
  return randomBytes(16).toString('hex');
}
