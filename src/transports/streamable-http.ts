/**
 * Streamable HTTP on node:http, both eras from one endpoint. The era is chosen per message: a
 * request carrying `_meta["io.modelcontextprotocol/protocolVersion"]` (or `server/discover`, or a
 * 2026 `MCP-Protocol-Version` header) is served statelessly; everything else is the 2025 session
 * protocol. Responses are JSON unless the handler emits related messages first, in which case the
 * response upgrades to an SSE stream on the spot ("auto" mode).
 *
 * Hand-written on node:http (the hot path): the bench showed Web Request/Response conversion is
 * where most of the official SDK's cost goes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { decodeMessage, errorResponse, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { META, SESSION_VERSIONS, isStatelessVersion, type Era } from '../protocol/versions.js';
import { RequestAbort } from '../server/context.js';
import { Incoming, check2026Meta, check2026Version, type Listener, type McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import { MemoryEventStore, type EventStore } from './event-store.js';
import { DEFAULT_MAX_STREAM_BUFFER_BYTES, SseStream, type SseOptions } from './sse.js';
import { HttpExchange, finishSafely, type ExchangeShared } from './http-exchange.js';
import { acceptsJson, acceptsSse, eraOf, headerMismatch, paramHeaderMismatch } from './http-headers.js';
import { LOCAL_HOSTS, hostOriginRefusal } from './http-origin.js';
import type { HttpTransportOptions } from './http-options.js';
import { SessionAdopter } from './session-adopter.js';
import { pooledSessionId } from './session-id.js';
import type { Logger } from '../util/logger.js';
import type { Clock, Timer } from '../util/clock.js';
import { WireErrors } from '../errors/wire.js';
import { nullLogger } from '../util/logger.js';
import { channels } from '../runtime/events.js';
import { HTTP_STREAM_EXCHANGE, httpRefusalAnswer } from '../admission/wire.js';
import { HttpErrors } from '../errors/http.js';
import { HttpError, JSON_HEADERS, readBody, sendFailure, sendJson } from './http-body.js';
import { HttpLimits, LIMIT_RETRY_AFTER_S, REFUSED, type LimitsSnapshot } from './http-limits.js';
import { LimitErrors } from '../errors/limits.js';
import { limitsStage } from '../admission/stages/limits.js';

/** The Streamable HTTP request handler; mount it on any node:http server. */
export class StreamableHttpHandler {
  readonly sessions = new Map<string, Session>();
  private readonly path: string;
  private readonly maxBody: number;
  private readonly eventStore: EventStore;
  private readonly mode: 'auto' | 'json' | 'sse';
  private readonly sseBase: Omit<SseOptions, 'prime' | 'headers'>;
  private readonly allowedOrigins: string[] | '*';
  private readonly allowedHosts: string[] | '*';
  private readonly log: Logger;
  private readonly standaloneStreams = new Map<string, SseStream>();
  private readonly requestStreams = new Map<string, { stream: SseStream; session: Session }>();
  private readonly listenStreams = new Set<{ stream: SseStream; listener: Listener; requestId: JsonRpcRequest['id'] }>();
  private readonly sweeper: Timer;
  private readonly clock: Clock;
  private closing = false;
  /** Request stream ids `<session>-<nonce><counter>`: unique across restarts, cheaper than CSPRNG per request. */
  private readonly streamNonce = randomBytes(4).toString('hex');
  private streamSeq = 0;
  /** What every request's {@link HttpExchange} needs from the handler (built once). */
  private readonly shared: ExchangeShared;
  private accepting = true;
  private refuseReason = 'Service Unavailable';
  private readonly adopter: SessionAdopter | undefined;
  /** Connection and session limits; `attach(httpServer)` counts a server's sockets (serveHttp does). */
  readonly limits: HttpLimits;
  private readonly maxTarget: number;

