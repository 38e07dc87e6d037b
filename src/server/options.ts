/** Options of an McpServer and the runtime's callbacks into it. */
import type { JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { IncomingRequest } from './incoming.js';
import type { Session } from './session.js';
import type { Implementation } from './types.js';
import type { Clock } from '../util/clock.js';

/** Options of {@link createServer}. */
export interface ServerOptions extends Implementation {
  /** Natural-language guidance for the client's model. */
  instructions?: string;
  /** Items per page of every `* /list`. Default 100. */
  pageSize?: number;
  /** 2026 cache hints on list and read results. Default `{ ttlMs: 0, scope: 'private' }`. */
  cache?: { ttlMs?: number; scope?: 'public' | 'private' };
  /**
   * Key that signs 2026 `requestState` (HMAC-SHA256) so a client cannot forge or alter it.
   * Default: random per process; set it (e.g. from a secret) when several nodes serve one client.
   */
  stateSecret?: string | Buffer;
  /** Time for whenIdle, task TTLs and (by default) its transports. Default {@link systemClock}. */
  clock?: Clock;
}

/** Runtime callbacks the server invokes; all optional, none on the path unless set. */
export interface ServerObserver {
  /** A tool handler finished; `error` is set when it threw (not for isError results it returned). */
  toolResult?(name: string, error: Error | undefined): void;
  /** A 2025 session opened, changed (log level, subscriptions) or closed. */
  session?(session: Session, change: 'open' | 'update' | 'close'): void;
  /**
   * A client deleted its 2025 session (HTTP DELETE). Awaited before the DELETE is answered: the
   * runtime makes the deletion durable here, so an acknowledged deletion cannot come back after a kill -9.
   */
  sessionDeleted?(session: Session): Promise<void> | void;
  /**
   * andon:settle — awaited after the handler and before the response goes back to the transport,
   * while the request still counts as in flight: the runtime makes outcomes durable here (the
   * exactly-once journal, acknowledged sessions). A throw replaces the response with that error.
   */
  settle?(inc: IncomingRequest, response: JsonRpcResponse): Promise<void> | void;
}

