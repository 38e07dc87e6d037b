/**
 * Connection and session limits of one Streamable HTTP endpoint: open sockets (global and per
 * remote address, refused at once with a raw 503), node:http's slow-client timeouts, a global
 * budget for request bodies being read, live sessions (global and per remote address), open SSE
 * streams, and `refuseNew` (degradation: new connections and sessions are refused while existing
 * ones keep working). Counting costs a counter per connection, session and stream; a request pays
 * at most a comparison.
 */
import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AndonError } from '../errors/catalogue.js';
import { LimitErrors } from '../errors/limits.js';
import { GuardianErrors } from '../errors/guardian.js';
import { events, type LimitEvent } from '../events/index.js';
import type { ConnectionLimits, SessionLimits } from './http-options.js';
import type { Clock } from '../util/clock.js';

/** Retry-After of every limit refusal, seconds. */
export const LIMIT_RETRY_AFTER_S = 5;

/** Marks a socket refused at connection time: a request parsed from it anyway is not served. */
export const REFUSED = Symbol('andon.refused');

/** What `limitsSnapshot()` reports (metrics, admin API, dashboard). */
export interface LimitsSnapshot {
  sockets: number;
  socketsMax: number;
  sessions: number;
  sessionsMax: number;
  sseStreams: number;
  sseStreamsMax: number;
  bodyBytesInFlight: number;
  bodyBytesMax: number;
  /** Why new connections and sessions are refused (`refuseNew`), or null. */
  refusingNew: string | null;
  /** Refusals since start, by limit. */
  refused: { connections: number; sessions: number; streams: number; subscriptions: number; uriLength: number; targetLength: number; bodyBudget: number };
}

/** The effective limits (defaults filled in). */
export function effectiveLimits(c: ConnectionLimits = {}, l: SessionLimits = {}): { c: Required<ConnectionLimits>; l: Required<SessionLimits> } {
  return {
    c: {
      max: c.max ?? 1024,
      maxPerClient: c.maxPerClient ?? 256,
      headersTimeoutMs: c.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: c.requestTimeoutMs ?? 30_000,
      idleSocketMs: c.idleSocketMs ?? 65_000,
      maxBufferedBodyBytes: c.maxBufferedBodyBytes ?? 64 * 1024 * 1024,
    },
    l: {
      maxSessions: l.maxSessions ?? 10_000,
      maxSessionsPerClient: l.maxSessionsPerClient ?? 1_000,
      maxSseStreams: l.maxSseStreams ?? 10_000,
      maxSubscriptionsPerSession: l.maxSubscriptionsPerSession ?? 1_000,
      maxUriLength: l.maxUriLength ?? 2_048,
    },
  };
}

/**
 * node:http server options for these limits. node:http checks its timeouts every
 * `connectionsCheckingInterval` (default 30 s), so it is tied to the shortest timeout here.
 */
