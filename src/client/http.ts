/**
 * Streamable HTTP for the client, both eras, on node:http with a keep-alive agent (connections are
 * reused across POSTs; a finished SSE stream hands its socket back to the pool).
 *
 * Every request is one POST whose answer is JSON or an SSE stream. On the 2025 wire a stream that
 * ends before its response is resumed with GET + `Last-Event-ID`, after the `retry` the server
 * asked for; on the 2026 wire a stream cannot be resumed (closing it is cancellation), so a cut
 * fails only the affected call. The 2025 standalone GET stream carries server→client messages
 * that belong to no request, and is re-opened with backoff when it drops.
 */
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ACCEPT_BOTH, NOT_DELIVERED, UNSAFE_TO_REPEAT, describe, isResponseTo, openHttpRequest, protocolHeader, type Exchange, type Opened } from './http-request.js';
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.js';
import { ClientError } from './errors.js';
import { readBody, readSseMessages, snippet, toClientError, tryJson } from './http-response.js';
import { backoffDelay, reconnectPolicy, type ReconnectOptions, type ReconnectPolicy } from './backoff.js';
import type { ClientTransport, SendContext, TransportSink } from './transport.js';
import { parseBearerChallenge, type OAuthFlow } from './oauth.js';

/** Options of {@link StreamableHttpTransport}. */
export interface StreamableHttpOptions {
  /** Extra headers on every HTTP request (e.g. `authorization`). Default none. */
  headers?: Record<string, string>;
  /** Reconnect policy for refused connections, stream resumption and the GET stream. */
  reconnect?: ReconnectOptions;
  /** Largest JSON response body read, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** An http(s) Agent to use instead of the transport's own keep-alive agent. */
  agent?: HttpAgent;
  /** OAuth: answers 401 and 403 `insufficient_scope` challenges and supplies the bearer token. Default none. */
  auth?: OAuthFlow;
  /** Time for reconnect backoff. Default {@link systemClock}. */
  clock?: Clock;
}

/** Streamable HTTP client transport. */
export class StreamableHttpTransport implements ClientTransport {
  private readonly clock: Clock;
  readonly kind = 'http' as const;
  readonly url: URL;
  /** The 2025 session id the server issued, if any. */
  sessionId: string | undefined;
  private sink!: TransportSink;
  private readonly policy: ReconnectPolicy;
  private readonly agent: HttpAgent;
  private readonly ownAgent: boolean;
  private readonly maxBody: number;
  private readonly exchanges = new Map<RequestId, Exchange>();
  private standalone: { active: boolean; lastEventId?: string; retryMs?: number; req?: ClientRequest; res?: IncomingMessage; timer?: Timer; headers: Record<string, string> } | undefined;
  private closed = false;
  /** The standalone stream was refused for lack of authorization: re-open it after authorizing. */
  private standaloneNeedsAuth: Record<string, string> | undefined;

