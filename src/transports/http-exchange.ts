/**
 * The per-request side of Streamable HTTP: one {@link HttpExchange} per request carries its
 * related messages (upgrading the response to SSE on first use) and writes its response, as JSON,
 * as an SSE stream, or as one SSE body when the answer comes within the turn.
 */
import type { ServerResponse } from 'node:http';
import { errorResponse, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse, type RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import type { Logger } from '../util/logger.js';
import type { Era } from '../protocol/versions.js';
import type { Exchange, RequestAbort } from '../server/context.js';
import type { Session } from '../server/session.js';
import type { EventStore } from './event-store.js';
import { SSE_HEADERS, SseStream, type SseOptions } from './sse.js';
import { httpRefusal } from '../admission/wire.js';

/** Per-handler state shared by every request's exchange. */
export interface ExchangeShared {
  mode: 'auto' | 'json' | 'sse';
  sseBase: Omit<SseOptions, 'prime' | 'headers'>;
  eventStore: EventStore;
  requestStreams: Map<string, { stream: SseStream; session: Session }>;
  nextStreamId(session: Session | undefined): string;
  /** Makes a session live after a successful initialize. */
  register(session: Session): void;
  /** An initialize that failed: its session never goes live (its limit slot is given back). */
  initFailed(session: Session): void;
  /** Takes an SSE stream slot for `res` (`limits.maxSseStreams`); false when none is free. */
  streamSlot(res: ServerResponse): boolean;
}

/**
 * One request's exchange: where its related messages go (an SSE response stream opened on first
 * use, or else the session's standalone stream) and how its response is written. One object per
 * request instead of half a dozen closures: this is the hot path.
 */
export class HttpExchange implements Exchange {
  private stream: SseStream | null = null;
  /** Set once the response is produced: a connection closing after that is not a cancellation. */
  done = false;
  /** `responseMode: 'sse'`: the stream opens at the end of the turn, unless the response comes first. */
  private deferred = false;
  /** Every SSE stream slot was taken when this exchange asked for one: it answers as JSON. */
  private noSlot = false;

  constructor(
    private readonly shared: ExchangeShared,
    private readonly res: ServerResponse,
    private readonly id: RequestId,
    private readonly era: Era,
    private readonly session: Session | undefined,
    readonly ac: RequestAbort,
    private readonly isInit: boolean,
  ) {}

  /** The transport's component name (`transport:http`), for the admission pipeline's halt stage. */
  get transport(): string {
    return 'http';
  }

  /** Schedules the SSE stream to open at the end of this event-loop turn (see `toOpen`). */
  deferOpen(): void {
    this.deferred = true;
    toOpen.push(this);
    toOpenCount++;
    openTimer ??= setImmediate(openDeferred);
  }

  /** @internal End of the turn: the handler is still running, so open the stream now. */
  openIfDeferred(): void {
    if (!this.deferred) return;
    this.deferred = false;
    this.openStream();
  }

  private undefer(): void {
    this.deferred = false;
    if (--toOpenCount === 0 && openTimer) {
      clearImmediate(openTimer);
      openTimer = undefined;
      toOpen = [];
    }
  }

  /**
   * Opens (once) the SSE stream this request's messages and response go to. Null when every SSE
   * stream slot is taken: the response stays JSON, related messages go to the session's GET stream.
   */
  openStream(): SseStream | null {
    if (this.deferred) this.undefer();
    let stream = this.stream;
    if (!stream) {
      const { shared, session, era } = this;
      if (this.noSlot || !shared.streamSlot(this.res)) {
        this.noSlot = true;
        return null;
      }
      const streamId = shared.nextStreamId(session);
      const prime = era === '2025' && session !== undefined && session.protocolVersion >= '2025-11-25';
      const headers = session ? { 'mcp-session-id': session.id } : undefined;
      stream = this.stream = new SseStream(streamId, this.res, { ...shared.sseBase, eventStore: era === '2025' ? shared.eventStore : undefined, prime, headers });
      if (era === '2025' && session) shared.requestStreams.set(streamId, { stream, session });
    }
    return stream;
  }

  /** A related message (progress, log, server→client request). An arrow: it is passed around as a Sink. */
  readonly send = (m: JsonRpcMessage): void => {
    if (this.shared.mode !== 'json' && !this.res.headersSent) this.openStream();
    if (this.stream) this.stream.send(m);
    else this.session?.standalone?.(m);
  };

  /** 2025 SSE polling: ends the response stream early while the request goes on. */
  closeStream(): void {
    if (this.era !== '2025' || this.shared.mode === 'json' || !this.session || this.isInit) return;
    if (!this.res.headersSent) this.openStream();
    this.stream?.close();
  }

  /** The whole SSE response at once: the priming event and the response, one write. */
  private sseOnce(response: JsonRpcResponse): void {
    const { res, session, era, shared } = this;
    const streamId = shared.nextStreamId(session);
    const store = era === '2025' ? shared.eventStore : undefined;
    const retry = shared.sseBase.retryMs;
    let text = '';
    if (era === '2025' && session !== undefined && session.protocolVersion >= '2025-11-25') {
      text = store ? `id: ${store.storeEvent(streamId, null)}\nretry: ${retry}\ndata: \n\n` : `retry: ${retry}\n\n`;
    }
    const id = store?.storeEvent(streamId, response);
    text += id ? `id: ${id}\nevent: message\ndata: ${JSON.stringify(response)}\n\n` : `event: message\ndata: ${JSON.stringify(response)}\n\n`;
    if (res.writableEnded || res.destroyed || res.headersSent) return;
    const length = String(Buffer.byteLength(text));
    res.writeHead(200, session ? { ...SSE_HEADERS, 'mcp-session-id': session.id, 'content-length': length } : { ...SSE_HEADERS, 'content-length': length });
    res.end(text);
  }

  /** Writes the response: the final SSE event, or one JSON body. */
  finish(response: JsonRpcResponse): void {
    this.done = true;
    const { res, era, session, shared } = this;
    if (this.isInit) {
      if (session && 'result' in response) shared.register(session);
      else if (session) shared.initFailed(session);
    } else if (era === '2025' && session) {
      session.inflight.delete(this.id);
    }
    // A catalogued refusal (503/429…) whose status line has not gone out yet is answered as JSON
    // with its status and Retry-After, in both eras; inside an open SSE stream the JSON-RPC
    // error's `data` carries the same facts.
    const refusal = 'error' in response && !res.headersSent ? httpRefusal(response.error) : undefined;
    if (this.deferred) {
      this.undefer();
      if (era === '2025' && this.ac.cancelledByClient) this.openStream();
      else if (refusal === undefined) return this.sseOnce(response);
    }
    const s = this.stream;
    // A request the client cancelled gets no response (2025 cancellation rule). HTTP still
    // needs an answer: the stream just ends, or a bodiless 202 closes a pending JSON reply.
    if (era === '2025' && this.ac.cancelledByClient) {
      if (s) {
        s.finish(null);
        shared.requestStreams.delete(s.streamId);
      } else if (!res.headersSent) res.writeHead(202, session ? { 'mcp-session-id': session.id } : undefined).end();
      return;
    }
    if (s) {
      s.finish(response);
      if (era === '2025') shared.requestStreams.delete(s.streamId);
      return;
    }
    if (res.writableEnded || res.destroyed) return;
    const body = JSON.stringify(response);
    if (refusal !== undefined) {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      // A refused initialize opened no session: it gets no session id.
      if (session && !this.isInit) headers['mcp-session-id'] = session.id;
      if (refusal.retryAfter !== undefined) headers['retry-after'] = refusal.retryAfter;
      if (refusal.wwwAuthenticate !== undefined) headers['www-authenticate'] = refusal.wwwAuthenticate;
      res.writeHead(refusal.status, headers).end(body);
      return;
    }
    const status = era === '2026' && 'error' in response ? statusOf(response.error.code) : 200;
    res.writeHead(
      status,
      session
        ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': session.id }
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    );
    res.end(body);
  }
}

/**
 * Exchanges in `responseMode: 'sse'` whose stream is not open yet. A handler that answers within
 * the event-loop turn that received its request never needs an SseStream: its events (priming
 * event and response, stored for resumption as always) go out as one SSE body with a
 * Content-Length. The others get their stream, headers and priming event at the end of the turn,
 * as before. One immediate serves them all and is cancelled when none is left.
 */
let toOpen: HttpExchange[] = [];
let toOpenCount = 0;
let openTimer: NodeJS.Immediate | undefined;

function openDeferred(): void {
  openTimer = undefined;
  const list = toOpen;
  toOpen = [];
  toOpenCount = 0;
  for (const x of list) x.openIfDeferred();
}

/** HTTP status for a 2026 error response: 404 unknown method, 400 client errors, 500 internal. */
function statusOf(code: number): number {
  if (code === ErrorCode.MethodNotFound) return 404;
  if (code === ErrorCode.InternalError) return 500;
  if (code === ErrorCode.Unavailable) return 503;
  return 400;
}

/**
 * `x.finish(response)`, except that a result which cannot be serialised (a BigInt, a cycle) costs
 * this response — a -32603 answer, or a cut connection once the stream started — and never the
 * process (a throw in a promise callback would be an unhandled rejection).
 */
export function finishSafely(x: HttpExchange, res: ServerResponse, request: JsonRpcRequest, response: JsonRpcResponse, log: Logger): void {
  try {
    x.finish(response);
  } catch (err) {
    log.error({ err, method: request.method }, 'response could not be written');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(errorResponse(request.id, new McpError(ErrorCode.InternalError, 'Internal error: the result could not be serialised')));
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
