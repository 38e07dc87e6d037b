/**
 * The framing-independent core of a message transport: one peer that hands the server one JSON-RPC
 * message text at a time and gets messages back through a writer. stdio, TCP (newline-delimited),
 * WebSocket (one message a text frame) and the legacy HTTP+SSE transport (POST in, SSE out) all
 * frame differently and share this: decoding, the -32700/-32600 answers, responses and
 * notifications from the client, the era of each request (2025 session or 2026 `_meta`),
 * `subscriptions/listen`, duplicate ids, registering the session after `initialize`, and the
 * backstops that keep a bad message or a handler bug from escaping as an exception.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { decodeMessage, errorResponse, type Classified, type JsonRpcMessage, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { McpError } from '../protocol/errors.js';
import { META } from '../protocol/versions.js';
import { Incoming, check2026Meta, type Listener, type McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import { RequestAbort, type Exchange } from '../server/context.js';
import { refusalResponse } from '../admission/wire.js';
import { AndonError } from '../errors/catalogue.js';
import { LimitErrors } from '../errors/limits.js';

/**
 * Most 2026 `subscriptions/listen` streams open (or being admitted) on one connection. A listen
 * stays open until the client cancels it or the connection closes, holding its id and filter: a
 * client that never cancels (the fuzzer opened about one per 60 mutants) made a connection's
 * listens, and the memory they hold, grow without end. A client needs one listen per filter.
 */
export const MAX_LISTENS_PER_CONNECTION = 16;

/** The transports built on {@link MessageConnection}; `transport:<kind>` is the component that halts them. */
export type MessageTransportKind = 'stdio' | 'ws' | 'tcp' | 'sse';

/** The session's metrics label per transport kind (the `transport` of session events). */
const LABEL = { stdio: 'stdio', ws: 'websocket', tcp: 'tcp', sse: 'sse' } as const;

/** Options of {@link MessageConnection}. */
export interface MessageConnectionOptions {
  kind: MessageTransportKind;
  /** Sends one message to the peer (the transport frames it). */
  write: (message: JsonRpcMessage) => void;
  /** The peer's network address: `Incoming.remote`, the client identity before `initialize`. */
  remote?: string;
  /** Session id (the legacy SSE transport names it in the endpoint URL). Default a fresh one. */
  sessionId?: string;
  /**
   * Headers every request of the connection carries (`Incoming.headers`): a WebSocket's verified
   * bearer token, which the auth stage finds by this object (see ResourceServer.authenticateConnection).
   */
  headers?: IncomingHttpHeaders;
  /** Abort the peer's in-flight requests when the connection closes. Default true (stdio: false). */
  abortOnClose?: boolean;
}

/** One connected peer, whatever carries its messages. */
export class MessageConnection {
  /** The connection's peer state (also the 2025 session once initialized). */
  readonly session: Session;
  private readonly exchange: Exchange & { transport: MessageTransportKind };
  private readonly listeners = new Set<Listener>();
  private registered = false;
  private closedFlag = false;
  /** Sends to the peer; a listener's sink (made here, so that it keeps no request alive). */
  private readonly sink = (m: JsonRpcMessage): void => this.send(m);
  /** Listens open or being admitted (at most {@link MAX_LISTENS_PER_CONNECTION}). */
  private listening = 0;

  constructor(
    private readonly server: McpServer,
    private readonly opts: MessageConnectionOptions,
  ) {
    this.session = new Session(opts.sessionId, server.clock.now());
    this.session.transport = LABEL[opts.kind];
    // The exchange names the transport: the halt stage refuses by `transport:<kind>` (transportOf).
    this.exchange = { send: opts.write, transport: opts.kind };
  }

  /** Whether {@link close} ran. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Answers are dropped once the connection is closed, except on stdio (`abortOnClose: false`):
   * a client that writes its requests and closes stdin still reads every answer.
   */
  private get gone(): boolean {
    return this.closedFlag && (this.opts.abortOnClose ?? true);
  }

  /** Serves one message text. Never throws: a failure becomes one error answer. */
  receive(text: string): void {
    if (this.gone) return;
    try {
      this.serve(text);
    } catch (err) {
      this.send(errorResponse(null, err));
    }
  }

  /** Sends `m` to the peer, swallowing a transport that is already gone. */
  send(m: JsonRpcMessage): void {
    try {
      this.opts.write(m);
    } catch (err) {
      // A result that cannot be serialised (a BigInt, a cycle) throws in JSON.stringify.
      if ('id' in m && m.id !== undefined && ('result' in m || 'error' in m)) {
        this.opts.write(errorResponse(m.id, new McpError(-32603, 'Internal error: the result could not be serialised')));
        return;
      }
      throw err;
    }
  }

