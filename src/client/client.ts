/**
 * The MCP client: one API for both protocol eras over stdio, Streamable HTTP and (as a fallback)
 * the 2024 HTTP+SSE transport.
 *
 * - Connecting detects the era: `server/discover` (2026-07-28, stateless) first, then
 *   `initialize` (2025-11-25 and older) — or the era is pinned.
 * - Every call is isolated: a timeout, an abort, a malformed or wrong-typed answer, a cut stream or
 *   a dead process fails that call with a typed error and nothing else; no floating promise, no
 *   unhandled rejection, no `error` event that could crash the host.
 * - The server's requests for input are answered by the same handlers in both eras: as
 *   server→client requests in 2025, and as `input_required` results that the client retries with
 *   `inputResponses` in 2026.
 */
import { EventEmitter } from 'node:events';
import { classify, errorResponse, resultResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { META, SESSION_VERSIONS, STATELESS_VERSIONS, V2025_11_25, V2026_07_28, isStatelessVersion, type Era } from '../protocol/versions.js';
import { lazyValidator, type Validator } from '../protocol/schema.js';
import type { ClientCapabilities, ElicitFormParams, ElicitUrlParams, Implementation, LoggingLevel, Root } from '../server/types.js';
import { LOG_LEVELS } from '../server/types.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { ClientError } from './errors.js';
import { StreamableHttpTransport } from './http.js';
import { LegacySseTransport } from './legacy-sse.js';
import { StdioTransport, type StdioTransportOptions } from './stdio.js';
import { splitCommand } from './shell-split.js';
import { requestHeaders2026, toolHeaderParams, type HeaderParams } from './headers.js';
import type { ReconnectOptions } from './backoff.js';
import { OAuthFlow, type OAuthOptions } from './oauth.js';
import { backoffDelay, reconnectPolicy } from './backoff.js';
import type { ClientTransport, SendContext, TransportSink } from './transport.js';
import type {
  CallToolOptions,
  CallToolResult,
  Completion,
  CompletionRef,
  ElicitationHandler,
  GetPromptResult,
  HandlerContext,
  Progress,
  Prompt,
  ReadResourceResult,
  RequestOptions,
  Resource,
  ResourceTemplate,
  RootsProvider,
  SamplingHandler,
  ServerSummary,
  Subscription,
  SubscriptionFilter,
  SubscriptionNotification,
  Task,
  Tool,
} from './types.js';

/** Session-era versions the client accepts from `initialize`, newest first (2024-11-05 for old HTTP+SSE servers). */
export const CLIENT_SESSION_VERSIONS: readonly string[] = [...SESSION_VERSIONS, '2024-11-05'];

/** Where to connect. A string is a URL (`http(s)://…`) or a command line split as a shell would. */
export type ClientTarget =
  | string
  | URL
  | { url: string | URL; headers?: Record<string, string> }
  | ({ command: string; args?: string[] } & Partial<Omit<StdioTransportOptions, 'command' | 'args'>>)
  | { transport: ClientTransport };

/** Options of {@link createClient}. Every field is optional. */
export interface ClientOptions {
  /** Sent to the server. Default `{ name: 'andon-mcp-client', version: '0.1.0' }`. */
  clientInfo?: Implementation;
  /**
   * `auto` (default): try 2026-07-28 `server/discover`, fall back to 2025-11-25 `initialize` (the
   * server may answer with 2025-06-18, 2025-03-26 or 2024-11-05). A version string pins the era.
   */
  protocolVersion?: 'auto' | string;
  /** Answers sampling requests; declares the `sampling` capability. Default none. */
  sampling?: SamplingHandler;
  /**
   * Answers elicitation: one handler for form mode, or `{ form, url }` for either mode. Declares
   * the `elicitation` capability with the modes given. Default none.
   */
  elicitation?: ElicitationHandler | { form?: ElicitationHandler; url?: ElicitationHandler };
  /** Roots offered to the server; declares the `roots` capability. Default none. */
  roots?: RootsProvider;
  /** Extra capabilities to declare (e.g. `experimental`, `extensions`). */
  capabilities?: ClientCapabilities;
  /**
   * Declare the 2026 tasks extension on every request, so tools that may run as tasks do (and
   * `callTool` waits for them). Default false; `callToolAsTask` and the tasks methods declare it
   * on their own requests anyway.
   */
  tasks?: boolean;
  /** Per-request inactivity timeout, ms. Default 60,000. */
  timeoutMs?: number;
  /** Hard per-request limit even while progress arrives, ms. Default 600,000. */
  maxTotalTimeoutMs?: number;
  /** Restart the inactivity timeout on progress. Default true. */
  resetTimeoutOnProgress?: boolean;
  /** Timeout of the `server/discover` probe when the era is auto-detected, ms. Default 10,000. */
  discoverTimeoutMs?: number;
  /** 2026 multi-round-trip limit per call. Default 10. */
  maxInputRounds?: number;
  /** Validate `structuredContent` against `outputSchema`. Default true. */
  validateOutput?: boolean;
  /** Fill omitted fields of an accepted form elicitation from the schema's defaults (SEP-1034). Default true. */
  applyElicitationDefaults?: boolean;
  /** List tools before the first call when none are cached (for outputSchema and x-mcp-header). Default true. */
  prefetchTools?: boolean;
  /** Log level to ask for: logging/setLevel after initialize (2025), `_meta` on each request (2026). Default none. */
  logLevel?: LoggingLevel;
  /** Extra HTTP headers, e.g. `authorization`. Default none. */
  headers?: Record<string, string>;
  /**
   * OAuth 2.1 for HTTP servers that answer 401: discovery, registration, authorization code +
   * PKCE, refresh and step-up. Default none (a 401 fails with UNAUTHORIZED).
   */
  oauth?: OAuthOptions;
  /** Reconnect policy of the HTTP transports and 2026 listen streams. Defaults: see {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions;
  /** Try the 2024 HTTP+SSE transport when a server answers POST with 400/404/405. Default true. */
  legacySseFallback?: boolean;
  /** Logger for diagnostics (never stdout). Default: silent. */
  logger?: Logger;
}

/** Events of {@link McpClient}, with their payloads. */
export interface ClientEvents {
  /** Every notification the server sent, after the client handled it. */
  notification: [JsonRpcNotification];
  /** `notifications/message` from the server. */
  log: [{ level: LoggingLevel; logger?: string; data: unknown }];
  toolsListChanged: [];
  resourcesListChanged: [];
  promptsListChanged: [];
  /** A subscribed resource changed (2025 subscribe or 2026 listen). */
  resourceUpdated: [{ uri: string }];
  /** `notifications/tasks/status`. */
  taskStatus: [Task];
  /** `notifications/elicitation/complete` (URL mode). */
  elicitationComplete: [{ elicitationId: string }];
  /** The 2025 session expired (HTTP 404) and the client initialized a new one. */
  sessionReinitialized: [{ previousSessionId: string | undefined; sessionId: string | undefined }];
  /** A connection or stream is being retried. */
  reconnect: [Record<string, unknown>];
  /** Something went wrong that failed no call (an unknown response id, a dropped tool…). */
  warning: [{ code: string; message: string; [k: string]: unknown }];
  /** A chunk of the stdio server's stderr. */
  stderr: [string];
  /** The connection is gone; `error` says why unless `close()` was called. */
  close: [{ error?: ClientError }];
}

interface Pending {
  id: RequestId;
  method: string;
  message: JsonRpcRequest;
  ctx: SendContext;
  resolve: (r: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  idle: NodeJS.Timeout | undefined;
  total: NodeJS.Timeout | undefined;
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

interface CachedTool {
  tool: Tool;
  headerParams: HeaderParams;
  validateOutput: Validator | undefined;
}

const DEFAULT_INFO: Implementation = { name: 'andon-mcp-client', version: '0.1.0' };
const TASK_TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** The 2026 tasks extension id. */
const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Connection failures that mean "no server there", as opposed to "a server that speaks another era". */
const FATAL_PROBE = new Set(['CONNECTION_FAILED', 'PROCESS_EXITED', 'CONNECTION_CLOSED', 'NOT_CONNECTED', 'ABORTED', 'UNAUTHORIZED']);

/** An MCP client. Create it with {@link createClient}, then `await client.connect()`. */
export class McpClient extends EventEmitter<ClientEvents> {
  private transport: ClientTransport | undefined;
  private readonly options: ClientOptions;
  private readonly target: ClientTarget;
  private readonly log: Logger;
  private state: 'idle' | 'connecting' | 'connected' | 'closed' = 'idle';
  private connecting: Promise<this> | undefined;
  private closedError: ClientError | undefined;
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly byProgressToken = new Map<RequestId, Pending>();
  private readonly serverRequests = new Map<RequestId, AbortController>();
  private era_: Era | undefined;
  private version: string | undefined;
  private summary: Omit<ServerSummary, 'transport' | 'sessionId' | 'era' | 'protocolVersion'> = { serverInfo: undefined, capabilities: {}, instructions: undefined };
  private logLevel: LoggingLevel | undefined;
  private rootsProvider: RootsProvider | undefined;
  private toolCache: Map<string, CachedTool> | undefined;
  private readonly invalidTools = new Map<string, string>();
  private readonly resourceCallbacks = new Map<string, Set<(uri: string) => void>>();
  private reinitializing: Promise<void> | undefined;

  constructor(target: ClientTarget, options: ClientOptions = {}) {
    super();
    this.target = target;
    this.options = options;
    this.log = options.logger ?? nullLogger;
    this.logLevel = options.logLevel;
    this.rootsProvider = options.roots;
  }

  // ───────────────────────────── state ─────────────────────────────

  /** The era in use once connected. */
  get era(): Era | undefined {
    return this.era_;
  }

  /** The protocol version in use once connected. */
  get protocolVersion(): string | undefined {
    return this.version;
  }

  /** The server's self-description, capabilities and the connection details. */
  get server(): ServerSummary {
    if (this.state !== 'connected' || !this.era_ || !this.version) throw new ClientError('NOT_CONNECTED', 'The client is not connected');
    return {
      ...this.summary,
      era: this.era_,
      protocolVersion: this.version,
      transport: this.transport!.kind,
      sessionId: this.transport instanceof StreamableHttpTransport ? this.transport.sessionId : undefined,
    };
  }

  /** True between a successful `connect()` and `close()` (or the transport dying). */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** The stdio server's process id, when connected over stdio. */
  get pid(): number | undefined {
    return this.transport instanceof StdioTransport ? this.transport.pid : undefined;
  }

  // ───────────────────────────── connecting ─────────────────────────────

  /** Connects and detects (or checks) the era. Resolves with the client itself. Idempotent. */
  connect(): Promise<this> {
    if (this.state === 'connected') return Promise.resolve(this);
    if (this.state === 'closed') return Promise.reject(new ClientError('NOT_CONNECTED', 'The client was closed; create a new one'));
    if (this.connecting) return this.connecting;
    this.state = 'connecting';
    this.connecting = this.doConnect().then(
      () => {
        this.state = 'connected';
        this.connecting = undefined;
        return this;
      },
      async (err: unknown) => {
        this.connecting = undefined;
        this.state = 'closed';
        await this.transport?.close().catch(() => {});
        throw err;
      },
    );
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.transport = makeTransport(this.target, this.options);
    await this.transport.start(this.sink());
    const pinned = this.options.protocolVersion ?? 'auto';
    if (pinned === 'auto' || isStatelessVersion(pinned)) {
      if (await this.discover(pinned !== 'auto')) return;
    } else if (!CLIENT_SESSION_VERSIONS.includes(pinned)) {
      throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `Protocol version ${pinned} is not one this client speaks (${[...STATELESS_VERSIONS, ...CLIENT_SESSION_VERSIONS].join(', ')})`);
    }
    const offer = pinned === 'auto' ? V2025_11_25 : pinned;
    try {
      await this.initialize(offer);
    } catch (err) {
      const status = (err as ClientError).status;
      if (this.transport instanceof StreamableHttpTransport && this.options.legacySseFallback !== false && err instanceof ClientError && err.code === 'HTTP_ERROR' && (status === 400 || status === 404 || status === 405)) {
        this.log.info({ url: this.transport.url.href, status }, 'server refused Streamable HTTP; trying the 2024 HTTP+SSE transport');
        await this.transport.close();
        const legacy = new LegacySseTransport(this.transport.url, { headers: this.options.headers });
        this.transport = legacy;
        await legacy.start(this.sink());
        await this.initialize(offer);
        return;
      }
      throw err;
    }
  }

  /**
   * The 2026 probe. Returns true when the server speaks 2026-07-28; false to fall back to
   * initialize. A -32022 naming versions we speak gets one retry with the best of them.
   */
  private async discover(pinned: boolean): Promise<boolean> {
    let version = pinned ? this.options.protocolVersion! : STATELESS_VERSIONS[0]!;
    for (let attempt = 0; attempt < 2; attempt++) {
      let r: Record<string, unknown>;
      try {
        r = await this.roundTrip('server/discover', {}, { timeoutMs: this.options.discoverTimeoutMs ?? Math.min(10_000, this.options.timeoutMs ?? 60_000) }, { era: '2026', version });
      } catch (err) {
        if (err instanceof McpError && err.code === ErrorCode.UnsupportedProtocolVersion) {
          const supported = (err.data as { supported?: unknown } | undefined)?.supported;
          const offered = Array.isArray(supported) ? supported.filter((v): v is string => typeof v === 'string') : [];
          const common = STATELESS_VERSIONS.find((v) => offered.includes(v));
          if (common && attempt === 0) {
            version = common;
            continue;
          }
          if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server does not speak ${version} (it supports ${offered.join(', ') || 'nothing we know'})`, { cause: err });
          return false;
        }
        if (err instanceof ClientError && FATAL_PROBE.has(err.code)) throw err;
        if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `server/discover failed, so the server does not speak ${version}: ${(err as Error).message}`, { cause: err });
        this.log.debug({ err: (err as Error).message }, 'server/discover failed; falling back to initialize');
        return false;
      }
      const supported = Array.isArray(r.supportedVersions) ? (r.supportedVersions as unknown[]).filter((v): v is string => typeof v === 'string') : [];
      const common = STATELESS_VERSIONS.find((v) => supported.includes(v));
      if (!common) {
        if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server supports ${supported.join(', ') || 'no versions'}, not ${version}`);
        return false;
      }
      this.era_ = '2026';
      this.version = common;
      const meta = (r._meta ?? {}) as Record<string, unknown>;
      this.summary = {
        serverInfo: (meta[META.serverInfo] ?? r.serverInfo) as Implementation | undefined,
        capabilities: isObject(r.capabilities) ? (r.capabilities as Record<string, any>) : {},
        instructions: typeof r.instructions === 'string' ? r.instructions : undefined,
      };
      return true;
    }
    return false;
  }

  /** The 2025 handshake: initialize, check the version, initialized, then the GET stream. */
  private async initialize(offer: string): Promise<void> {
    const r = await this.roundTrip('initialize', { protocolVersion: offer, capabilities: this.capabilities('2025', offer), clientInfo: this.options.clientInfo ?? DEFAULT_INFO }, {}, { era: '2025', version: offer });
    if (typeof r.protocolVersion !== 'string' || !isObject(r.capabilities)) {
      throw new ClientError('INVALID_RESULT', 'The initialize result needs a string protocolVersion and a capabilities object', { details: { result: r } });
    }
    const version = r.protocolVersion;
    if (!CLIENT_SESSION_VERSIONS.includes(version)) {
      throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server chose protocol version ${version}, which this client does not speak (it offered ${offer})`);
    }
    this.era_ = '2025';
    this.version = version;
    this.summary = {
      serverInfo: r.serverInfo as Implementation,
      capabilities: r.capabilities as Record<string, any>,
      instructions: typeof r.instructions === 'string' ? r.instructions : undefined,
    };
    await this.transport!.sendMessage({ jsonrpc: '2.0', method: 'notifications/initialized' }, this.sendCtx());
    if (this.transport instanceof StreamableHttpTransport) this.transport.openStandaloneStream({ 'mcp-protocol-version': version });
    if (this.logLevel && this.summary.capabilities.logging) {
      await this.roundTrip('logging/setLevel', { level: this.logLevel }, {}).catch((err: unknown) => this.warn('SET_LEVEL_FAILED', `logging/setLevel failed: ${(err as Error).message}`));
    }
  }

  /** A 404 on the 2025 session: initialize a new one (once at a time), re-subscribe, and say so. */
  private reinitialize(): Promise<void> {
    if (this.reinitializing) return this.reinitializing;
    const t = this.transport;
    if (!(t instanceof StreamableHttpTransport) || this.era_ !== '2025') return Promise.reject(new ClientError('SESSION_EXPIRED', 'The session expired'));
    this.reinitializing = (async () => {
      const previousSessionId = t.sessionId;
      t.resetSession();
      await this.initialize(this.version!);
      this.emit('sessionReinitialized', { previousSessionId, sessionId: t.sessionId });
      for (const uri of this.resourceCallbacks.keys()) {
        await this.roundTrip('resources/subscribe', { uri }, {}).catch((err: unknown) => this.warn('RESUBSCRIBE_FAILED', `Re-subscribing to ${uri} failed: ${(err as Error).message}`, { uri }));
      }
    })().finally(() => {
      this.reinitializing = undefined;
    });
    return this.reinitializing;
  }

  /** The capabilities this client declares, from the handlers it was given. */
  private capabilities(era: Era, version: string, declareTasks = false): ClientCapabilities {
    const caps: ClientCapabilities = { ...this.options.capabilities };
    if (era === '2026' && (declareTasks || this.options.tasks)) caps.extensions = { ...(caps.extensions as Record<string, unknown> | undefined), [TASKS_EXTENSION]: {} };
    if (this.rootsProvider !== undefined) caps.roots = era === '2025' ? { listChanged: true } : {};
    if (this.options.sampling) caps.sampling = {};
    const e = this.options.elicitation;
    if (e) {
      const form = typeof e === 'function' || e.form !== undefined;
      const url = typeof e !== 'function' && e.url !== undefined;
      // Before 2025-11-25 elicitation had no modes: `{}` meant form.
      if (era === '2025' && version < V2025_11_25) caps.elicitation = {};
      else caps.elicitation = { ...(form ? { form: {} } : {}), ...(url ? { url: {} } : {}) };
    }
    return caps;
  }

  // ───────────────────────────── the wire ─────────────────────────────

  private sink(): TransportSink {
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

  private warn(code: string, message: string, extra: Record<string, unknown> = {}): void {
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
  private settle(p: Pending, err: Error | undefined, result?: Record<string, unknown>): void {
    if (!this.pending.delete(p.id)) return;
    p.cleanup();
    if (err) p.reject(err);
    else p.resolve(result!);
  }

  /** Headers and flags for the next message, from the era in use. */
  private sendCtx(method?: string, params?: Record<string, unknown>, override?: { era: Era; version: string }): SendContext {
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
  private roundTrip(method: string, params: Record<string, unknown>, opts: RequestOptions & { noTimeout?: boolean; onSubscription?: (n: SubscriptionNotification) => void; onId?: (id: RequestId) => void }, override?: { era: Era; version: string }): Promise<Record<string, unknown>> {
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
        if (p.idle) clearTimeout(p.idle);
        if (p.total) clearTimeout(p.total);
        if (p.progressToken !== undefined) this.byProgressToken.delete(p.progressToken);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      if (!opts.noTimeout) {
        p.timers = { idleMs, totalMs };
        p.idle = setTimeout(() => this.timeout(p, `no response within ${idleMs} ms`), idleMs);
        if (totalMs < Infinity) p.total = setTimeout(() => this.timeout(p, `exceeded the maximum total time of ${totalMs} ms`), totalMs);
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
    if (p.idle) clearTimeout(p.idle);
    if (p.total) clearTimeout(p.total);
    p.idle = p.total = undefined;
    if (paused || p.timers === undefined) return;
    const { idleMs, totalMs } = p.timers;
    p.idle = setTimeout(() => this.timeout(p, `no response within ${idleMs} ms`), idleMs);
    if (totalMs < Infinity) p.total = setTimeout(() => this.timeout(p, `exceeded the maximum total time of ${totalMs} ms`), totalMs);
  }

  private timeout(p: Pending, why: string): void {
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
  private cancel(p: Pending, reason: string): void {
    const t = this.transport;
    if (!t) return;
    t.abandon(p.id);
    if (p.method === 'initialize') return;
    const era = p.message.params?._meta && META.protocolVersion in (p.message.params._meta as object) ? '2026' : '2025';
    if (era === '2026' && t.kind === 'http') return;
    const note: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: p.id, reason } };
    t.sendMessage(note, era === '2026' ? {} : this.sendCtx()).catch((err: unknown) => this.log.debug({ err: (err as Error).message }, 'could not send notifications/cancelled'));
  }

  // ───────────────────────────── what the server sends ─────────────────────────────

  private onNotification(msg: JsonRpcNotification): void {
    const params = (msg.params ?? {}) as Record<string, unknown>;
    const subId = (params._meta as Record<string, unknown> | undefined)?.[META.subscriptionId] as RequestId | undefined;
    if (subId !== undefined) this.pending.get(subId)?.onSubscription?.({ method: msg.method, params });
    switch (msg.method) {
      case 'notifications/progress': {
        const p = this.byProgressToken.get(params.progressToken as RequestId);
        if (p) {
          if (p.resetOnProgress && p.idle) {
            clearTimeout(p.idle);
            p.idle = setTimeout(() => this.timeout(p, `no response or progress within ${p.idleMs} ms`), p.idleMs);
          }
          const progress: Progress = { progress: Number(params.progress) };
          if (typeof params.total === 'number') progress.total = params.total;
          if (typeof params.message === 'string') progress.message = params.message;
          try {
            p.onProgress?.(progress);
          } catch (err) {
            this.warn('PROGRESS_CALLBACK_THREW', `The onProgress callback threw: ${(err as Error).message}`);
          }
        }
        break;
      }
      case 'notifications/message':
        this.emit('log', { level: params.level as LoggingLevel, logger: params.logger as string | undefined, data: params.data });
        break;
      case 'notifications/tools/list_changed':
        this.toolCache = undefined;
        this.emit('toolsListChanged');
        break;
      case 'notifications/resources/list_changed':
        this.emit('resourcesListChanged');
        break;
      case 'notifications/prompts/list_changed':
        this.emit('promptsListChanged');
        break;
      case 'notifications/resources/updated': {
        const uri = String(params.uri);
        for (const cb of this.resourceCallbacks.get(uri) ?? []) {
          try {
            cb(uri);
          } catch (err) {
            this.warn('UPDATE_CALLBACK_THREW', `A resource update callback threw: ${(err as Error).message}`, { uri });
          }
        }
        this.emit('resourceUpdated', { uri });
        break;
      }
      case 'notifications/cancelled':
        this.serverRequests.get(params.requestId as RequestId)?.abort(new Error(typeof params.reason === 'string' ? params.reason : 'cancelled by the server'));
        break;
      case 'notifications/tasks/status':
        this.emit('taskStatus', params as unknown as Task);
        break;
      case 'notifications/elicitation/complete':
        this.emit('elicitationComplete', { elicitationId: String(params.elicitationId) });
        break;
      default:
        break;
    }
    this.emit('notification', msg);
  }

  /** Answers a 2025 server→client request (and anything a server sends on stdio). */
  private async onServerRequest(msg: JsonRpcRequest): Promise<void> {
    const ac = new AbortController();
    this.serverRequests.set(msg.id, ac);
    let response: JsonRpcMessage;
    try {
      const result = await this.answer(msg.method, (msg.params ?? {}) as Record<string, unknown>, { signal: ac.signal, era: '2025' });
      response = resultResponse(msg.id, result);
    } catch (err) {
      if (!(err instanceof McpError)) this.warn('HANDLER_FAILED', `Answering ${msg.method} failed: ${(err as Error).message}`);
      response = errorResponse(msg.id, err instanceof ClientError && err.code === 'MISSING_HANDLER' ? new McpError(ErrorCode.MethodNotFound, err.message) : err);
    } finally {
      this.serverRequests.delete(msg.id);
    }
    // A cancelled request gets no answer: the server already forgot it.
    if (ac.signal.aborted || this.state === 'closed') return;
    try {
      await this.transport!.sendMessage(response, this.sendCtx());
    } catch (err) {
      this.warn('RESPONSE_NOT_DELIVERED', `Could not deliver the answer to ${msg.method}: ${(err as Error).message}`);
    }
  }

  /** Runs the handler for one server request (2025) or one `inputRequests` entry (2026). */
  private async answer(method: string, params: Record<string, unknown>, ctx: HandlerContext): Promise<Record<string, unknown>> {
    switch (method) {
      case 'ping':
        return {};
      case 'sampling/createMessage': {
        const h = this.options.sampling;
        if (!h) throw new ClientError('MISSING_HANDLER', 'This client has no sampling handler');
        const r = await h(params as never, ctx);
        if (!r || typeof r !== 'object' || typeof r.model !== 'string' || !r.role || !r.content) {
          throw new ClientError('INVALID_RESULT', 'The sampling handler must return { role, content, model }');
        }
        return r as Record<string, unknown>;
      }
      case 'elicitation/create': {
        const e = this.options.elicitation;
        const mode = (params.mode as string | undefined) ?? 'form';
        const h = typeof e === 'function' ? (mode === 'form' ? e : undefined) : mode === 'url' ? e?.url : e?.form;
        if (!h) throw new ClientError('MISSING_HANDLER', `This client has no elicitation handler for ${mode} mode`);
        const r = await h(params as unknown as ElicitFormParams | ElicitUrlParams, ctx);
        if (!r || typeof r !== 'object' || !['accept', 'decline', 'cancel'].includes(r.action)) {
          throw new ClientError('INVALID_RESULT', 'The elicitation handler must return { action: "accept" | "decline" | "cancel" }');
        }
        if (r.action === 'accept' && mode === 'form' && this.options.applyElicitationDefaults !== false) {
          return { ...r, content: withDefaults((params as unknown as ElicitFormParams).requestedSchema, r.content) } as Record<string, unknown>;
        }
        return r as unknown as Record<string, unknown>;
      }
      case 'roots/list': {
        const roots = await this.currentRoots();
        if (!roots) throw new ClientError('MISSING_HANDLER', 'This client offers no roots');
        return { roots };
      }
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  private async currentRoots(): Promise<Root[] | undefined> {
    const r = this.rootsProvider;
    if (r === undefined) return undefined;
    return typeof r === 'function' ? await r() : r;
  }

  // ───────────────────────────── requests ─────────────────────────────

  /**
   * Sends any request and resolves with its result. In 2026 an `input_required` result is answered
   * by the handlers and retried with `inputResponses` (and the server's `requestState`, verbatim),
   * with a fresh JSON-RPC id each round, until the result is complete.
   */
  async request(method: string, params: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<Record<string, unknown>> {
    await this.ready();
    const max = this.options.maxInputRounds ?? 10;
    let round = 0;
    let extra: Record<string, unknown> = {};
    for (;;) {
      const result = await this.roundTrip(method, { ...params, ...extra }, opts);
      if (this.era_ !== '2026' || result.resultType !== 'input_required') return result;
      if (++round > max) {
        throw new ClientError('INPUT_ROUNDS_EXCEEDED', `${method} still needed input after ${max} rounds`, { details: { inputRequests: result.inputRequests, requestState: result.requestState } });
      }
      extra = await this.answerInputs(result, opts.signal);
    }
  }

  /** Answers every entry of an InputRequiredResult; returns the params of the retry. */
  private async answerInputs(result: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const requests = result.inputRequests;
    if (requests !== undefined && !isObject(requests)) throw new ClientError('INVALID_RESULT', 'inputRequests must be an object');
    const signal2 = signal ?? new AbortController().signal;
    const entries = Object.entries((requests ?? {}) as Record<string, unknown>);
    const answers = await Promise.all(
      entries.map(async ([key, req]) => {
        if (!isObject(req) || typeof (req as { method?: unknown }).method !== 'string') throw new ClientError('INVALID_RESULT', `inputRequests.${key} is not a request`);
        const r = req as { method: string; params?: Record<string, unknown> };
        try {
          return [key, await this.answer(r.method, r.params ?? {}, { signal: signal2, era: '2026', inputKey: key })] as const;
        } catch (err) {
          if (err instanceof McpError) throw new ClientError('UNSUPPORTED', `The server asked for ${r.method}, which this client cannot answer`, { cause: err });
          throw err;
        }
      }),
    );
    const next: Record<string, unknown> = {};
    if (entries.length) next.inputResponses = Object.fromEntries(answers);
    if (typeof result.requestState === 'string') next.requestState = result.requestState;
    return next;
  }

  /** Sends a notification to the server. */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.ready();
    const msg: JsonRpcNotification = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    await this.transport!.sendMessage(msg, this.sendCtx());
  }

  private async ready(): Promise<void> {
    if (this.state === 'connected') return;
    if (this.state === 'connecting' && this.connecting) {
      await this.connecting;
      return;
    }
    throw this.closedError ?? new ClientError('NOT_CONNECTED', 'The client is not connected; call connect() first');
  }

  // ───────────────────────────── tools ─────────────────────────────

  /**
   * Lists every tool, following `nextCursor` until the last page. In 2026, tools whose
   * `x-mcp-header` annotations are invalid are left out (with a `warning` event each).
   */
  async listTools(opts: RequestOptions = {}): Promise<Tool[]> {
    const items = await this.paginate('tools/list', 'tools', opts, (t) => isObject(t) && typeof (t as Tool).name === 'string' && isObject((t as Tool).inputSchema));
    const cache = new Map<string, CachedTool>();
    const out: Tool[] = [];
    for (const raw of items as Tool[]) {
      const h = toolHeaderParams(raw.inputSchema);
      if ('error' in h) {
        this.invalidTools.set(raw.name, h.error);
        if (this.era_ === '2026') {
          this.warn('INVALID_TOOL', `Tool "${raw.name}" was excluded: ${h.error}`, { tool: raw.name });
          continue;
        }
      }
      this.invalidTools.delete(raw.name);
      const validateOutput = isObject(raw.outputSchema) ? outputValidator(raw.outputSchema) : undefined;
      cache.set(raw.name, { tool: raw, headerParams: 'params' in h ? h.params : [], validateOutput });
      out.push(raw);
    }
    this.toolCache = cache;
    return out;
  }

  /**
   * Calls a tool. Tool failures come back as a result with `isError: true`; protocol failures
   * throw. `structuredContent` is checked against the tool's `outputSchema` (OUTPUT_SCHEMA_MISMATCH).
   * A server that turns the call into a task is waited for.
   */
  async callTool(name: string, args: Record<string, unknown> = {}, opts: CallToolOptions = {}): Promise<CallToolResult> {
    await this.ready();
    const invalid = this.invalidTools.get(name);
    if (invalid !== undefined && this.era_ === '2026') throw new ClientError('INVALID_TOOL', `Tool "${name}" cannot be called: ${invalid}`, { details: { tool: name } });
    await this.prefetchTools();
    const params = { name, arguments: args };
    let result: Record<string, unknown>;
    try {
      result = await this.request('tools/call', params, opts);
    } catch (err) {
      // A 2026 server rejects a call whose Mcp-Param headers it expected: learn the tool and retry once.
      if (err instanceof McpError && err.code === ErrorCode.HeaderMismatch && !this.toolCache?.has(name)) {
        await this.listTools({ signal: opts.signal }).catch(() => undefined);
        if (this.toolCache?.has(name)) result = await this.request('tools/call', params, opts);
        else throw err;
      } else throw err;
    }
    if ((isObject(result.task) || result.resultType === 'task') && !Array.isArray(result.content)) {
      return this.waitForTask(normaliseTask(result).taskId, { signal: opts.signal });
    }
    if (!Array.isArray(result.content)) throw new ClientError('INVALID_RESULT', `tools/call result for "${name}" has no content array`, { details: { result } });
    const cr = result as unknown as CallToolResult;
    if ((opts.validateOutput ?? this.options.validateOutput ?? true) && !cr.isError) {
      const validate = this.toolCache?.get(name)?.validateOutput;
      if (validate) {
        if (cr.structuredContent === undefined) throw new ClientError('OUTPUT_SCHEMA_MISMATCH', `Tool "${name}" declares an outputSchema but returned no structuredContent`, { details: { tool: name } });
        let problem: string | null = null;
        try {
          problem = validate(cr.structuredContent);
        } catch (err) {
          // The schema itself is unusable (unknown dialect, unresolvable $ref — never fetched):
          // that is the server's bug, not a wrong result, so the call still succeeds.
          this.warn('OUTPUT_SCHEMA_UNUSABLE', `Cannot validate the output of "${name}": its outputSchema does not compile: ${(err as Error).message}`, { tool: name });
        }
        if (problem) throw new ClientError('OUTPUT_SCHEMA_MISMATCH', `Tool "${name}" returned structuredContent that does not match its outputSchema: ${problem}`, { details: { tool: name, structuredContent: cr.structuredContent } });
      }
    }
    return cr;
  }

  private async prefetchTools(): Promise<void> {
    if (this.toolCache || this.options.prefetchTools === false || !this.summary.capabilities.tools) return;
    try {
      await this.listTools();
    } catch (err) {
      this.warn('TOOLS_PREFETCH_FAILED', `Could not list tools before the call: ${(err as Error).message}`);
      this.toolCache = new Map();
    }
  }

  /** The cached definition of a tool, from the last `listTools`. */
  cachedTool(name: string): Tool | undefined {
    return this.toolCache?.get(name)?.tool;
  }

  // ───────────────────────────── tasks ─────────────────────────────
  //
  // 2025-11-25 (experimental): the client asks with `params.task`; tasks/get, tasks/result,
  // tasks/list, tasks/cancel. 2026-07-28 (the `io.modelcontextprotocol/tasks` extension): a client
  // that declares the extension may get a flat `resultType: "task"` result; tasks/get carries the
  // result, error or pending `inputRequests` inline, tasks/update answers them; no tasks/result or
  // tasks/list. The methods below hide the difference.

  /**
   * Starts a tool call as a task and returns the handle at once (2025: `params.task`; 2026: the
   * tasks extension is declared on this call). A tool that runs synchronously anyway is INVALID_RESULT.
   */
  async callToolAsTask(name: string, args: Record<string, unknown> = {}, opts: RequestOptions & { ttl?: number } = {}): Promise<Task> {
    const task: Record<string, unknown> = {};
    if (opts.ttl !== undefined) task.ttl = opts.ttl;
    await this.ready();
    await this.prefetchTools();
    const params = this.era_ === '2026' ? { name, arguments: args } : { name, arguments: args, task };
    const r = await this.request('tools/call', params, { ...opts, declareTasks: true } as RequestOptions);
    if (!isObject(r.task) && r.resultType !== 'task') throw new ClientError('INVALID_RESULT', `tools/call of "${name}" did not create a task (the tool may not support tasks)`, { details: { result: r } });
    return normaliseTask(r);
  }

  /** tasks/get: the task's status (in 2026 also its inline result, error or pending inputRequests). */
  async getTask(taskId: string, opts: RequestOptions = {}): Promise<Task> {
    return normaliseTask(await this.request('tasks/get', { taskId }, { ...opts, declareTasks: true } as RequestOptions));
  }

  /** The task's final result: 2025 tasks/result (held until the task ends); 2026 polls tasks/get. */
  async getTaskResult(taskId: string, opts: RequestOptions = {}): Promise<CallToolResult> {
    await this.ready();
    if (this.era_ === '2026') return this.waitForTask(taskId, { signal: opts.signal });
    return (await this.request('tasks/result', { taskId }, opts)) as unknown as CallToolResult;
  }

  /** tasks/cancel; resolves with the task as it stands afterwards. */
  async cancelTask(taskId: string, opts: RequestOptions = {}): Promise<Task> {
    const r = await this.request('tasks/cancel', { taskId }, { ...opts, declareTasks: true } as RequestOptions);
    if (this.era_ === '2026') return this.getTask(taskId, opts);
    return normaliseTask(r);
  }

  /** tasks/list (all pages). 2025 only: the 2026 extension has no listing (UNSUPPORTED). */
  async listTasks(opts: RequestOptions = {}): Promise<Task[]> {
    await this.ready();
    if (this.era_ === '2026') throw new ClientError('UNSUPPORTED', 'The 2026 tasks extension has no tasks/list; keep the task ids you created');
    const items = await this.paginate('tasks/list', 'tasks', opts, (t) => isObject(t) && typeof (t as Task).taskId === 'string');
    return items.map((t) => normaliseTask(t as Record<string, unknown>));
  }

  /**
   * Polls tasks/get (at the server's poll interval, default 500 ms) until the task ends and
   * returns its result. In 2026 a task waiting for input (`input_required`) is answered by the
   * handlers through tasks/update. A cancelled task throws TASK_FAILED; a failed one throws the
   * server's error (or returns its `isError` result).
   */
  async waitForTask(taskId: string, opts: { signal?: AbortSignal; pollIntervalMs?: number; onStatus?: (t: Task) => void } = {}): Promise<CallToolResult> {
    const answered = new Set<string>();
    for (;;) {
      const t = await this.getTask(taskId, { signal: opts.signal });
      opts.onStatus?.(t);
      if (t.status === 'cancelled') throw new ClientError('TASK_FAILED', `Task ${taskId} was cancelled${t.statusMessage ? `: ${t.statusMessage}` : ''}`, { details: { task: t } });
      if (this.era_ === '2026') {
        if (t.status === 'completed' || t.status === 'failed') {
          if (isObject(t.error)) throw new McpError(Number(t.error.code), String(t.error.message), t.error.data);
          if (isObject(t.result) && Array.isArray(t.result.content)) return t.result as unknown as CallToolResult;
          throw new ClientError(t.status === 'failed' ? 'TASK_FAILED' : 'INVALID_RESULT', `Task ${taskId} ${t.status} without a result`, { details: { task: t } });
        }
        if (t.status === 'input_required' && isObject(t.inputRequests)) {
          // Answer each pending request once; the server clears them as tasks/update arrives.
          const fresh = Object.fromEntries(Object.entries(t.inputRequests).filter(([k]) => !answered.has(k)));
          if (Object.keys(fresh).length) {
            const next = await this.answerInputs({ inputRequests: fresh }, opts.signal);
            for (const k of Object.keys(fresh)) answered.add(k);
            await this.request('tasks/update', { taskId, inputResponses: next.inputResponses ?? {} }, { signal: opts.signal, declareTasks: true } as RequestOptions);
            continue;
          }
        }
      } else if (TASK_TERMINAL.has(t.status)) {
        return this.getTaskResult(taskId, { signal: opts.signal });
      }
      const wait = opts.pollIntervalMs ?? (typeof t.pollInterval === 'number' ? t.pollInterval : 500);
      await sleep(Math.max(10, wait), opts.signal);
    }
  }

  // ───────────────────────────── resources, prompts, completion ─────────────────────────────

  /** Lists every resource (all pages). */
  async listResources(opts: RequestOptions = {}): Promise<Resource[]> {
    return (await this.paginate('resources/list', 'resources', opts, (r) => isObject(r) && typeof (r as Resource).uri === 'string')) as Resource[];
  }

  /** Lists every resource template (all pages). */
  async listResourceTemplates(opts: RequestOptions = {}): Promise<ResourceTemplate[]> {
    return (await this.paginate('resources/templates/list', 'resourceTemplates', opts, (r) => isObject(r) && typeof (r as ResourceTemplate).uriTemplate === 'string')) as ResourceTemplate[];
  }

  /** Reads a resource. */
  async readResource(uri: string, opts: RequestOptions = {}): Promise<ReadResourceResult> {
    const r = await this.request('resources/read', { uri }, opts);
    if (!Array.isArray(r.contents)) throw new ClientError('INVALID_RESULT', `resources/read result for ${uri} has no contents array`, { details: { result: r } });
    return r as unknown as ReadResourceResult;
  }

  /**
   * Subscribes to updates of one resource. 2025: resources/subscribe, updates on the session's
   * stream. 2026: a `subscriptions/listen` stream for that URI. `onUpdate` runs for each update.
   */
  async subscribeResource(uri: string, onUpdate: (uri: string) => void, opts: RequestOptions = {}): Promise<Subscription> {
    await this.ready();
    if (this.era_ === '2026') {
      const sub = await this.listen({ resourceSubscriptions: [uri] }, (n) => {
        if (n.method === 'notifications/resources/updated' && n.params.uri === uri) onUpdate(uri);
      }, opts);
      if (!sub.notifications.resourceSubscriptions?.includes(uri)) {
        await sub.close();
        throw new ClientError('UNSUPPORTED', `The server did not agree to send updates for ${uri} (its subscriptions/listen acknowledgement leaves it out)`);
      }
      return sub;
    }
    let set = this.resourceCallbacks.get(uri);
    const first = !set;
    if (!set) this.resourceCallbacks.set(uri, (set = new Set()));
    set.add(onUpdate);
    if (first) {
      try {
        await this.request('resources/subscribe', { uri }, opts);
      } catch (err) {
        this.resourceCallbacks.delete(uri);
        throw err;
      }
    }
    let open = true;
    return {
      notifications: { resourceSubscriptions: [uri] },
      close: async () => {
        if (!open) return;
        open = false;
        const s = this.resourceCallbacks.get(uri);
        s?.delete(onUpdate);
        if (s && s.size === 0) {
          this.resourceCallbacks.delete(uri);
          if (this.state === 'connected') await this.request('resources/unsubscribe', { uri }).catch((err: unknown) => this.warn('UNSUBSCRIBE_FAILED', (err as Error).message, { uri }));
        }
      },
    };
  }

  /**
   * 2026 `subscriptions/listen`: opens a stream for the notifications in `filter` and resolves once
   * the server acknowledged it (with what it agreed to send). A stream that breaks is re-opened
   * with backoff. In 2025 the session stream already carries these notifications, so this resolves
   * at once and forwards the matching ones.
   */
  async listen(filter: SubscriptionFilter, onNotification: (n: SubscriptionNotification) => void = () => {}, opts: RequestOptions = {}): Promise<Subscription> {
    await this.ready();
    if (this.era_ !== '2026') return this.listen2025(filter, onNotification, opts);
    const policy = reconnectPolicy(this.options.reconnect);
    let closed = false;
    let currentId: RequestId | undefined;
    let agreed: SubscriptionFilter = {};
    const deliver = (n: SubscriptionNotification) => {
      try {
        onNotification(n);
      } catch (err) {
        this.warn('LISTEN_CALLBACK_THREW', `A subscription callback threw: ${(err as Error).message}`);
      }
    };
    const open = (): Promise<void> =>
      new Promise<void>((acked, failed) => {
        let isAcked = false;
        const ackTimer = setTimeout(() => {
          if (isAcked || currentId === undefined) return;
          const p = this.pending.get(currentId);
          if (p) {
            this.cancel(p, 'no acknowledgement');
            this.settle(p, new ClientError('TIMEOUT', `subscriptions/listen was not acknowledged within ${opts.timeoutMs ?? this.options.timeoutMs ?? 60_000} ms`));
          }
        }, opts.timeoutMs ?? this.options.timeoutMs ?? 60_000);
        this.roundTrip('subscriptions/listen', { notifications: filter }, {
          noTimeout: true,
          meta: opts.meta,
          onId: (id) => {
            currentId = id;
          },
          onSubscription: (n) => {
            if (n.method === 'notifications/subscriptions/acknowledged') {
              if (!isAcked) {
                isAcked = true;
                clearTimeout(ackTimer);
                agreed = (isObject(n.params.notifications) ? n.params.notifications : {}) as SubscriptionFilter;
                acked();
              }
              return;
            }
            deliver(n);
          },
        }).then(
          () => {
            // The server ended the stream normally (e.g. shutting down): listen again.
            clearTimeout(ackTimer);
            if (!isAcked) failed(new ClientError('STREAM_CLOSED', 'subscriptions/listen ended before it was acknowledged'));
            else void reopen(1);
          },
          (err: unknown) => {
            clearTimeout(ackTimer);
            if (!isAcked) failed(err as Error);
            else void reopen(1);
          },
        );
      });
    const reopen = async (attempt: number): Promise<void> => {
      if (closed || this.state !== 'connected') return;
      if (attempt > policy.maxAttempts) {
        this.warn('LISTEN_LOST', `Gave up re-opening subscriptions/listen after ${attempt - 1} attempts`);
        return;
      }
      const delay = backoffDelay(policy, attempt);
      this.emit('reconnect', { reason: 'listen', attempt, delayMs: delay });
      await sleep(delay).catch(() => {});
      if (closed || this.state !== 'connected') return;
      try {
        await open();
      } catch {
        await reopen(attempt + 1);
      }
    };
    await open();
    return {
      get notifications() {
        return agreed;
      },
      close: async () => {
        closed = true;
        const p = currentId === undefined ? undefined : this.pending.get(currentId);
        if (p) {
          this.cancel(p, 'subscription closed');
          this.settle(p, undefined, {});
        }
      },
    };
  }

  private async listen2025(filter: SubscriptionFilter, onNotification: (n: SubscriptionNotification) => void, opts: RequestOptions): Promise<Subscription> {
    const subs: Subscription[] = [];
    for (const uri of filter.resourceSubscriptions ?? []) {
      subs.push(await this.subscribeResource(uri, () => onNotification({ method: 'notifications/resources/updated', params: { uri } }), opts));
    }
    const wanted = new Set<string>();
    if (filter.toolsListChanged) wanted.add('notifications/tools/list_changed');
    if (filter.resourcesListChanged) wanted.add('notifications/resources/list_changed');
    if (filter.promptsListChanged) wanted.add('notifications/prompts/list_changed');
    const onNote = (msg: JsonRpcNotification) => {
      if (wanted.has(msg.method)) onNotification({ method: msg.method, params: (msg.params ?? {}) as Record<string, unknown> });
    };
    this.on('notification', onNote);
    return {
      notifications: filter,
      close: async () => {
        this.off('notification', onNote);
        for (const s of subs) await s.close();
      },
    };
  }

  /** Lists every prompt (all pages). */
  async listPrompts(opts: RequestOptions = {}): Promise<Prompt[]> {
    return (await this.paginate('prompts/list', 'prompts', opts, (p) => isObject(p) && typeof (p as Prompt).name === 'string')) as Prompt[];
  }

  /** Gets a prompt with its arguments filled. */
  async getPrompt(name: string, args: Record<string, string> = {}, opts: RequestOptions = {}): Promise<GetPromptResult> {
    const r = await this.request('prompts/get', { name, arguments: args }, opts);
    if (!Array.isArray(r.messages)) throw new ClientError('INVALID_RESULT', `prompts/get result for "${name}" has no messages array`, { details: { result: r } });
    return r as unknown as GetPromptResult;
  }

  /** completion/complete for a prompt argument or a resource template variable. */
  async complete(ref: CompletionRef, argument: { name: string; value: string }, context?: { arguments: Record<string, string> }, opts: RequestOptions = {}): Promise<Completion> {
    const params: Record<string, unknown> = { ref, argument };
    if (context) params.context = context;
    const r = await this.request('completion/complete', params, opts);
    const c = r.completion as Completion | undefined;
    if (!isObject(c) || !Array.isArray(c.values)) throw new ClientError('INVALID_RESULT', 'completion/complete result has no completion.values array', { details: { result: r } });
    return c;
  }

  // ───────────────────────────── logging, ping, roots ─────────────────────────────

  /** Sets the log level: logging/setLevel in 2025, the per-request `_meta` level in 2026. */
  async setLoggingLevel(level: LoggingLevel, opts: RequestOptions = {}): Promise<void> {
    if (!LOG_LEVELS.includes(level)) throw new ClientError('INVALID_ARGUMENT', `Unknown log level "${level}" (one of ${LOG_LEVELS.join(', ')})`);
    await this.ready();
    if (this.era_ === '2025') await this.request('logging/setLevel', { level }, opts);
    this.logLevel = level;
  }

  /**
   * Checks the server is alive. 2025: `ping`. 2026 removed ping, so the cheapest request that
   * every server must serve, `server/discover`, stands in for it.
   */
  async ping(opts: RequestOptions = {}): Promise<void> {
    await this.ready();
    await this.request(this.era_ === '2026' ? 'server/discover' : 'ping', {}, opts);
  }

  /** Replaces the roots; in 2025 the server is told with notifications/roots/list_changed. */
  async setRoots(roots: RootsProvider): Promise<void> {
    this.rootsProvider = roots;
    if (this.state === 'connected' && this.era_ === '2025') await this.notify('notifications/roots/list_changed');
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private async paginate(method: string, key: string, opts: RequestOptions, valid: (item: unknown) => boolean): Promise<unknown[]> {
    const out: unknown[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const r = await this.request(method, cursor === undefined ? {} : { cursor }, opts);
      const items = r[key];
      if (!Array.isArray(items)) throw new ClientError('INVALID_RESULT', `${method} result has no "${key}" array`, { details: { result: r } });
      const bad = items.findIndex((i) => !valid(i));
      if (bad !== -1) throw new ClientError('INVALID_RESULT', `${method} result: ${key}[${bad}] is malformed`, { details: { item: items[bad] } });
      out.push(...items);
      const next = r.nextCursor;
      if (next === undefined || next === null) return out;
      if (typeof next !== 'string') throw new ClientError('INVALID_RESULT', `${method} result: nextCursor must be a string`);
      if (seen.has(next)) throw new ClientError('INVALID_RESULT', `${method}: the server returned the cursor "${next}" twice (pagination loop)`);
      seen.add(next);
      cursor = next;
    }
    throw new ClientError('INVALID_RESULT', `${method}: more than 10,000 pages`);
  }

  /**
   * Closes the connection: in-flight calls fail with CONNECTION_CLOSED, the 2025 HTTP session is
   * deleted, a stdio server goes through the shutdown sequence. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' && !this.transport) return;
    const wasConnected = this.state === 'connected';
    const err = new ClientError('CONNECTION_CLOSED', 'The client was closed');
    this.state = 'closed';
    this.closedError = err;
    for (const p of [...this.pending.values()]) {
      this.cancel(p, 'client closed');
      this.settle(p, err);
    }
    for (const ac of this.serverRequests.values()) ac.abort(err);
    const t = this.transport;
    this.transport = undefined;
    if (t instanceof StreamableHttpTransport && this.era_ === '2025' && this.version) {
      t.closeStandaloneStream();
      await t.terminateSession({ 'mcp-protocol-version': this.version });
    }
    await t?.close();
    if (wasConnected) this.emit('close', {});
  }
}

/** Builds the transport for a target. */
function makeTransport(target: ClientTarget, options: ClientOptions): ClientTransport {
  if (typeof target === 'object' && target !== null && 'transport' in target) return target.transport;
  const auth = options.oauth ? new OAuthFlow(options.oauth) : undefined;
  if (target instanceof URL || (typeof target === 'string' && /^https?:\/\//i.test(target.trim()))) {
    return new StreamableHttpTransport(typeof target === 'string' ? target.trim() : target, { headers: options.headers, reconnect: options.reconnect, auth });
  }
  if (typeof target === 'object' && 'url' in target) {
    return new StreamableHttpTransport(target.url, { headers: { ...options.headers, ...target.headers }, reconnect: options.reconnect, auth });
  }
  if (typeof target === 'string') {
    const argv = splitCommand(target);
    if (argv.length === 0) throw new ClientError('INVALID_ARGUMENT', 'Empty command');
    return new StdioTransport({ command: argv[0]!, args: argv.slice(1) });
  }
  return new StdioTransport(target);
}

/**
 * A validator for a tool's outputSchema. Schemas are validated as JSON Schema 2020-12 (the MCP
 * default); a `$schema` naming an older draft (the v1 SDK emits draft-07) is dropped, since the
 * keywords that matter for output validation mean the same in both.
 */
function outputValidator(schema: Record<string, unknown>): Validator {
  const s = { ...schema };
  if (typeof s.$schema === 'string' && !s.$schema.includes('2020-12')) delete s.$schema;
  return lazyValidator(s, 'structuredContent');
}

/** Fills omitted fields of accepted form content from the requested schema's `default`s (SEP-1034). */
export function withDefaults(schema: unknown, content: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...content };
  const props = (schema as { properties?: Record<string, { default?: unknown }> } | undefined)?.properties;
  if (props && typeof props === 'object') {
    for (const [k, s] of Object.entries(props)) {
      if (out[k] === undefined && s && typeof s === 'object' && s.default !== undefined) out[k] = s.default;
    }
  }
  return out;
}

/** One Task shape for both eras: 2026 names `ttlMs`/`pollIntervalMs` what 2025 calls `ttl`/`pollInterval`. */
function normaliseTask(r: Record<string, unknown>): Task {
  const t = { ...((isObject(r.task) ? r.task : r) as Record<string, unknown>) };
  if (typeof t.taskId !== 'string' || typeof t.status !== 'string') throw new ClientError('INVALID_RESULT', 'The result carries no task (taskId and status)', { details: { result: r } });
  if (t.ttl === undefined && typeof t.ttlMs === 'number') t.ttl = t.ttlMs;
  if (t.pollInterval === undefined && typeof t.pollIntervalMs === 'number') t.pollInterval = t.pollIntervalMs;
  delete t.resultType;
  return t as Task;
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function abortError(method: string, signal: AbortSignal): ClientError {
  const reason = signal.reason;
  return new ClientError('ABORTED', `${method} was aborted${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}`, { cause: reason });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError('wait', signal));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError('wait', signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Creates a client for a server URL (Streamable HTTP, with HTTP+SSE fallback), a command line
 * (stdio), a `{ command, args, env }` spec or a custom transport. Call `connect()` before use.
 */
export function createClient(target: ClientTarget, options: ClientOptions = {}): McpClient {
  return new McpClient(target, options);
}