export function httpServerOptions(c: Required<ConnectionLimits>): { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const headersTimeout = Math.min(c.headersTimeoutMs, c.requestTimeoutMs);
  return {
    keepAliveTimeout: c.idleSocketMs,
    headersTimeout,
    requestTimeout: c.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

function raw503(message: string): string {
  return `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${LIMIT_RETRY_AFTER_S}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`;
}

const perClientOf = (m: Map<string, number>, k: string): number => m.get(k) ?? 0;

function dec(m: Map<string, number>, k: string): void {
  const n = (m.get(k) ?? 0) - 1;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}

/** The limit state of one endpoint. */
export class HttpLimits {
  readonly c: Required<ConnectionLimits>;
  readonly l: Required<SessionLimits>;
  private sockets = 0;
  private readonly socketsByClient = new Map<string, number>();
  private readonly sessionClient = new Map<string, string>();
  private readonly sessionsByClient = new Map<string, number>();
  private streams = 0;
  /** Sessions whose initialize is running. */
  private pending = 0;
  private bodyBytes = 0;
  private refusing: string | null = null;
  private readonly refused = { connections: 0, sessions: 0, streams: 0, subscriptions: 0, uriLength: 0, targetLength: 0, bodyBudget: 0 };

  constructor(
    private readonly clock: Clock,
    connections?: ConnectionLimits,
    limits?: SessionLimits,
  ) {
    const { c, l } = effectiveLimits(connections, limits);
    this.c = c;
    this.l = l;
  }

  /** Counts `server`'s sockets and refuses those beyond the caps (call before it listens). */
  attach(server: HttpServer): void {
    server.on('connection', this.onConnection);
  }

  private readonly onConnection = (socket: Socket): void => {
    const remote = socket.remoteAddress ?? '';
    const perClient = perClientOf(this.socketsByClient, remote);
    const reason = this.refusing !== null ? 'refuse_new' : this.sockets >= this.c.max ? 'max' : perClient >= this.c.maxPerClient ? 'per_client' : undefined;
    if (reason !== undefined) return this.refuseSocket(socket, reason);
    this.sockets++;
    this.socketsByClient.set(remote, perClient + 1);
    if (events.connection.hasSubscribers) events.connection.publish({ action: 'open' });
    socket.once('close', () => {
      this.sockets--;
      dec(this.socketsByClient, remote);
      if (events.connection.hasSubscribers) events.connection.publish({ action: 'close' });
    });
  };

  /**
   * A refused socket gets a minimal raw 503 and a FIN at once (no parsing, no handler), and is
   * destroyed when the client closes or after a second, whichever comes first.
   */
  private refuseSocket(socket: Socket, reason: 'max' | 'per_client' | 'refuse_new'): void {
    this.refused.connections++;
    (socket as unknown as Record<symbol, boolean>)[REFUSED] = true;
    if (events.connection.hasSubscribers) events.connection.publish({ action: 'refused', reason });
    const what =
      reason === 'max'
        ? `too many connections (connections.max = ${this.c.max})`
        : reason === 'per_client'
          ? `too many connections from this address (connections.maxPerClient = ${this.c.maxPerClient})`
          : `new connections are refused: ${this.refusing ?? ''}`;
    socket.on('error', () => {});
    // Refused by degradation (refuseNew): the node's state, ANDON_DEGRADED; else the connection caps.
    const code = reason === 'refuse_new' ? GuardianErrors.Degraded.code : LimitErrors.TooManyConnections.code;
    socket.end(raw503(`${code}: Service Unavailable: ${what}`));
    const t = this.clock.setTimeout(() => socket.destroy(), 1000);
    t.unref?.();
    socket.once('close', () => this.clock.clearTimeout(t));
  }

  private count(limit: LimitEvent['limit']): void {
    if (events.limit.hasSubscribers) events.limit.publish({ limit });
  }

  /** The refusal of a new session from `remote`, or undefined when it may open. */
  sessionRefusal(live: number, remote: string | undefined): AndonError | undefined {
    let message: string | undefined;
    let limit: LimitEvent['limit'] = 'sessions';
    // While refusing new connections (degradation), a new session on a kept-alive connection is
    // refused by the degradation stage of the pipeline (ANDON_DEGRADED, counted there), not here.
    if (live + this.pending >= this.l.maxSessions) {
      message = `Service Unavailable: too many sessions (limits.maxSessions = ${this.l.maxSessions})`;
    } else if (remote !== undefined && perClientOf(this.sessionsByClient, remote) >= this.l.maxSessionsPerClient) {
      message = `Service Unavailable: too many sessions from this address (limits.maxSessionsPerClient = ${this.l.maxSessionsPerClient})`;
      limit = 'sessions_per_client';
    }
    if (message === undefined) return undefined;
    this.refused.sessions++;
    this.count(limit);
    return new AndonError(LimitErrors.TooManySessions, message, { retryAfterMs: LIMIT_RETRY_AFTER_S * 1000, reason: limit });
  }

  /**
   * An admitted `initialize` holds its slot while it runs (so concurrent ones cannot overshoot
   * the caps); `sessionOpened` confirms it, `sessionFailed` gives it back.
   */
  sessionPending(id: string, remote: string | undefined): void {
    this.pending++;
    if (remote === undefined) return;
    this.sessionClient.set(id, remote);
    this.sessionsByClient.set(remote, perClientOf(this.sessionsByClient, remote) + 1);
  }

  sessionOpened(): void {
    this.pending--;
  }

  sessionFailed(id: string): void {
    this.pending--;
    this.sessionClosed(id);
  }

  sessionClosed(id: string): void {
    const remote = this.sessionClient.get(id);
    if (remote === undefined) return;
    this.sessionClient.delete(id);
    dec(this.sessionsByClient, remote);
  }

  /** The refusal of a new SSE stream, or undefined when one may open (`streamOpened` then counts it). */
  streamRefusal(): AndonError | undefined {
    if (this.streams < this.l.maxSseStreams) return undefined;
    this.refused.streams++;
    this.count('streams');
    return new AndonError(LimitErrors.TooManyStreams, `Service Unavailable: too many SSE streams (limits.maxSseStreams = ${this.l.maxSseStreams})`, { retryAfterMs: LIMIT_RETRY_AFTER_S * 1000 });
  }

  /** Counts an SSE response until its connection closes. */
  streamOpened(res: ServerResponse): void {
    this.streams++;
    res.once('close', () => this.streams--);
  }

  /** Opens a stream slot for `res` when under the cap; false (counted as refused) when not. */
  tryStream(res: ServerResponse): boolean {
    if (this.streamRefusal() !== undefined) return false;
    this.streamOpened(res);
    return true;
  }

  /** Reserves `n` body bytes; false (counted as refused) when that would pass the budget. */
  takeBody(n: number): boolean {
    if (this.bodyBytes + n > this.c.maxBufferedBodyBytes) {
      this.refused.bodyBudget++;
      this.count('body_budget');
      return false;
    }
    this.bodyBytes += n;
    return true;
  }

  giveBody(n: number): void {
    this.bodyBytes -= n;
  }

  /** Counts a request target over `maxUriLength` (answered 414). */
  targetRefused(): void {
    this.refused.targetLength++;
    this.count('target_length');
  }

  /** Counts a refusal of the admission stage (`limits`). */
  stageRefused(limit: 'subscriptions' | 'uri_length'): void {
    if (limit === 'subscriptions') this.refused.subscriptions++;
    else this.refused.uriLength++;
  }

  /** While set, new connections and new sessions are refused (503 + Retry-After); null lifts it. */
  refuseNew(reason: string | null): void {
    this.refusing = reason;
  }

  forget(): void {
    this.pending = 0;
    this.sessionClient.clear();
    this.sessionsByClient.clear();
  }

  snapshot(sessions: number): LimitsSnapshot {
    return {
      sockets: this.sockets,
      socketsMax: this.c.max,
      sessions,
      sessionsMax: this.l.maxSessions,
      sseStreams: this.streams,
      sseStreamsMax: this.l.maxSseStreams,
      bodyBytesInFlight: this.bodyBytes,
      bodyBytesMax: this.c.maxBufferedBodyBytes,
      refusingNew: this.refusing,
      refused: { ...this.refused },
    };
  }
}