  private serve(text: string): void {
    if (text.trim().length === 0) return;
    this.dispatch(decodeMessage(text));
  }

  /**
   * Serves a message the transport decoded already (the legacy SSE POST answers a bad body itself);
   * `headers`: the POST's, when they carry its bearer token (instead of the connection's).
   */
  receiveDecoded(c: Classified, headers?: IncomingHttpHeaders): void {
    if (this.gone) return;
    try {
      this.dispatch(c, headers);
    } catch (err) {
      this.send(errorResponse(null, err));
    }
  }

  private dispatch(c: Classified, headers = this.opts.headers): void {
    if (c.kind === 'invalid') {
      this.send(errorResponse(c.id, c.error));
      return;
    }
    const { server, session } = this;
    if (c.kind === 'response') {
      server.handleResponse(c.message, session);
      return;
    }
    if (c.kind === 'notification') {
      server.handleNotification(c.message, session);
      return;
    }
    const request: JsonRpcRequest = c.message;
    const meta = request.params?._meta as Record<string, unknown> | undefined;
    const era = request.method === 'server/discover' || (meta !== undefined && META.protocolVersion in meta) ? '2026' : '2025';
    if (session.inflight.has(request.id)) {
      this.send(errorResponse(request.id, new McpError(-32600, `Invalid Request: request id ${JSON.stringify(request.id)} is already in flight`)));
      return;
    }
    if (era === '2026' && request.method === 'subscriptions/listen') return this.listen(request, headers);
    const ac = new RequestAbort();
    session.inflight.set(request.id, ac);
    const inc = new Incoming(request, session, era === '2025' ? session : undefined, era, this.exchange, ac, headers);
    if (this.opts.remote !== undefined) inc.remote = this.opts.remote;
    void server.handleRequest(inc).then(
      (response) => {
        session.inflight.delete(request.id);
        if (request.method === 'initialize' && 'result' in response && !this.registered && !this.closedFlag) {
          this.registered = true;
          session.standalone = (m) => this.send(m);
          server.addSession(session);
        }
        if (era === '2025' && ac.cancelledByClient) return;
        if (this.gone) return;
        this.send(response);
      },
      // handleRequest answers errors itself; this is the backstop that keeps a bug from becoming
      // an unhandled rejection (process exit) instead of one -32603 answer.
      (err: unknown) => {
        session.inflight.delete(request.id);
        if (!this.gone) this.send(errorResponse(request.id, err));
      },
    );
  }

  /**
   * 2026 `subscriptions/listen`: every listen shares the one connection; each is told apart by its
   * subscription id. The client ends one with notifications/cancelled naming the listen request's
   * id. A listen runs no handler: it passes the admission stages only.
   */
  private listen(request: JsonRpcRequest, headers: IncomingHttpHeaders | undefined): void {
    const err = check2026Meta(request.params);
    if (err) return this.send(errorResponse(request.id, err));
    if (this.listening >= MAX_LISTENS_PER_CONNECTION) {
      const refusal = new AndonError(LimitErrors.TooManyListens, `Invalid Request: this connection already has ${this.listening} subscriptions/listen streams open, the limit (${MAX_LISTENS_PER_CONNECTION}); cancel one first`, { limit: MAX_LISTENS_PER_CONNECTION });
      return this.send(errorResponse(request.id, refusal.toMcpError()));
    }
    this.listening++;
    const { server, session } = this;
    const ac = new AbortController();
    const inc = new Incoming(request, session, undefined, '2026', this.exchange, ac, headers);
    if (this.opts.remote !== undefined) inc.remote = this.opts.remote;
    server.admission.admit(inc).then(
      () => {
        if (this.gone) return void this.listening--;
        this.opened(request, ac);
      },
      (refused: unknown) => {
        this.listening--;
        if (!this.gone) this.send(refusalResponse(request.id, refused));
      },
    );
  }

  /** Keeps an admitted listen until the client cancels it: only its listener and id (not the request) stay referenced. */
  private opened(request: JsonRpcRequest, ac: AbortController): void {
    const { server, session } = this;
    const listener = server.openListener(request, this.sink);
    const id = listener.id;
    session.inflight.set(id, ac);
    this.listeners.add(listener);
    ac.signal.addEventListener('abort', () => {
      this.listening--;
      this.listeners.delete(listener);
      server.removeListener(listener);
      session.inflight.delete(id);
    });
  }

  /** The peer is gone: listeners and the session are removed; in-flight requests aborted (see `abortOnClose`). */
  close(reason = 'connection closed'): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const l of this.listeners) this.server.removeListener(l);
    this.listeners.clear();
    if (this.registered) this.server.removeSession(this.session);
    if (this.opts.abortOnClose ?? true) {
      this.session.abortAll(reason);
      this.session.rejectAll(reason);
    }
  }
}