  constructor(
    url: string | URL,
    private readonly options: StreamableHttpOptions = {},
  ) {
    this.url = new URL(url);
    this.policy = reconnectPolicy(options.reconnect);
    this.clock = options.clock ?? systemClock;
    this.maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.ownAgent = options.agent === undefined;
    this.agent = options.agent ?? (this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true }));
  }

  async start(sink: TransportSink): Promise<void> {
    this.sink = sink;
  }

  // ───────────────────────────── requests ─────────────────────────────

  sendRequest(request: JsonRpcRequest, ctx: SendContext): void {
    const ex: Exchange = {
      id: request.id,
      method: request.method,
      body: JSON.stringify(request),
      headers: ctx.headers ?? {},
      resumable: ctx.resumable ?? false,
      done: false,
      gotResponse: false,
      lastEventId: undefined,
      retryMs: undefined,
      resumeAttempts: 0,
      req: undefined,
      res: undefined,
      timer: undefined,
    };
    if (this.closed) {
      queueMicrotask(() => this.sink.requestFailed(request.id, new ClientError('NOT_CONNECTED', 'The HTTP transport is closed')));
      return;
    }
    this.exchanges.set(ex.id, ex);
    void this.post(ex).catch((err: unknown) => this.fail(ex, toClientError(err)));
  }

  async sendMessage(message: JsonRpcMessage, ctx: SendContext): Promise<void> {
    if (this.closed) throw new ClientError('NOT_CONNECTED', 'The HTTP transport is closed');
    let opened = await this.open('POST', this.url, await this.withAuth(this.headers(ctx.headers, true)), JSON.stringify(message), undefined);
    if (await this.challenged(opened, ctx.headers ?? {}, 0)) {
      opened = await this.open('POST', this.url, await this.withAuth(this.headers(ctx.headers, true)), JSON.stringify(message), undefined);
    }
    const { res, status } = opened;
    if (status >= 200 && status < 300) {
      // 202 is the norm; a body (some servers answer with {}) is drained so the socket is reused.
      res.resume();
      return;
    }
    const text = await readBody(res, 64 * 1024).catch(() => '');
    if (status === 404 && this.sessionId) throw new ClientError('SESSION_EXPIRED', 'The session expired (HTTP 404)', { status });
    throw new ClientError('HTTP_ERROR', `The server refused the ${describe(message)} with HTTP ${status}${snippet(text)}`, { status });
  }

  abandon(id: RequestId): void {
    const ex = this.exchanges.get(id);
    if (!ex) return;
    this.finish(ex);
    // After the response arrived the server ends the stream itself; leave it so the socket is reused.
    if (!ex.gotResponse) {
      ex.req?.destroy();
      ex.res?.destroy();
    }
  }

  private finish(ex: Exchange): void {
    ex.done = true;
    if (ex.timer) this.clock.clearTimeout(ex.timer);
    this.exchanges.delete(ex.id);
  }

  private fail(ex: Exchange, err: ClientError): void {
    if (ex.done) return;
    this.finish(ex);
    ex.req?.destroy();
    this.sink.requestFailed(ex.id, err);
  }

  private async post(ex: Exchange): Promise<void> {
    let attempt = 0;
    let authorizations = 0;
    let opened: Opened;
    for (;;) {
      try {
        opened = await this.open('POST', this.url, await this.withAuth(this.headers(ex.headers, true)), ex.body, ex);
        if (ex.done) {
          opened.res.destroy();
          return;
        }
        // 401 (or 403 insufficient_scope): authorize and send again; the server did not process it.
        if (await this.challenged(opened, ex.headers, authorizations, ex.id)) {
          authorizations++;
          if (ex.done) return;
          continue;
        }
        break;
      } catch (err) {
        if (ex.done) return;
        const code = (err as NodeJS.ErrnoException).code ?? '';
        // A reused keep-alive socket the server had just closed fails with ECONNRESET; Node's advice
        // is to retry on a fresh socket. The server may have seen the request, so only requests
        // that are safe to repeat are retried that way; a tool call is never sent twice.
        const reset = code === 'ECONNRESET' && (err as { reusedSocket?: boolean }).reusedSocket === true && !UNSAFE_TO_REPEAT.has(ex.method);
        const retriable = NOT_DELIVERED.has(code) || reset;
        if (err instanceof ClientError) throw err;
        if (!retriable || ++attempt > this.policy.maxAttempts) {
          if (NOT_DELIVERED.has(code)) throw err;
          throw new ClientError('CONNECTION_CLOSED', `The connection closed before the server answered ${ex.method}: ${(err as Error).message}`, { cause: err });
        }
        const delay = code === 'ECONNRESET' ? 0 : backoffDelay(this.policy, attempt);
        this.sink.deliveryFailing?.(ex.id, toClientError(err));
        this.sink.event('reconnect', { reason: code, attempt, delayMs: delay, requestId: ex.id });
        await this.sleep(ex, delay);
        if (ex.done) return;
      }
    }
    if (attempt > 0) this.sink.deliveryFailing?.(ex.id, undefined);
    await this.consume(ex, opened);
  }

  /** Reads one HTTP response that answers (or resumes) a request. */
  private async consume(ex: Exchange, { res, status, headers }: Opened): Promise<void> {
    if (ex.done) {
      res.destroy();
      return;
    }
    ex.res = res;
    const ct = String(headers['content-type'] ?? '').toLowerCase();
    if (status === 202 || status === 204) {
      // No body for a request: the answer will come on the standalone stream (some servers do this).
      res.resume();
      return;
    }
    if (status >= 200 && status < 300 && ct.startsWith('text/event-stream')) {
      await this.readStream(ex, res);
      if (ex.done || ex.gotResponse) {
        this.finish(ex);
        return;
      }
      return this.resume(ex, 'the response stream ended before the response');
    }
    if (status >= 200 && status < 300) {
      let text: string;
      try {
        text = await readBody(res, this.maxBody);
      } catch (err) {
        if (ex.done) return;
        throw err;
      }
      if (ex.done) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        this.finish(ex);
        this.sink.malformed(`HTTP ${status} body is not JSON: ${(err as Error).message}${snippet(text)}`, ex.id);
        return;
      }
      ex.gotResponse = true;
      this.finish(ex);
      this.sink.message(value, ex.id, true);
      return;
    }
    const text = await readBody(res, 256 * 1024).catch(() => '');
    if (ex.done) return;
    if (status === 404 && this.sessionId) {
      return this.fail(ex, new ClientError('SESSION_EXPIRED', `The session ${this.sessionId} is gone (HTTP 404)`, { status }));
    }
    // A JSON-RPC error response for this request (2026 sends -32022 or -32601 with 400/404) is an
    // answer like any other; anything else becomes an HTTP_ERROR on this call.
    const value = tryJson(text);
    if (value && typeof value === 'object' && (value as { id?: unknown }).id === ex.id && 'error' in (value as object)) {
      ex.gotResponse = true;
      this.finish(ex);
      this.sink.message(value, ex.id, true);
      return;
    }
    const msg = (value as { error?: { message?: unknown } } | undefined)?.error?.message;
    this.fail(ex, new ClientError('HTTP_ERROR', `HTTP ${status}${typeof msg === 'string' ? `: ${msg}` : snippet(text)}`, { status, details: { body: text.slice(0, 2000) } }));
  }

  /**
   * Pipes SSE events of a response into the core. Resolves when the stream ends or, for a resumed
   * GET, as soon as the response arrived: such a stream is then closed, since nothing else belongs
   * to it and some servers keep it open.
   */
  private readStream(ex: Exchange, res: IncomingMessage, resumed = false): Promise<void> {
    return new Promise((resolve) => {
      readSseMessages(res, ex, {
        message: (value) => {
          const isAnswer = isResponseTo(value, ex.id);
          if (isAnswer) ex.gotResponse = true;
          this.sink.message(value, ex.id);
          if (isAnswer && resumed) {
            res.destroy();
            resolve();
          }
        },
        malformed: (why) => this.sink.malformed(`SSE event is not JSON: ${why}`, ex.id),
        end: (delivered) => {
          if (delivered) ex.resumeAttempts = 0;
          resolve();
        },
      });
    });
  }

  /** Resumes a cut 2025 stream with GET + Last-Event-ID, honouring the server's `retry`. */
  private async resume(ex: Exchange, why: string): Promise<void> {
    if (!ex.resumable || ex.lastEventId === undefined) {
      return this.fail(ex, new ClientError('STREAM_CLOSED', `The server closed the stream of request ${String(ex.id)}: ${why}, and the stream cannot be resumed`));
    }
    for (;;) {
      if (ex.done) return;
      ex.resumeAttempts++;
      if (ex.resumeAttempts > this.policy.maxAttempts + 1) {
        return this.fail(ex, new ClientError('STREAM_CLOSED', `Gave up resuming the stream of request ${String(ex.id)} after ${ex.resumeAttempts - 1} attempts`));
      }
      // The first reconnect waits exactly what the server asked (MUST wait at least `retry`);
      // further attempts back off on top of it.
      const delay = ex.resumeAttempts === 1 && ex.retryMs !== undefined ? ex.retryMs : backoffDelay(this.policy, ex.resumeAttempts, ex.retryMs ?? 0);
      this.sink.event('reconnect', { reason: 'stream-resume', attempt: ex.resumeAttempts, delayMs: delay, requestId: ex.id, lastEventId: ex.lastEventId });
      await this.sleep(ex, delay);
      if (ex.done) return;
      let opened: Opened;
      try {
        opened = await this.open('GET', this.url, await this.withAuth(this.headers({ ...protocolHeader(ex.headers), 'last-event-id': ex.lastEventId }, false), 'GET'), undefined, ex);
        if (await this.challenged(opened, ex.headers, ex.resumeAttempts - 1, ex.id)) continue;
      } catch (err) {
        if (ex.done) return;
        if (err instanceof ClientError && err.code === 'UNAUTHORIZED') return this.fail(ex, err);
        continue;
      }
      const { status, res, headers } = opened;
      if (status === 200 && String(headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream')) {
        ex.res = res;
        await this.readStream(ex, res, true);
        if (ex.done || ex.gotResponse) {
          this.finish(ex);
          return;
        }
        continue;
      }
      res.resume();
      if (status === 405) return this.fail(ex, new ClientError('STREAM_CLOSED', 'The stream was cut and the server does not support resumption (GET answered 405)', { status }));
      if (status === 404 && this.sessionId) return this.fail(ex, new ClientError('SESSION_EXPIRED', `The session ${this.sessionId} is gone (HTTP 404 on resume)`, { status }));
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return this.fail(ex, new ClientError('STREAM_CLOSED', `Resuming the stream failed with HTTP ${status}`, { status }));
      }
    }
  }

  private sleep(ex: Exchange | undefined, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(resolve, ms);
      if (ex) ex.timer = t;
    });
  }

  // ───────────────────────────── standalone GET stream (2025) ─────────────────────────────

  /** Opens the 2025 server→client stream; a 405 means the server offers none, which is fine. */
  openStandaloneStream(headers: Record<string, string>): void {
    if (this.closed || this.standalone?.active) return;
    const st = { active: true, headers } as NonNullable<typeof this.standalone>;
    this.standalone = st;
    void this.runStandalone(st);
  }

  /** Closes the standalone stream (before re-initializing or closing). */
  closeStandaloneStream(): void {
    const st = this.standalone;
    if (!st) return;
    st.active = false;
    if (st.timer) this.clock.clearTimeout(st.timer);
    st.req?.destroy();
    st.res?.destroy();
    this.standalone = undefined;
  }

  private async runStandalone(st: NonNullable<typeof this.standalone>): Promise<void> {
    let failures = 0;
    while (st.active && !this.closed) {
      let opened: Opened | undefined;
      try {
        const headers = await this.withAuth(this.headers(st.lastEventId ? { ...st.headers, 'last-event-id': st.lastEventId } : st.headers, false), 'GET');
        opened = await this.open('GET', this.url, headers, undefined, st);
      } catch {
        opened = undefined;
        if (!st.active) return;
        failures++;
      }
      if (opened) {
        const { status, res, headers } = opened;
        if (status === 200 && String(headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream')) {
          st.res = res;
          const delivered = await this.readStandalone(st, res);
          if (delivered) failures = 0;
          else failures++;
        } else {
          res.resume();
          // Authorization is started by requests, never by this background stream: it waits for a
          // token and is re-opened once one is held.
          if ((status === 401 || status === 403) && this.options.auth) {
            this.standaloneNeedsAuth = st.headers;
            st.active = false;
            if (this.standalone === st) this.standalone = undefined;
            return;
          }
          // 405: no standalone stream on this server. 404/400: no session for it (stateless server).
          // 409: another GET stream is already open. None of these gets better by retrying.
          if (status === 405 || status === 404 || status === 400 || status === 409 || status === 406 || status === 401 || status === 403) {
            st.active = false;
            return;
          }
          failures++;
        }
      }
      if (!st.active || this.closed) return;
      if (failures > this.policy.maxAttempts) {
        this.sink.event('warning', { code: 'STANDALONE_STREAM_LOST', message: `Gave up re-opening the server→client stream after ${failures} failed attempts` });
        st.active = false;
        return;
      }
      const delay = backoffDelay(this.policy, Math.max(1, failures), st.retryMs ?? 0);
      this.sink.event('reconnect', { reason: 'standalone-stream', attempt: failures, delayMs: delay, lastEventId: st.lastEventId });
      await new Promise<void>((resolve) => {
        st.timer = this.clock.setTimeout(resolve, delay);
      });
    }
  }

  private readStandalone(st: NonNullable<typeof this.standalone>, res: IncomingMessage): Promise<boolean> {
    return new Promise((resolve) => {
      readSseMessages(res, st, {
        message: (value) => this.sink.message(value),
        malformed: (why) => this.sink.malformed(`SSE event on the standalone stream is not JSON: ${why}`),
        end: resolve,
      });
    });
  }

  // ───────────────────────────── session ─────────────────────────────

  /** Forgets the 2025 session (after a 404) so the next initialize starts a new one. */
  resetSession(): void {
    this.closeStandaloneStream();
    this.sessionId = undefined;
  }

  /** DELETEs the 2025 session, best effort, bounded to `timeoutMs`. */
  async terminateSession(headers: Record<string, string>, timeoutMs = 2000): Promise<void> {
    if (!this.sessionId) return;
    const holder: { req?: ClientRequest } = {};
    const timer = setTimeout(() => holder.req?.destroy(), timeoutMs);
    try {
      const { res } = await this.open('DELETE', this.url, this.headers(headers, false), undefined, holder);
      res.resume();
    } catch {
      // The session ends on the server's idle timer anyway.
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeStandaloneStream();
    for (const ex of [...this.exchanges.values()]) {
      this.fail(ex, new ClientError('CONNECTION_CLOSED', 'The client was closed'));
      ex.res?.destroy();
    }
    if (this.ownAgent) this.agent.destroy();
  }

  // ───────────────────────────── authorization ─────────────────────────────

  private async withAuth(h: Record<string, string>, method = 'POST'): Promise<Record<string, string>> {
    const auth = this.options.auth;
    if (!auth) return h;
    return { ...h, ...(await auth.headers(method, this.url)) };
  }

  /**
   * Handles an authorization challenge in a response. Returns true when a new token was obtained
   * and the request should be sent again; false when the response is not a challenge. Throws
   * UNAUTHORIZED when the challenge cannot be met.
   */
  private async challenged(opened: Opened, reqHeaders: Record<string, string>, authorizations: number, forId?: RequestId): Promise<boolean> {
    const { status, headers, res } = opened;
    if (status !== 401 && status !== 403) return false;
    const challenge = parseBearerChallenge(headers['www-authenticate']);
    if (status === 403 && challenge.error !== 'insufficient_scope') return false;
    res.resume();
    const auth = this.options.auth;
    // RFC 9449 §9: the server wants a nonce in the DPoP proof. Not a new authorization: retry with it.
    const nonce = headers['dpop-nonce'];
    if (auth && status === 401 && challenge.error === 'use_dpop_nonce' && typeof nonce === 'string' && authorizations < auth.maxAuthorizations) {
      auth.setResourceNonce(nonce);
      return true;
    }
    if (!auth) {
      throw new ClientError('UNAUTHORIZED', `The server requires authorization (HTTP ${status}${headers['www-authenticate'] ? `, ${String(headers['www-authenticate'])}` : ''}); pass the oauth option or an authorization header`, { status });
    }
    if (authorizations >= auth.maxAuthorizations) {
      throw new ClientError('UNAUTHORIZED', `Still HTTP ${status} after ${authorizations} authorizations${challenge.scope ? ` (the server wants scope "${challenge.scope}")` : ''}; giving up`, { status });
    }
    if (forId !== undefined) this.sink.authorizing?.(forId, true);
    try {
      await auth.handleChallenge(this.url, status, challenge, reqHeaders['mcp-protocol-version']);
    } finally {
      if (forId !== undefined) this.sink.authorizing?.(forId, false);
    }
    const pending = this.standaloneNeedsAuth;
    if (pending && auth.authorized) {
      this.standaloneNeedsAuth = undefined;
      this.openStandaloneStream(pending);
    }
    return true;
  }

  // ───────────────────────────── plumbing ─────────────────────────────

  private headers(extra: Record<string, string> | undefined, post: boolean): Record<string, string> {
    const h: Record<string, string> = post ? { 'content-type': 'application/json', accept: ACCEPT_BOTH } : { accept: 'text/event-stream' };
    Object.assign(h, this.options.headers, extra);
    if (this.sessionId !== undefined) h['mcp-session-id'] = this.sessionId;
    return h;
  }

  /** Sends one HTTP request and resolves when the response headers arrive (noting the session id). */
  private open(method: string, url: URL, headers: Record<string, string>, body: string | undefined, holder: { req?: ClientRequest } | undefined): Promise<Opened> {
    return openHttpRequest(method, url, headers, body, this.agent, holder, (sid) => {
      if (method !== 'DELETE') this.sessionId = sid;
    });
  }
}