  constructor(
    readonly server: McpServer,
    private readonly options: HttpTransportOptions = {},
  ) {
    this.path = options.path ?? '/mcp';
    this.maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
    this.eventStore = options.eventStore ?? new MemoryEventStore();
    this.mode = options.responseMode ?? 'auto';
    this.clock = options.clock ?? server.clock;
    this.sseBase = {
      eventStore: this.eventStore,
      retryMs: options.retryMs ?? 1000,
      keepAliveMs: options.keepAliveMs ?? 15_000,
      clock: this.clock,
      maxBufferBytes: options.maxStreamBufferBytes,
      onOverflow: (streamId, queuedBytes) =>
        this.log.warn({ code: WireErrors.SseBacklog.code, streamId, queuedBytes, limit: options.maxStreamBufferBytes ?? DEFAULT_MAX_STREAM_BUFFER_BYTES }, 'SSE stream dropped: the client is not reading (it can resume with Last-Event-ID)'),
    };
    this.allowedOrigins = options.allowedOrigins ?? [];
    this.allowedHosts = options.allowedHosts ?? LOCAL_HOSTS;
    this.log = options.logger ?? nullLogger;
    const idle = options.sessionIdleMs ?? 30 * 60_000;
    this.sweeper = this.clock.setInterval(() => this.sweep(idle), Math.min(idle, 60_000));
    this.sweeper.unref?.();
    this.adopter = options.loadSession && new SessionAdopter(options.loadSession, this.clock, (s) => this.sessions.has(s.id) || this.restoreSession(s), this.log, (def, msg) => new HttpError(def, msg, { 'retry-after': '1' }), this.eventStore, options.peekSession && { peek: options.peekSession, subscribe: (s, uri) => server.fanout.index(s, uri) });
    const limits = (this.limits = new HttpLimits(this.clock, options.connections, options.limits));
    this.maxTarget = limits.l.maxUriLength;
    server.use(limitsStage({ maxUriLength: limits.l.maxUriLength, maxSubscriptionsPerSession: limits.l.maxSubscriptionsPerSession, onRefused: (l) => limits.stageRefused(l) }));
    this.shared = {
      mode: this.mode,
      sseBase: this.sseBase,
      eventStore: this.eventStore,
      requestStreams: this.requestStreams,
      nextStreamId: (session) => `${session ? session.id : 'r'}-${this.streamNonce}${(++this.streamSeq).toString(36)}`,
      streamSlot: (res) => limits.tryStream(res),
      initFailed: (session) => limits.sessionFailed(session.id),
      register: (session) => {
        limits.sessionOpened();
        session.standalone = null;
        this.sessions.set(session.id, session);
        this.server.addSession(session);
      },
    };
  }

