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
  /**
   * Reads a session's record from the shared store without adopting it (no journal records).
   * Given, a GET stream on a session held here first adds the subscriptions the store has and the
   * held copy lacks (one made on another node whose announcement this node missed).
   */
  peekSession?: (id: string) => Promise<import('../server/session.js').Session | undefined>;
  /** Connection limits (sockets, slow clients, bodies being read); see {@link ConnectionLimits}. */
  connections?: ConnectionLimits;
  /** Session limits (sessions, SSE streams, subscriptions, URI length); see {@link SessionLimits}. */
  limits?: SessionLimits;
  /** Time for the session sweeper and SSE keep-alives. Default the server's `clock`. */
  clock?: Clock;
  logger?: Logger;
}

/** Connection limits of the endpoint. Every field has a default; config section `connections`. */
export interface ConnectionLimits {
  /** Open TCP connections; beyond it a new socket gets a raw 503 + Retry-After and is closed. Default 1024. */
  max?: number;
  /** Open TCP connections from one remote address. Default 256. */
  maxPerClient?: number;
  /** Time to receive a request's headers (node:http `headersTimeout`, 408). Default 10,000 ms. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (node:http `requestTimeout`, 408). Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Keep-alive idle time between requests (node:http `keepAliveTimeout`). Default 65,000 ms. */
  idleSocketMs?: number;
  /** Request-body bytes being read at once, all connections together. Default 64 MiB. */
  maxBufferedBodyBytes?: number;
}

/** Session limits of the endpoint. Every field has a default; config section `limits`. */
export interface SessionLimits {
  /** Live 2025 sessions. Default 10,000. */
  maxSessions?: number;
  /** Live 2025 sessions opened from one remote address. Default 1,000. */
  maxSessionsPerClient?: number;
  /** Open SSE streams (GET streams, SSE responses, 2026 listen streams). Default 10,000. */
  maxSseStreams?: number;
  /** `resources/subscribe` URIs one session may hold. Default 1,000. */
  maxSubscriptionsPerSession?: number;
  /** Longest `params.uri` and HTTP request target. Default 2,048. */
  maxUriLength?: number;
}
