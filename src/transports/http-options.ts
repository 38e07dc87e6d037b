/** Options of the Streamable HTTP transport (kept apart so the handler module stays small). */
import type { EventStore } from './event-store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** Options of the Streamable HTTP transport. */
export interface HttpTransportOptions {
  /** Endpoint path. Default `/mcp`. */
  path?: string;
  /** Largest accepted request body in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * Accepted `Origin` values. Default: only localhost origins (http(s)://localhost|127.0.0.1|[::1]
   * on any port). Requests without an Origin (non-browser clients) are accepted. `'*'` allows all.
   */
  allowedOrigins?: string[] | '*';
  /** Accepted `Host` header hostnames. Default: localhost, 127.0.0.1, [::1]. `'*'` allows all. */
  allowedHosts?: string[] | '*';
  /** Event store for SSE resumability. Default: a bounded in-memory store. */
  eventStore?: EventStore;
  /** `auto` (JSON unless the handler streams), `json` or `sse`. Default `auto`. */
  responseMode?: 'auto' | 'json' | 'sse';
  /** `retry` suggested in the SSE priming event, ms. Default 1000. */
  retryMs?: number;
  /** Keep-alive comment interval on idle SSE streams, ms. Default 15,000. */
  keepAliveMs?: number;
  /**
   * Bytes an SSE connection may hold unread before it is dropped (the client is not reading; it
   * resumes with `Last-Event-ID`). Default 4 MiB (`DEFAULT_MAX_STREAM_BUFFER_BYTES` in sse.ts).
   */
  maxStreamBufferBytes?: number;
  /** Sessions idle this long without an open stream are closed. Default 30 minutes. */
  sessionIdleMs?: number;
  /**
   * Looks up a session this process does not hold (nodes sharing a store: the session was created
   * on another node). Resolves undefined when there is none (404). Lookups of one id are
   * coalesced and misses remembered briefly, so unknown ids cannot flood the store.
   */
  loadSession?: (id: string) => Promise<import('../server/session.js').Session | undefined>;
  /** Time for the session sweeper and SSE keep-alives. Default the server's `clock`. */
  clock?: Clock;
  logger?: Logger;
}
