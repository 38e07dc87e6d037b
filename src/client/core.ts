/**
 * The base of the client: the connection state and the request/response machinery — one JSON-RPC
 * request and its response with timeouts, progress and cancellation, the bookkeeping of requests in
 * flight, and the routing of what the transport delivers. What the messages mean is left to the
 * layers above (client.ts lists them).
 *
 * A timeout, an abort, a malformed or wrong-typed answer, a cut stream or a dead process settles
 * the one pending request it concerns, exactly once (`settle`), with a typed error.
 */
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { EventEmitter } from 'node:events';
import { classify, type JsonRpcNotification, type JsonRpcRequest, type RequestId } from '../protocol/jsonrpc.js';
import { McpError } from '../protocol/errors.js';
import { META, V2026_07_28, type Era } from '../protocol/versions.js';
import type { Validator } from '../protocol/schema.js';
import type { ClientCapabilities, LoggingLevel } from '../protocol/types.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { ClientError } from './errors.js';
import { requestHeaders2026, type HeaderParams } from './headers.js';
import type { ClientTransport, SendContext, TransportSink } from './transport.js';
import { DEFAULT_INFO, type ClientEvents, type ClientOptions, type ClientTarget } from './options.js';
import type { Progress, RequestOptions, RootsProvider, SubscriptionNotification, Tool } from './types.js';
import { abortError } from './util.js';

/** One request in flight: its promise, its clocks and what to do with its progress and notifications. */
export interface Pending {
  id: RequestId;
  method: string;
  message: JsonRpcRequest;
  ctx: SendContext;
  resolve: (r: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  idle: Timer | undefined;
  total: Timer | undefined;
  idleMs: number;
  resetOnProgress: boolean;
  progressToken: RequestId | undefined;
  onProgress: ((p: Progress) => void) | undefined;
  cleanup: () => void;
  sessionRetried: boolean;
  /** 2026 listen streams: notifications tagged with this request's id. */
  onSubscription?: (n: SubscriptionNotification) => void;
  /** Set while the transport cannot deliver the request (connection refused, retrying). */
  undelivered?: ClientError;
  /** The timeouts to restart after a pause; undefined for requests without timeouts. */
  timers?: { idleMs: number; totalMs: number };
}

/** What `listTools` learned about a tool: its header parameters (2026) and its output validator. */
export interface CachedTool {
  tool: Tool;
  headerParams: HeaderParams;
  validateOutput: Validator | undefined;
}

/** The first layer of the client (McpClient): the connection state and the request machinery. */
export abstract class ClientCore extends EventEmitter<ClientEvents> {
  // State that more than one layer reads; what only one layer uses is declared there.
  protected transport: ClientTransport | undefined;
  protected readonly options: ClientOptions;
  /** Time for request timeouts (and the transports' backoff). */
  protected readonly clock: Clock;
  protected readonly target: ClientTarget;
  protected readonly log: Logger;
  protected state: 'idle' | 'connecting' | 'connected' | 'closed' = 'idle';
  protected connecting: Promise<this> | undefined;
  protected closedError: ClientError | undefined;
  private nextId = 1;
  protected readonly pending = new Map<RequestId, Pending>();
  protected readonly byProgressToken = new Map<RequestId, Pending>();
  protected readonly serverRequests = new Map<RequestId, AbortController>();
  protected era_: Era | undefined;
  protected version: string | undefined;
  protected logLevel: LoggingLevel | undefined;
  protected rootsProvider: RootsProvider | undefined;
  protected toolCache: Map<string, CachedTool> | undefined;

  constructor(target: ClientTarget, options: ClientOptions = {}) {
    super();
    this.target = target;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? nullLogger;
    this.logLevel = options.logLevel;
    this.rootsProvider = options.roots;
  }

  // ───────────────────────────── left to the layers above ─────────────────────────────

  /** The capabilities this client declares, from the handlers it was given (ClientInbound). */
  protected abstract capabilities(era: Era, version: string, declareTasks?: boolean): ClientCapabilities;