  /** node:http request listener. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A request parsed from a socket refused at connection time (already answered 503) is not served.
    if ((req.socket as unknown as Record<symbol, unknown>)[REFUSED] === true) return;
    // Shared store: a session made on another node is fetched first (session-adopter.ts).
    if (!this.adopter?.intercept(req, this.sessions, () => this.handle2(req, res), (err) => this.fail(res, err))) this.handle2(req, res);
  };

  private handle2(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.length > this.maxTarget) {
      this.limits.targetRefused();
      throw new HttpError(LimitErrors.TargetTooLong, `URI Too Long: the request target is ${url.length} characters, longer than the limit of ${this.maxTarget} (limits.maxUriLength)`);
    }
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname !== this.path) throw new HttpError(HttpErrors.NotFound, `Not found: ${pathname} (the MCP endpoint is ${this.path})`);
    this.checkHostAndOrigin(req);
    if (this.closing) throw new HttpError(HttpErrors.ShuttingDown, 'Server is shutting down', { 'retry-after': '5' });
    switch (req.method) {
      case 'POST':
        return this.post(req, res);
      case 'GET':
        return this.get(req, res);
      case 'DELETE':
        return this.delete(req, res);
      default:
        throw new HttpError(HttpErrors.MethodNotAllowed, `Method not allowed: ${req.method}`, { allow: 'GET, POST, DELETE' });
    }
  }

  private checkHostAndOrigin(req: IncomingMessage): void {
    const refusal = hostOriginRefusal(req, this.allowedHosts, this.allowedOrigins);
    if (refusal) throw new HttpError(refusal.def, refusal.message);
  }

  // ── POST ──

  private post(req: IncomingMessage, res: ServerResponse): void {
    const ct = req.headers['content-type'];
    if (!ct || !ct.toLowerCase().startsWith('application/json')) {
      throw new HttpError(HttpErrors.UnsupportedMediaType, `Unsupported Media Type: Content-Type must be application/json, got ${ct ?? 'none'}`);
    }
    const accept = req.headers.accept ?? '';
    if (!acceptsJson(accept) || !acceptsSse(accept)) {
      throw new HttpError(HttpErrors.NotAcceptable, 'Not Acceptable: Accept must list both application/json and text/event-stream');
    }
    readBody(req, res, this.maxBody, this.limits, (text) => {
      try {
        this.message(req, res, text);
      } catch (err) {
        this.fail(res, err);
      }
    });
  }

  private message(req: IncomingMessage, res: ServerResponse, text: string): void {
    const c = decodeMessage(text);
    if (c.kind === 'invalid') return this.send(res, 400, errorResponse(c.id, c.error));
    const msg = c.message;
    // Refusals (drain, halts, limits) are the admission stages' (in the server); responses and
    // notifications pass so in-flight work can finish.
    const era = eraOf(req, msg);
    if (era === '2026') return this.post2026(req, res, c.kind, msg);
    return this.post2025(req, res, c.kind, msg);
  }

  // ── 2026: stateless ──

  private post2026(req: IncomingMessage, res: ServerResponse, kind: 'request' | 'notification' | 'response', msg: JsonRpcMessage): void {
    if (kind !== 'request') {
      // Stateless: there is no session to route a response or a cancellation to; closing the
      // request stream is how a 2026 client cancels.
      res.writeHead(202).end();
      return;
    }
    const request = msg as JsonRpcRequest;
    // Validation order of the 2026 HTTP binding: header present, _meta complete, header = _meta,
    // version supported, routing headers, mirrored parameter headers.
    const hv = req.headers['mcp-protocol-version'];
    if (typeof hv !== 'string') return this.reject(res, request, new McpError(ErrorCode.HeaderMismatch, 'Header mismatch: MCP-Protocol-Version header is required on every 2026-07-28 request'));
    const metaError = check2026Meta(request.params);
    if (metaError) return this.reject(res, request, metaError);
    const bv = (request.params!._meta as Record<string, unknown>)[META.protocolVersion] as string;
    if (hv !== bv) return this.reject(res, request, new McpError(ErrorCode.HeaderMismatch, `Header mismatch: MCP-Protocol-Version header "${hv}" does not match _meta protocolVersion "${bv}"`));
    const versionError = check2026Version(bv);
    if (versionError) return this.reject(res, request, versionError);
    const mismatch = headerMismatch(req, request) ?? paramHeaderMismatch(req, request, this.server);
    if (mismatch) return this.reject(res, request, new McpError(ErrorCode.HeaderMismatch, mismatch));
    if (request.method === 'subscriptions/listen') {
      // A listen opens a stream, no handler: it passes the admission stages only.
      const inc = new Incoming(request, undefined, undefined, '2026', HTTP_STREAM_EXCHANGE, new RequestAbort(), req.headers);
      inc.remote = req.socket.remoteAddress;
      return void this.server.admission.admit(inc).then(
        () => {
          const refusal = this.limits.streamRefusal();
          if (refusal) return this.send(res, ...httpRefusalAnswer(request.id, refusal));
          this.limits.streamOpened(res);
          this.listen(res, request);
        },
        (err: unknown) => this.send(res, ...httpRefusalAnswer(request.id, err)),
      );
    }
    const x = this.dispatch(res, request, '2026', undefined, new RequestAbort());
    // Closing the stream is cancellation in 2026.
    res.on('close', () => {
      if (!x.done) x.ac.abort(new Error('client closed the request stream'));
    });
  }

  /** A 2026 request refused before dispatch: HTTP 400 with the JSON-RPC error. */
  private reject(res: ServerResponse, request: JsonRpcRequest, err: McpError): void {
    this.send(res, 400, errorResponse(request.id, err));
  }