  /** A notification from the server (ClientInbound). */
  protected abstract onNotification(msg: JsonRpcNotification): void;

  /** A request from the server (ClientInbound). */
  protected abstract onServerRequest(msg: JsonRpcRequest): Promise<void>;

  /** A new 2025 session after the old one expired (ClientLifecycle). */
  protected abstract reinitialize(): Promise<void>;

  // ───────────────────────────── the wire ─────────────────────────────

  protected sink(): TransportSink {
    return {
      message: (value, forRequest, final) => {
        this.onMessage(value, forRequest);
        // A JSON body that did not answer its request: nothing else will, so fail it now.
        const p = final && forRequest !== undefined ? this.pending.get(forRequest) : undefined;
        if (p) this.settle(p, new ClientError('INVALID_RESULT', `The HTTP response to ${p.method} is not its JSON-RPC response`, { details: { body: value } }));
      },
      malformed: (detail, forRequest) => {
        const p = forRequest === undefined ? undefined : this.pending.get(forRequest);
        if (p) this.settle(p, new ClientError('MALFORMED_RESPONSE', `Malformed response to ${p.method}: ${detail}`));
        else this.warn('MALFORMED_MESSAGE', detail);
      },
      requestFailed: (id, err) => this.onRequestFailed(id, err),
      deliveryFailing: (id, err) => {
        const p = this.pending.get(id);
        if (p) p.undelivered = err;
      },
      authorizing: (id, active) => {
        const p = this.pending.get(id);
        if (p) this.pauseTimers(p, active);
      },
      closed: (err) => this.onClosed(err),
      event: (name, detail) => {
        if (name === 'reconnect') this.emit('reconnect', detail);
        else if (name === 'stderr') this.emit('stderr', String(detail.text ?? ''));
        else this.warn(String(detail.code ?? 'TRANSPORT'), String(detail.message ?? ''), detail);
      },
    };
  }

  protected warn(code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.log.warn({ code, ...extra }, message);
    this.emit('warning', { ...extra, code, message });
  }

  private onMessage(value: unknown, forRequest: RequestId | undefined): void {
    const c = classify(value);
    switch (c.kind) {
      case 'response': {
        const msg = c.message;
        const id = msg.id;
        const p = id === undefined || id === null ? undefined : this.pending.get(id);
        if (!p) {
          // An error without an id answering a request's own stream (e.g. -32700 on that POST).
          const q = (id === undefined || id === null) && forRequest !== undefined ? this.pending.get(forRequest) : undefined;
          if (q && 'error' in msg) {
            this.settle(q, new McpError(msg.error.code, msg.error.message, msg.error.data));
            return;
          }
          this.warn('UNKNOWN_RESPONSE_ID', `Ignored a response for an unknown request id ${JSON.stringify(id)}`, { id });
          return;
        }
        if ('error' in msg) this.settle(p, new McpError(msg.error.code, msg.error.message, msg.error.data));
        else this.settle(p, undefined, msg.result);
        return;
      }
      case 'invalid': {
        // Only an invalid message naming a pending id is pinned on that call; an id-less one on a
        // stream (e.g. a replayed `{}` priming event) is ignored with a warning.
        const target = c.id !== null ? this.pending.get(c.id) : undefined;
        if (target) this.settle(target, new ClientError('INVALID_RESULT', `Invalid response to ${target.method}: ${c.error.message}`));
        else this.warn('INVALID_MESSAGE', `Ignored an invalid message: ${c.error.message}`);
        return;
      }
      case 'request':
        void this.onServerRequest(c.message);
        return;
      case 'notification':
        this.onNotification(c.message);
        return;
    }
  }

  private onRequestFailed(id: RequestId, err: ClientError): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (err.code === 'SESSION_EXPIRED' && this.era_ === '2025' && p.method !== 'initialize' && !p.sessionRetried && this.state !== 'closed') {
      p.sessionRetried = true;
      this.reinitialize().then(
        () => {
          if (!this.pending.has(id)) return;
          const ctx = this.sendCtx(p.message.method, p.message.params ?? {});
          p.ctx = ctx;
          this.transport!.sendRequest(p.message, ctx);
        },
        (e: unknown) => this.settle(p, new ClientError('SESSION_EXPIRED', `The session expired and re-initializing failed: ${(e as Error).message}`, { cause: e })),
      );
      return;
    }
    this.settle(p, err);
  }

  private onClosed(err: ClientError): void {
    if (this.state === 'closed' && this.closedError) return;
    this.closedError = err;
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    for (const p of [...this.pending.values()]) this.settle(p, err);
    for (const ac of this.serverRequests.values()) ac.abort(err);
    if (wasOpen) this.emit('close', { error: err });
  }

  /** Completes a pending request exactly once, clearing its timers and listeners. */
  protected settle(p: Pending, err: Error | undefined, result?: Record<string, unknown>): void {
    if (!this.pending.delete(p.id)) return;
    p.cleanup();
    if (err) p.reject(err);
    else p.resolve(result!);
  }

  /** Headers and flags for the next message, from the era in use. */
  protected sendCtx(method?: string, params?: Record<string, unknown>, override?: { era: Era; version: string }): SendContext {
    const era = override?.era ?? this.era_;
    const version = override?.version ?? this.version;
    if (!version || !era) return {};
    if (era === '2026') {
      if (!method) return { headers: { 'mcp-protocol-version': version } };
      const headerParams = method === 'tools/call' ? this.toolCache?.get(String(params?.name))?.headerParams : undefined;
      return { headers: requestHeaders2026(version, method, params ?? {}, headerParams), resumable: false };
    }
    // initialize goes out before a version is agreed, so it carries no version header.
    if (method === 'initialize') return { resumable: true };
    return { headers: { 'mcp-protocol-version': version }, resumable: true };
  }