  private listen(res: ServerResponse, request: JsonRpcRequest): void {
    const stream = new SseStream(`listen-${randomBytes(8).toString('hex')}`, res, { ...this.sseBase, eventStore: undefined, prime: false });
    const listener = this.server.openListener(request, (m) => stream.send(m));
    const entry = { stream, listener, requestId: request.id };
    this.listenStreams.add(entry);
    // A 2026 listen stream is that era's long-lived connection: count it like a session.
    if (channels.session.hasSubscribers) channels.session.publish({ action: 'open', era: '2026', transport: 'http' });
    stream.onDetach = () => {
      this.server.removeListener(listener);
      this.listenStreams.delete(entry);
      if (channels.session.hasSubscribers) channels.session.publish({ action: 'close', era: '2026', transport: 'http' });
    };
  }

  // ── 2025: sessions ──

  private post2025(req: IncomingMessage, res: ServerResponse, kind: 'request' | 'notification' | 'response', msg: JsonRpcMessage): void {
    if (kind === 'request' && (msg as JsonRpcRequest).method === 'initialize') {
      const refusal = this.limits.sessionRefusal(this.sessions.size, req.socket.remoteAddress);
      if (refusal) return this.send(res, ...httpRefusalAnswer((msg as JsonRpcRequest).id, refusal));
      const session = new Session(pooledSessionId(), this.clock.now());
      this.limits.sessionPending(session.id, req.socket.remoteAddress);
      this.dispatch(res, msg as JsonRpcRequest, '2025', session, new RequestAbort(), true);
      return;
    }
    const session = this.sessionOf(req);
    if (kind === 'response') {
      this.server.handleResponse(msg as never, session);
      res.writeHead(202).end();
      return;
    }
    if (kind === 'notification') {
      this.server.handleNotification(msg as never, session);
      res.writeHead(202).end();
      return;
    }
    const request = msg as JsonRpcRequest;
    const done = session.completed?.get(request.id);
    if (done) {
      // A retry of a journaled request (completed, or interrupted by a restart): answer with what
      // happened, never run it twice. The runtime's journal retires the record after its retention.
      return this.send(res, 200, done, { 'mcp-session-id': session.id });
    }
    if (session.inflight.has(request.id)) {
      return this.send(res, 200, errorResponse(request.id, new McpError(ErrorCode.InvalidRequest, `Invalid Request: request id ${JSON.stringify(request.id)} is already in flight in this session`)), { 'mcp-session-id': session.id });
    }
    const ac = new RequestAbort();
    session.inflight.set(request.id, ac);
    // Disconnect is not cancellation in 2025: the handler runs on, its result is kept for resumption.
    this.dispatch(res, request, '2025', session, ac);
  }

  /** Finds the session named by the request, enforcing the 2025 header rules. */
  private sessionOf(req: IncomingMessage): Session {
    const sid = req.headers['mcp-session-id'];
    if (typeof sid !== 'string' || sid.length === 0) {
      throw new HttpError(HttpErrors.SessionRequired, 'Bad Request: Mcp-Session-Id header is required (send initialize first to get one)');
    }
    const session = this.sessions.get(sid);
    if (!session) throw new HttpError(HttpErrors.SessionNotFound, `Session not found: ${sid} (it expired or was deleted; send initialize to start a new one)`);
    const pv = req.headers['mcp-protocol-version'];
    if (pv !== undefined && (typeof pv !== 'string' || !SESSION_VERSIONS.includes(pv))) {
      throw new HttpError(HttpErrors.UnsupportedProtocolVersion, `Bad Request: unsupported MCP-Protocol-Version "${String(pv)}" (supported: ${SESSION_VERSIONS.join(', ')})`);
    }
    session.lastActivity = this.clock.now();
    return session;
  }

  // ── dispatch and response ──