  /**
   * One JSON-RPC request and its response, with timeouts, progress and cancellation. No
   * multi-round handling: see {@link request}.
   */
  protected roundTrip(method: string, params: Record<string, unknown>, opts: RequestOptions & { noTimeout?: boolean; onSubscription?: (n: SubscriptionNotification) => void; onId?: (id: RequestId) => void }, override?: { era: Era; version: string }): Promise<Record<string, unknown>> {
    const transport = this.transport;
    if (!transport || (this.state !== 'connected' && this.state !== 'connecting')) {
      return Promise.reject(this.closedError ?? new ClientError('NOT_CONNECTED', `Cannot send ${method}: the client is not connected`));
    }
    if (opts.signal?.aborted) return Promise.reject(abortError(method, opts.signal));
    const era = override?.era ?? this.era_ ?? '2026';
    const version = override?.version ?? this.version ?? V2026_07_28;
    const id = this.nextId++;
    opts.onId?.(id);
    const p2: Record<string, unknown> = { ...params };
    const meta: Record<string, unknown> = { ...(params._meta as Record<string, unknown> | undefined), ...opts.meta };
    if (opts.onProgress) meta.progressToken = id;
    if (era === '2026') {
      meta[META.protocolVersion] = version;
      meta[META.clientCapabilities] = this.capabilities('2026', version, (opts as { declareTasks?: boolean }).declareTasks === true);
      meta[META.clientInfo] = this.options.clientInfo ?? DEFAULT_INFO;
      if (this.logLevel) meta[META.logLevel] = this.logLevel;
    }
    if (Object.keys(meta).length) p2._meta = meta;
    else delete p2._meta;
    const message: JsonRpcRequest = Object.keys(p2).length ? { jsonrpc: '2.0', id, method, params: p2 } : { jsonrpc: '2.0', id, method };
    const ctx = this.sendCtx(method, p2, { era, version });
    const idleMs = opts.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const totalMs = opts.maxTotalTimeoutMs ?? this.options.maxTotalTimeoutMs ?? 600_000;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        id,
        method,
        message,
        ctx,
        resolve,
        reject,
        idle: undefined,
        total: undefined,
        idleMs,
        resetOnProgress: opts.resetTimeoutOnProgress ?? this.options.resetTimeoutOnProgress ?? true,
        progressToken: opts.onProgress ? id : undefined,
        onProgress: opts.onProgress,
        sessionRetried: false,
        onSubscription: opts.onSubscription,
        cleanup: () => {},
      };
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this.cancel(p, opts.signal?.reason instanceof Error ? opts.signal.reason.message : 'aborted by the caller');
        this.settle(p, abortError(method, opts.signal!));
      };
      p.cleanup = () => {
        if (p.idle) this.clock.clearTimeout(p.idle);
        if (p.total) this.clock.clearTimeout(p.total);
        if (p.progressToken !== undefined) this.byProgressToken.delete(p.progressToken);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      if (!opts.noTimeout) {
        p.timers = { idleMs, totalMs };
        p.idle = this.clock.setTimeout(() => this.timeout(p, `no response within ${idleMs} ms`), idleMs);
        if (totalMs < Infinity) p.total = this.clock.setTimeout(() => this.timeout(p, `exceeded the maximum total time of ${totalMs} ms`), totalMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      if (p.progressToken !== undefined) this.byProgressToken.set(p.progressToken, p);
      transport.sendRequest(message, ctx);
    });
  }

  /**
   * Stops a request's clocks while it waits for something that is not the server (an OAuth login
   * with a person in the loop), and starts them afresh afterwards.
   */
  private pauseTimers(p: Pending, paused: boolean): void {
    if (p.idle) this.clock.clearTimeout(p.idle);
    if (p.total) this.clock.clearTimeout(p.total);
    p.idle = p.total = undefined;
    if (paused || p.timers === undefined) return;
    const { idleMs, totalMs } = p.timers;
    p.idle = this.clock.setTimeout(() => this.timeout(p, `no response within ${idleMs} ms`), idleMs);
    if (totalMs < Infinity) p.total = this.clock.setTimeout(() => this.timeout(p, `exceeded the maximum total time of ${totalMs} ms`), totalMs);
  }

  protected timeout(p: Pending, why: string): void {
    if (!this.pending.has(p.id)) return;
    this.cancel(p, `timed out: ${why}`);
    // A request that never got through is not a slow server but an unreachable one.
    const err = p.undelivered
      ? new ClientError('CONNECTION_FAILED', `${p.method} could not reach the server before its timeout: ${p.undelivered.message}`, { cause: p.undelivered })
      : new ClientError('TIMEOUT', `${p.method} timed out: ${why}`, { details: { method: p.method, requestId: p.id } });
    this.settle(p, err);
  }

  /**
   * Tells the server a request is abandoned: `notifications/cancelled` where the wire has it (2025,
   * and stdio in 2026), and closing the response stream on HTTP (which is the 2026 cancellation).
   * initialize is never cancelled, as the spec requires.
   */
  protected cancel(p: Pending, reason: string): void {
    const t = this.transport;
    if (!t) return;
    t.abandon(p.id);
    if (p.method === 'initialize') return;
    const era = p.message.params?._meta && META.protocolVersion in (p.message.params._meta as object) ? '2026' : '2025';
    if (era === '2026' && t.kind === 'http') return;
    const note: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: p.id, reason } };
    t.sendMessage(note, era === '2026' ? {} : this.sendCtx()).catch((err: unknown) => this.log.debug({ err: (err as Error).message }, 'could not send notifications/cancelled'));
  }

  // ───────────────────────────── for the layers above ─────────────────────────────

  /** Sends a notification to the server. */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.ready();
    const msg: JsonRpcNotification = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    await this.transport!.sendMessage(msg, this.sendCtx());
  }

  /** Waits for a connect() under way; fails when the client is not (or no longer) connected. */
  protected async ready(): Promise<void> {
    if (this.state === 'connected') return;
    if (this.state === 'connecting' && this.connecting) {
      await this.connecting;
      return;
    }
    throw this.closedError ?? new ClientError('NOT_CONNECTED', 'The client is not connected; call connect() first');
  }
}