  /** Serves one request: its related messages and its response go through a new {@link HttpExchange}. */
  private dispatch(res: ServerResponse, request: JsonRpcRequest, era: Era, session: Session | undefined, ac: RequestAbort, isInit = false): HttpExchange {
    const x = new HttpExchange(this.shared, res, request.id, era, session, ac, isInit);
    if (this.mode === 'sse' && !isInit) x.deferOpen();
    const finish = (response: JsonRpcResponse) => finishSafely(x, res, request, response, this.log);
    const inc = new Incoming(request, session, era === '2025' ? session : undefined, era, x, ac, res.req.headers);
    inc.remote = res.req.socket.remoteAddress;
    this.server.handleRequest(inc).then(finish, (err: unknown) => finish(errorResponse(request.id, err)));
    return x;
  }

  // ── GET and DELETE ──

  private get(req: IncomingMessage, res: ServerResponse): void {
    const pv = req.headers['mcp-protocol-version'];
    if (typeof pv === 'string' && isStatelessVersion(pv)) {
      throw new HttpError(HttpErrors.MethodNotAllowed, 'Method Not Allowed: protocol 2026-07-28 has no GET stream; use subscriptions/listen', { allow: 'POST' });
    }
    if (!acceptsSse(req.headers.accept ?? '')) {
      throw new HttpError(HttpErrors.NotAcceptable, 'Not Acceptable: GET needs Accept: text/event-stream');
    }
    const session = this.sessionOf(req);
    if (!this.accepting) throw new HttpError(HttpErrors.NotAccepting, this.refuseReason, { 'retry-after': '5' });
    const refusal = this.limits.streamRefusal();
    if (refusal) throw new HttpError(LimitErrors.TooManyStreams, refusal.message, { 'retry-after': String(LIMIT_RETRY_AFTER_S) });
    this.limits.streamOpened(res);
    const headers = { 'mcp-session-id': session.id };
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId.length) {
      const streamId = lastEventId.slice(0, lastEventId.lastIndexOf('.'));
      if (!streamId.startsWith(session.id)) throw new HttpError(HttpErrors.UnknownLastEventId, `Unknown Last-Event-ID "${lastEventId}" for this session`);
      const target = this.requestStreams.get(streamId)?.stream ?? this.standaloneStreams.get(session.id);
      const replay = (write: (id: string, m: JsonRpcMessage) => void) => {
        const found = this.eventStore.replayEventsAfter(lastEventId, write);
        if (found === null) this.log.warn({ lastEventId }, 'replay requested for an unknown or expired event id');
      };
      if (target && target.streamId === streamId) {
        target.attach(res, replay);
        return;
      }
      if (streamId !== `${session.id}-standalone`) {
        // A request stream that already finished: replay what is left (its final response) and end.
        const s = new SseStream(streamId, res, { ...this.sseBase, eventStore: undefined, prime: false, headers });
        this.eventStore.replayEventsAfter(lastEventId, (id, m) => s.writeRaw(`id: ${id}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`));
        s.finish(null);
        return;
      }
      // The standalone stream is resumed even when this process never saw it (a restored session
      // after a restart): it opens again below, after replaying whatever events survived.
    }
    const existing = this.standaloneStreams.get(session.id);
    if (existing?.attached) throw new HttpError(HttpErrors.StreamConflict, 'Conflict: this session already has an open GET stream');
    const prime = session.protocolVersion >= '2025-11-25';
    const stream = new SseStream(`${session.id}-standalone`, res, { ...this.sseBase, prime, headers });
    if (typeof lastEventId === 'string' && lastEventId.length) {
      this.eventStore.replayEventsAfter(lastEventId, (id, m) => stream.writeRaw(`id: ${id}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`));
    }
    this.standaloneStreams.set(session.id, stream);
    session.standalone = (m) => stream.send(m);
    this.log.debug({ session: session.id, lastEventId }, 'GET stream attached');
    this.onStreamAttached?.(session.id);
  }

  /** Cluster: a GET stream opened here (other nodes release theirs). */
  onStreamAttached: ((sessionId: string) => void) | undefined;

  /** Cluster: another node now holds this session's GET stream. */
  releaseStream(sessionId: string): void {
    const s = this.standaloneStreams.get(sessionId);
    if (!s) return;
    this.log.debug({ session: sessionId }, 'GET stream released: another node holds it');
    this.standaloneStreams.delete(sessionId);
    s.close();
    const session = this.sessions.get(sessionId);
    if (session) session.standalone = null;
  }

  private delete(req: IncomingMessage, res: ServerResponse): void {
    const pv = req.headers['mcp-protocol-version'];
    if (typeof pv === 'string' && isStatelessVersion(pv)) {
      throw new HttpError(HttpErrors.MethodNotAllowed, 'Method Not Allowed: protocol 2026-07-28 has no sessions to delete', { allow: 'POST' });
    }
    const session = this.sessionOf(req);
    this.closeSession(session);
    // Answered once the deletion is durable (else a kill -9 restores it); a failed write is logged.
    Promise.resolve()
      .then(() => this.server.observer.sessionDeleted?.(session))
      .catch((err: unknown) => this.log.error({ err: String(err) }, 'session deletion not saved yet'))
      .finally(() => res.writeHead(200, JSON_HEADERS).end());
  }

  private closeSession(session: Session): void {
    this.sessions.delete(session.id);
    this.limits.sessionClosed(session.id);
    this.server.removeSession(session);
    const s = this.standaloneStreams.get(session.id);
    if (s) {
      s.close();
      this.standaloneStreams.delete(session.id);
      this.eventStore.deleteStream?.(s.streamId);
    }
  }

  private sweep(idleMs: number): void {
    const cutoff = this.clock.now() - idleMs;
    for (const s of this.sessions.values()) {
      if (s.lastActivity < cutoff && !this.standaloneStreams.get(s.id)?.attached && s.inflight.size === 0) this.closeSession(s);
    }
  }

  // ── helpers ──

  private send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    sendJson(res, status, body, headers);
  }

  private fail(res: ServerResponse, err: unknown): void {
    sendFailure(res, err, this.log);
  }

  /**
   * Stops (false) or resumes (true) accepting new work: requests are refused by the admission
   * pipeline's halt stage (`transport:http`, 503), GET streams here; in-flight work continues.
   */
  setAccepting(accepting: boolean, reason = 'Service Unavailable: the server is not accepting requests'): void {
    this.accepting = accepting;
    this.refuseReason = reason;
    this.server.halts.setComponent('transport:http', accepting ? null : reason, reason);
  }

  /**
   * Degradation: while a reason is set, new TCP connections (when `limits.attach`ed) and new
   * sessions are refused with 503 + Retry-After; existing sessions and streams keep working.
   */
  refuseNew(reason: string | null): void {
    this.limits.refuseNew(reason);
  }

  /** Sockets, sessions, streams and body bytes against their caps, and refusals so far. */
  limitsSnapshot(): LimitsSnapshot {
    return this.limits.snapshot(this.sessions.size);
  }

  get isAccepting(): boolean {
    return this.accepting && !this.closing;
  }

  /** Recreates a 2025 session saved before a restart: the client keeps its Mcp-Session-Id. */
  restoreSession(session: Session): void {
    session.initialized = true;
    session.lastActivity = this.clock.now();
    this.sessions.set(session.id, session);
    this.server.addSession(session);
  }

  /** Stops accepting, ends open streams (2026 listeners get their closing result), clears timers. */
  async close(): Promise<void> {
    this.closing = true;
    this.clock.clearInterval(this.sweeper);
    for (const { stream, listener } of this.listenStreams) stream.finish(this.server.listenerClosing(listener));
    this.listenStreams.clear();
    for (const s of this.standaloneStreams.values()) s.close();
    for (const { stream } of this.requestStreams.values()) stream.close();
    for (const s of this.sessions.values()) this.server.removeSession(s);
    this.sessions.clear();
    this.limits.forget();
  }
}

export type { HttpTransportOptions, ConnectionLimits, SessionLimits } from './http-options.js';
export type { LimitsSnapshot } from './http-limits.js';
// serveHttp lives in its own module; callers import it from here.
export { serveHttp, type ServeHttpOptions, type HttpEndpoint } from './serve-http.js';
