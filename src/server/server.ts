/**
 * McpServer: the registry and the dispatcher for both protocol eras. Transports hand it decoded,
 * classified messages plus an {@link Exchange} to write related messages to; it never touches
 * sockets or streams itself, which is what lets one server speak stdio, HTTP and more.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import { channels, type RequestEvent } from '../runtime/events.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { errorResponse, resultResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import { ALL_VERSIONS, META, SESSION_VERSIONS, STATELESS_VERSIONS, isStatelessVersion, type Era } from '../protocol/versions.js';
import { InputRequiredSignal, RequestContext, type Exchange } from './context.js';
import { makePrompt, makeResource, makeTemplate, makeTool, type PromptEntry, type ResourceEntry, type TemplateEntry, type ToolEntry } from './registry.js';
import { ClientCancelled, type Peer, type Session, type Sink } from './session.js';
import { TaskManager, TASKS_EXTENSION } from './tasks.js';
import { StateSealer } from './request-state.js';
import {
  LOG_LEVELS,
  type CallToolResult,
  type ClientCapabilities,
  type Completer,
  type GetPromptResult,
  type Icon,
  type Implementation,
  type LoggingLevel,
  type PromptHandler,
  type PromptOptions,
  type PromptReturn,
  type ReadResourceResult,
  type ResourceOptions,
  type ResourceReader,
  type ResourceReturn,
  type ResourceTemplateOptions,
  type TemplateReader,
  type ToolHandler,
  type ToolOptions,
  type ToolReturn,
} from './types.js';

/** Options of {@link createServer}. */
export interface ServerOptions {
  name: string;
  version: string;
  title?: string;
  description?: string;
  icons?: Icon[];
  websiteUrl?: string;
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
}

export type { RequestEvent };

/** Everything a transport knows about one incoming request. */
export interface IncomingRequest {
  request: JsonRpcRequest;
  /** The 2025 session, or the stdio peer (which also carries 2026 requests). */
  peer: Peer | undefined;
  /** The 2025 session when the request is a 2025-era request. */
  session: Session | undefined;
  era: Era;
  exchange: Exchange;
  /** Aborted by the transport on cancellation or (2026) stream close. */
  signal: AbortSignal;
  /** Lets the runtime abort the request (drain, halt). */
  abort?: (reason: Error) => void;
  /** HTTP request headers (trace context for observability); undefined on stdio. */
  headers?: IncomingHttpHeaders;
}

/**
 * The IncomingRequest transports build on the hot path: `signal` is a getter, so the AbortSignal
 * (~2.5 µs to create) exists only if a handler, a hook or the runtime asks for it.
 */
export class Incoming implements IncomingRequest {
  constructor(
    readonly request: JsonRpcRequest,
    readonly peer: Peer | undefined,
    readonly session: Session | undefined,
    readonly era: Era,
    readonly exchange: Exchange,
    readonly aborter: AbortController,
    readonly headers?: IncomingHttpHeaders,
  ) {}

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  abort(reason: Error): void {
    this.aborter.abort(reason);
  }
}

/** Runtime callbacks the server invokes; all optional, none on the path unless set. */
export interface ServerObserver {
  /** A tool handler finished; `error` is set when it threw (not for isError results it returned). */
  toolResult?(name: string, error: Error | undefined): void;
  /** A 2025 session opened, changed (log level, subscriptions) or closed. */
  session?(session: Session, change: 'open' | 'update' | 'close'): void;
}

/** A 2026 `subscriptions/listen` stream. */
export interface Listener {
  id: RequestId;
  filter: { toolsListChanged?: boolean; resourcesListChanged?: boolean; promptsListChanged?: boolean; resourceSubscriptions?: string[] };
  send: Sink;
}

/** Hook run before every request is dispatched; throw an McpError to refuse it. */
export type RequestHook = (req: IncomingRequest) => void | Promise<void>;

const requestChannel = channels.request;
const requestStartChannel = channels.requestStart;
const sessionChannel = channels.session;
const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export class McpServer {
  /** The implementation info sent in initialize and server/discover. */
  readonly info: Implementation;
  readonly instructions: string | undefined;
  private readonly pageSize: number;
  private readonly ttlMs: number;
  private readonly cacheScope: 'public' | 'private';
  private readonly tools = new Map<string, ToolEntry>();
  private readonly resources = new Map<string, ResourceEntry>();
  private readonly templates: TemplateEntry[] = [];
  private readonly prompts = new Map<string, PromptEntry>();
  private readonly sessions = new Set<Session>();
  private readonly subscribers = new Map<string, Set<Session>>();
  private readonly listeners = new Set<Listener>();
  private readonly hooks: RequestHook[] = [];
  private readonly inflight = new Set<IncomingRequest>();
  private idleWaiters: Array<() => void> = [];
  /** Bumped whenever the in-flight set changes (the runtime journals it when it moves). */
  inflightVersion = 0;
  /** Admission gate set by the runtime (halted node or server, draining): an error refuses the request. */
  gate: ((inc: IncomingRequest) => McpError | null) | null = null;
  /** Runtime callbacks. */
  observer: ServerObserver = {};
  /**
   * Set by the runtime: tool handlers run inside this AsyncLocalStorage with the tool's name, so an
   * error that escapes a handler (a throw in a timer, a lost rejection) is traced to its component.
   */
  toolScope: AsyncLocalStorage<string> | undefined;
  private capsCache: Record<string, unknown> | undefined;
  private changed = { tools: false, resources: false, prompts: false, scheduled: false };
  private readonly serverMeta: Record<string, unknown>;
  /** Task support for tools that declare it (2025 tasks, 2026 tasks extension). */
  readonly tasks: TaskManager;
  private readonly state: StateSealer;

  constructor(options: ServerOptions) {
    const info: Implementation = { name: options.name, version: options.version };
    if (options.title) info.title = options.title;
    if (options.description) info.description = options.description;
    if (options.icons) info.icons = options.icons;
    if (options.websiteUrl) info.websiteUrl = options.websiteUrl;
    this.info = info;
    this.instructions = options.instructions;
    this.pageSize = options.pageSize ?? 100;
    this.ttlMs = options.cache?.ttlMs ?? 0;
    this.cacheScope = options.cache?.scope ?? 'private';
    this.serverMeta = { [META.serverInfo]: info };
    this.tasks = new TaskManager(this);
    this.state = new StateSealer(options.stateSecret);
  }

  // ───────────────────────────── registration ─────────────────────────────

  /** Registers a tool. Re-registering a name replaces it. Sends list_changed to live clients. */
  tool<A = any>(name: string, options: ToolOptions, handler: ToolHandler<A>): this;
  tool<A = any>(name: string, handler: ToolHandler<A>): this;
  tool(name: string, a: ToolOptions | ToolHandler, b?: ToolHandler): this {
    const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b as ToolHandler];
    this.tools.set(name, makeTool(name, options, handler));
    this.listChanged('tools');
    return this;
  }

  /** Removes a tool; returns whether it existed. */
  removeTool(name: string): boolean {
    const had = this.tools.delete(name);
    if (had) this.listChanged('tools');
    return had;
  }

  /** Names of registered tools, in registration order. */
  toolNames(): string[] {
    return [...this.tools.keys()];
  }

  /**
   * Halts (reason given) or resumes (null) one tool: a halted tool is hidden from tools/list and
   * calls to it return an error result carrying the reason. Clients are told the list changed.
   */
  setToolHalted(name: string, reason: string | null): void {
    const t = this.tools.get(name);
    if (!t) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    if (t.haltedReason === reason) return;
    t.haltedReason = reason;
    this.listChanged('tools');
  }

  /**
   * Marks a tool unavailable (reason) or available again (null) without hiding it, e.g. while its
   * supervisor waits to restart it: calls return an error result carrying the reason.
   */
  setToolUnavailable(name: string, reason: string | null): void {
    const t = this.tools.get(name);
    if (!t) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    t.unavailableReason = reason;
  }

  /** Options a tool was registered with (e.g. `idempotent`), or undefined. */
  toolOptions(name: string): ToolOptions | undefined {
    return this.tools.get(name)?.options;
  }

  /** Registers a fixed resource. */
  resource(uri: string, options: ResourceOptions, read: ResourceReader): this;
  resource(uri: string, read: ResourceReader): this;
  resource(uri: string, a: ResourceOptions | ResourceReader, b?: ResourceReader): this {
    const [options, read] = typeof a === 'function' ? [{}, a] : [a, b as ResourceReader];
    this.resources.set(uri, makeResource(uri, options, read));
    this.listChanged('resources');
    return this;
  }

  /** Registers a resource template such as `weather://{city}/current`. */
  resourceTemplate(template: string, options: ResourceTemplateOptions, read: TemplateReader): this {
    this.templates.push(makeTemplate(template, options, read));
    this.listChanged('resources');
    return this;
  }

  /** Registers a prompt. */
  prompt(name: string, options: PromptOptions, handler: PromptHandler): this;
  prompt(name: string, handler: PromptHandler): this;
  prompt(name: string, a: PromptOptions | PromptHandler, b?: PromptHandler): this {
    const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b as PromptHandler];
    this.prompts.set(name, makePrompt(name, options, handler));
    this.listChanged('prompts');
    return this;
  }

  /** Adds a hook that runs before each request is dispatched (halt checks, rate limits…). */
  addHook(hook: RequestHook): void {
    this.hooks.push(hook);
  }

  /** The capabilities declared, derived from what is registered. */
  capabilities(era: Era = '2025'): Record<string, unknown> {
    if (!this.capsCache) {
      const caps: Record<string, unknown> = { logging: {} };
      if (this.tools.size) caps.tools = { listChanged: true };
      if (this.resources.size || this.templates.length) caps.resources = { subscribe: true, listChanged: true };
      if (this.prompts.size) caps.prompts = { listChanged: true };
      let completions = false;
      for (const p of this.prompts.values()) if (p.completers.size) completions = true;
      for (const t of this.templates) if (t.options.complete) completions = true;
      if (completions) caps.completions = {};
      this.capsCache = caps;
    }
    const taskTools = [...this.tools.values()].some((t) => t.options.taskSupport && t.options.taskSupport !== 'forbidden');
    if (!taskTools) return this.capsCache;
    if (era === '2025') return { ...this.capsCache, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } };
    return { ...this.capsCache, extensions: { 'io.modelcontextprotocol/tasks': {} } };
  }

  // ───────────────────────────── peers and notifications ─────────────────────────────

  /** @internal A transport registers a live session so it receives list changes and updates. */
  addSession(s: Session): void {
    this.sessions.add(s);
    // A restored session comes back with its subscriptions: index them so updates fire.
    for (const uri of s.subscriptions) {
      let set = this.subscribers.get(uri);
      if (!set) this.subscribers.set(uri, (set = new Set()));
      set.add(s);
    }
    this.observer.session?.(s, 'open');
    if (sessionChannel.hasSubscribers) sessionChannel.publish({ action: 'open', era: '2025', transport: s.transport });
  }

  /** @internal */
  removeSession(s: Session): void {
    if (this.sessions.delete(s)) {
      this.observer.session?.(s, 'close');
      if (sessionChannel.hasSubscribers) sessionChannel.publish({ action: 'close', era: '2025', transport: s.transport });
    }
    for (const uri of s.subscriptions) this.subscribers.get(uri)?.delete(s);
    s.subscriptions.clear();
    s.closed = true;
    s.abortAll('session closed');
    s.rejectAll('session closed');
  }

  /** Live 2025 sessions. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** @internal */
  addListener(l: Listener): void {
    this.listeners.add(l);
  }

  /**
   * @internal Opens a 2026 `subscriptions/listen` stream: agrees the filter against what this
   * server supports, sends the acknowledgement first, then registers the listener.
   */
  openListener(request: JsonRpcRequest, send: Sink): Listener {
    const requested = ((request.params ?? {}).notifications ?? {}) as Listener['filter'];
    const caps = this.capabilities('2026') as Record<string, Record<string, unknown> | undefined>;
    const agreed: Listener['filter'] = {};
    if (requested.toolsListChanged && caps.tools) agreed.toolsListChanged = true;
    if (requested.promptsListChanged && caps.prompts) agreed.promptsListChanged = true;
    if (requested.resourcesListChanged && caps.resources) agreed.resourcesListChanged = true;
    if (Array.isArray(requested.resourceSubscriptions) && caps.resources) agreed.resourceSubscriptions = requested.resourceSubscriptions.filter((u) => typeof u === 'string');
    const listener: Listener = { id: request.id, filter: agreed, send };
    send({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: agreed, _meta: { [META.subscriptionId]: request.id } } });
    this.listeners.add(listener);
    return listener;
  }

  /** @internal The result that ends a listen stream gracefully (e.g. at shutdown). */
  listenerClosing(l: Listener): JsonRpcResponse {
    this.listeners.delete(l);
    return { jsonrpc: '2.0', id: l.id, result: { resultType: 'complete', _meta: { [META.subscriptionId]: l.id } } };
  }

  /** @internal */
  removeListener(l: Listener): void {
    this.listeners.delete(l);
  }

  /** Tells every subscriber (2025 resources/subscribe, 2026 subscriptions/listen) that `uri` changed. */
  notifyResourceUpdated(uri: string): number {
    let sent = 0;
    const params = { uri };
    const msg: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/resources/updated', params };
    const subs = this.subscribers.get(uri);
    if (subs) {
      for (const s of subs) {
        if (s.standalone) {
          s.standalone(msg);
          sent++;
        }
      }
    }
    for (const l of this.listeners) {
      if (l.filter.resourceSubscriptions?.includes(uri)) {
        l.send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: { [META.subscriptionId]: l.id } } });
        sent++;
      }
    }
    return sent;
  }

  /** Sends a notification to every live 2025 session's standalone stream (e.g. a broadcast log). */
  broadcast(method: string, params?: Record<string, unknown>): void {
    const msg: JsonRpcNotification = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    for (const s of this.sessions) if (s.initialized && s.standalone) s.standalone(msg);
  }

  /** Tells clients (2025 sessions and 2026 listeners) that a list changed, e.g. after an external reload. */
  notifyListChanged(kind: 'tools' | 'resources' | 'prompts'): void {
    this.listChanged(kind);
  }

  /** @internal `x-mcp-header` parameters of a tool: [argument name, header suffix]. */
  toolHeaderParams(name: string): Array<[string, string]> | undefined {
    return this.tools.get(name)?.headerParams;
  }

  private listChanged(kind: 'tools' | 'resources' | 'prompts'): void {
    this.capsCache = undefined;
    this.changed[kind] = true;
    if (this.changed.scheduled) return;
    this.changed.scheduled = true;
    // Coalesce a burst of registrations into one notification per kind.
    queueMicrotask(() => {
      const c = this.changed;
      this.changed = { tools: false, resources: false, prompts: false, scheduled: false };
      for (const kind2 of ['tools', 'resources', 'prompts'] as const) {
        if (!c[kind2]) continue;
        const method = `notifications/${kind2}/list_changed`;
        this.broadcast(method);
        const key = `${kind2}ListChanged` as const;
        for (const l of this.listeners) {
          if (l.filter[key]) l.send({ jsonrpc: '2.0', method, params: { _meta: { [META.subscriptionId]: l.id } } });
        }
      }
    });
  }

  // ───────────────────────────── dispatch ─────────────────────────────

  /**
   * Serves one request and resolves with its response (never rejects). A 2026 request whose
   * handler needs client input resolves with an `input_required` result.
   */
  handleRequest(inc: IncomingRequest): Promise<JsonRpcResponse> {
    // Not async itself: returning serve()'s promise from an async function would cost one more
    // promise and a thenable job per request. serve() never rejects.
    // Observability binds the request's trace scope to the start channel; runStores enters it for
    // the whole request, so every log line and the completion event below see it.
    if (requestStartChannel.hasSubscribers) return requestStartChannel.runStores(inc, this.serve, this, inc);
    return this.serve(inc);
  }

  private async serve(inc: IncomingRequest): Promise<JsonRpcResponse> {
    const { request } = inc;
    const started = requestChannel.hasSubscribers ? performance.now() : 0;
    let outcome: RequestEvent['outcome'] = 'ok';
    if (this.gate) {
      const refused = this.gate(inc);
      if (refused) {
        // Refused requests are requests too: metrics count them as errors, logs show them.
        if (started) requestChannel.publish({ method: request.method, name: (request.params?.name ?? request.params?.uri) as string | undefined, era: inc.era, outcome: 'error', durationMs: performance.now() - started, incoming: inc } satisfies RequestEvent);
        return errorResponse(request.id, refused);
      }
    }
    this.inflight.add(inc);
    this.inflightVersion++;
    try {
      if (this.hooks.length) for (const hook of this.hooks) await hook(inc);
      const result = inc.era === '2026' ? await this.dispatch2026(inc) : await this.dispatch2025(inc);
      if (result.isError === true) outcome = 'tool_error';
      else if (result.resultType === 'input_required') outcome = 'input_required';
      return resultResponse(request.id, result);
    } catch (err) {
      outcome = 'error';
      return errorResponse(request.id, err);
    } finally {
      this.inflight.delete(inc);
      this.inflightVersion++;
      if (this.inflight.size === 0 && this.idleWaiters.length) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
      if (started) {
        const p = request.params;
        const name = (p?.name ?? p?.uri) as string | undefined;
        requestChannel.publish({ method: request.method, name, era: inc.era, outcome, durationMs: performance.now() - started, incoming: inc } satisfies RequestEvent);
      }
    }
  }

  /** Requests being served right now. */
  inflightRequests(): IncomingRequest[] {
    return [...this.inflight];
  }

  /** Resolves true when no request is in flight, or false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((f) => f !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /**
   * Aborts every in-flight request: the client is sent notifications/cancelled on the request's
   * channel, then the handler's signal is aborted. Returns how many were aborted.
   */
  abortInflight(reason: string): number {
    let n = 0;
    for (const inc of this.inflight) {
      if (inc.signal.aborted) continue;
      n++;
      try {
        inc.exchange.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: inc.request.id, reason } });
      } catch {
        // The channel may already be gone; aborting the handler is what matters.
      }
      inc.abort?.(new Error(reason));
    }
    return n;
  }

  /** Handles a client notification (initialized, cancelled, roots/list_changed…). */
  handleNotification(msg: JsonRpcNotification, peer: Peer | undefined): void {
    switch (msg.method) {
      case 'notifications/initialized':
        if (peer && 'initialized' in peer) (peer as Session).initialized = true;
        return;
      case 'notifications/cancelled': {
        const id = msg.params?.requestId as RequestId | undefined;
        if (id === undefined || !peer) return;
        const ac = peer.inflight.get(id);
        if (ac) ac.abort(new ClientCancelled(typeof msg.params?.reason === 'string' ? msg.params.reason : 'cancelled by client'));
        return;
      }
      default:
        // Unknown notifications are ignored, as JSON-RPC requires (no response to a notification).
        return;
    }
  }

  /** Routes a client's response to a server→client request. Returns false if nothing awaited it. */
  handleResponse(msg: JsonRpcResponse, peer: Peer | undefined): boolean {
    return peer ? peer.resolveResponse(msg) : false;
  }

  private async dispatch2025(inc: IncomingRequest): Promise<Record<string, unknown>> {
    const { request, session } = inc;
    const method = request.method;
    if (method === 'initialize') return this.initialize(request, session);
    if (method === 'ping') return {};
    if (!session || !session.protocolVersion) {
      throw new McpError(ErrorCode.InvalidRequest, `Invalid Request: "${method}" before initialize; send initialize first`);
    }
    const params = request.params ?? EMPTY;
    const ctx = this.context(inc, session.protocolVersion, (params._meta as Record<string, unknown>) ?? EMPTY, session.clientCapabilities, session.clientInfo, undefined, undefined, undefined);
    switch (method) {
      case 'logging/setLevel': {
        const level = params.level;
        if (typeof level !== 'string' || !LOG_LEVELS.includes(level as LoggingLevel)) {
          throw invalidParams('level', `must be one of ${LOG_LEVELS.join(', ')}`);
        }
        session.logLevel = level as LoggingLevel;
        this.observer.session?.(session, 'update');
        return {};
      }
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = params.uri;
        if (typeof uri !== 'string') throw invalidParams('uri', 'must be a string');
        if (method === 'resources/subscribe') {
          session.subscriptions.add(uri);
          let set = this.subscribers.get(uri);
          if (!set) this.subscribers.set(uri, (set = new Set()));
          set.add(session);
        } else {
          session.subscriptions.delete(uri);
          this.subscribers.get(uri)?.delete(session);
        }
        this.observer.session?.(session, 'update');
        return {};
      }
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/list':
      case 'tasks/cancel':
        return this.tasks.handle(method, params, ctx, session);
      case 'tools/call':
        // The hot method skips common()'s async frame: one promise and one frame less per call.
        return this.callTool(params, ctx, '2025');
      default:
        return this.common(method, params, ctx, '2025');
    }
  }

  private async dispatch2026(inc: IncomingRequest): Promise<Record<string, unknown>> {
    const { request } = inc;
    const method = request.method;
    const params = request.params ?? EMPTY;
    const meta = (params._meta as Record<string, unknown> | undefined) ?? EMPTY;
    const version = meta[META.protocolVersion];
    const metaError = check2026Meta(params);
    if (metaError) throw metaError;
    const versionError = check2026Version(version as string);
    if (versionError) throw versionError;
    if (method === 'server/discover') {
      const r: Record<string, unknown> = {
        supportedVersions: [...STATELESS_VERSIONS, ...SESSION_VERSIONS],
        capabilities: this.capabilities('2026'),
        ttlMs: this.ttlMs,
        cacheScope: this.cacheScope,
      };
      if (this.instructions) r.instructions = this.instructions;
      return this.complete(r);
    }
    const caps = meta[META.clientCapabilities] as ClientCapabilities;
    const levelRaw = meta[META.logLevel];
    if (levelRaw !== undefined && !LOG_LEVELS.includes(levelRaw as LoggingLevel)) {
      throw invalidParams(`_meta.${META.logLevel}`, `must be one of ${LOG_LEVELS.join(', ')}`);
    }
    const inputResponses = params.inputResponses as Record<string, unknown> | undefined;
    if (inputResponses !== undefined && (inputResponses === null || typeof inputResponses !== 'object')) {
      throw invalidParams('inputResponses', 'must be an object');
    }
    // The sealed state carries the handler's own state and the answers of earlier rounds: a client
    // answers only the latest input requests, so earlier answers must travel with the state.
    let requestState: string | undefined;
    let answers = inputResponses;
    if (params.requestState !== undefined) {
      if (typeof params.requestState !== 'string') throw invalidParams('requestState', 'must be a string');
      const opened = JSON.parse(this.state.open(params.requestState)) as { u?: string; a?: Record<string, unknown> };
      requestState = opened.u;
      if (opened.a) answers = { ...opened.a, ...inputResponses };
    }
    const ctx = this.context(inc, version as string, meta, caps, meta[META.clientInfo] as Implementation | undefined, levelRaw as LoggingLevel | undefined, answers, requestState);
    let result: Record<string, unknown>;
    switch (method) {
      case 'subscriptions/listen':
        throw new McpError(ErrorCode.InvalidRequest, 'subscriptions/listen needs a streaming transport');
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/list':
      case 'tasks/cancel':
      case 'tasks/update':
        result = await this.tasks.handle2026(method, params, ctx);
        break;
      case 'ping':
      case 'initialize':
      case 'logging/setLevel':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method} (removed in protocol ${String(version)})`);
      default:
        try {
          result = await (method === 'tools/call' ? this.callTool(params, ctx, '2026') : this.common(method, params, ctx, '2026'));
        } catch (err) {
          if (err instanceof InputRequiredSignal || ctx.pendingInputs) return this.inputRequired(ctx);
          throw err;
        }
        if (ctx.pendingInputs) return this.inputRequired(ctx);
    }
    return this.complete(result);
  }

  private inputRequired(ctx: RequestContext): Record<string, unknown> {
    const r: Record<string, unknown> = { resultType: 'input_required', inputRequests: ctx.pendingInputs ?? {} };
    const user = ctx.nextRequestState ?? ctx.requestState;
    const used = ctx.usedAnswers;
    if (user !== undefined || used) {
      const env: { u?: string; a?: Record<string, unknown> } = {};
      if (user !== undefined) env.u = user;
      if (used) env.a = used;
      r.requestState = this.state.seal(JSON.stringify(env));
    }
    r._meta = this.serverMeta;
    return r;
  }

  private complete(result: Record<string, unknown>): Record<string, unknown> {
    // A task-creating call already says `resultType: "task"`.
    result.resultType ??= 'complete';
    if (result._meta === undefined) result._meta = this.serverMeta;
    return result;
  }

  private cacheable(result: Record<string, unknown>, era: Era): Record<string, unknown> {
    if (era === '2026') {
      result.ttlMs = this.ttlMs;
      result.cacheScope = this.cacheScope;
    }
    return result;
  }

  private context(
    inc: IncomingRequest,
    version: string,
    meta: Record<string, unknown>,
    caps: ClientCapabilities,
    clientInfo: Implementation | undefined,
    logLevel: LoggingLevel | undefined,
    inputResponses: Record<string, unknown> | undefined,
    requestState: string | undefined,
  ): RequestContext {
    return new RequestContext(inc.request.id, inc.request.method, inc.era, version, inc instanceof Incoming ? inc : inc.signal, meta, caps, clientInfo, inc.exchange, inc.peer, logLevel, inputResponses, requestState);
  }

  private initialize(request: JsonRpcRequest, session: Session | undefined): Record<string, unknown> {
    const p = request.params ?? EMPTY;
    const requested = p.protocolVersion;
    if (typeof requested !== 'string') throw invalidParams('protocolVersion', 'must be a string');
    if (p.capabilities !== undefined && (typeof p.capabilities !== 'object' || p.capabilities === null)) {
      throw invalidParams('capabilities', 'must be an object');
    }
    const info = p.clientInfo as Implementation | undefined;
    if (info !== undefined && (typeof info !== 'object' || info === null || typeof info.name !== 'string')) {
      throw invalidParams('clientInfo', 'must be an object with a string "name"');
    }
    // The client offers its latest; we echo it when we speak it, else offer our latest session version.
    const version = SESSION_VERSIONS.includes(requested) ? requested : SESSION_VERSIONS[0]!;
    if (session) {
      session.protocolVersion = version;
      session.clientCapabilities = (p.capabilities as ClientCapabilities) ?? {};
      session.clientInfo = info;
    }
    const result: Record<string, unknown> = {
      protocolVersion: version,
      capabilities: this.capabilities('2025'),
      serverInfo: this.info,
    };
    if (this.instructions) result.instructions = this.instructions;
    return result;
  }

  /** Methods whose semantics are the same in both eras. */
  private async common(method: string, params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    switch (method) {
      case 'tools/call':
        return this.callTool(params, ctx, era);
      case 'tools/list': {
        const visible: Record<string, unknown>[] = [];
        for (const t of this.tools.values()) if (t.haltedReason === null) visible.push(t.wire);
        return this.cacheable(this.page('tools', visible, params), era);
      }
      case 'resources/list': {
        const all: Record<string, unknown>[] = [];
        for (const r of this.resources.values()) all.push(r.wire);
        for (const t of this.templates) {
          if (!t.options.list) continue;
          for (const item of await t.options.list()) {
            const { uri, ...rest } = item;
            all.push({ uri, name: rest.name ?? uri, ...rest });
          }
        }
        return this.cacheable(this.page('resources', all, params), era);
      }
      case 'resources/templates/list':
        return this.cacheable(this.page('resourceTemplates', this.templates.map((t) => t.wire), params), era);
      case 'resources/read':
        return this.cacheable(await this.readResource(params, ctx, era), era);
      case 'prompts/list':
        return this.cacheable(this.page('prompts', [...this.prompts.values()].map((p) => p.wire), params), era);
      case 'prompts/get':
        return this.getPrompt(params, ctx);
      case 'completion/complete':
        return this.complete2(params);
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  private page(key: string, items: Record<string, unknown>[], params: Record<string, unknown>): Record<string, unknown> {
    let start = 0;
    const cursor = params.cursor;
    if (cursor !== undefined) {
      if (typeof cursor !== 'string') throw invalidParams('cursor', 'must be a string');
      const n = Number.parseInt(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^o:/, ''), 10);
      if (!Buffer.from(cursor, 'base64url').toString('utf8').startsWith('o:') || !Number.isInteger(n) || n < 0 || n > items.length) {
        throw invalidParams('cursor', 'is not a cursor this server issued');
      }
      start = n;
    }
    const end = start + this.pageSize;
    const result: Record<string, unknown> = { [key]: start === 0 && end >= items.length ? items : items.slice(start, end) };
    if (end < items.length) result.nextCursor = Buffer.from(`o:${end}`).toString('base64url');
    return result;
  }

  /** @internal Runs a tool and turns whatever it did into a CallToolResult. */
  async callTool(params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    const name = params.name;
    if (typeof name !== 'string') throw invalidParams('name', 'must be a string');
    const tool = this.tools.get(name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    if (tool.haltedReason !== null) return toolError(`Tool "${name}" is halted: ${tool.haltedReason}`);
    if (tool.unavailableReason !== null) return toolError(`Tool "${name}" is unavailable: ${tool.unavailableReason}`);
    let args = params.arguments as Record<string, unknown> | undefined;
    if (args === undefined) args = {};
    else if (args === null || typeof args !== 'object' || Array.isArray(args)) throw invalidParams('arguments', 'must be an object');
    if (tool.validateInput) {
      const problem = tool.validateInput(args);
      if (problem) return toolError(`Invalid arguments for tool "${name}": ${problem}`);
    }
    const support = tool.options.taskSupport ?? 'forbidden';
    if (tool.options.prepare) ctx.prepared = await tool.options.prepare(args, ctx);
    if (era === '2026') {
      // 2026 tasks extension: the server decides; a `task` param from older clients is ignored.
      const ext = (ctx.clientCapabilities.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION] !== undefined;
      if (support === 'required' && !ext) {
        throw new McpError(ErrorCode.MissingRequiredClientCapability, `Tool "${name}" runs only as a task: declare the ${TASKS_EXTENSION} extension`, {
          requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
        });
      }
      if (support !== 'forbidden' && ext) return this.tasks.create(tool, args, params, ctx, era);
      return this.runTool(tool, args, ctx);
    }
    if (params.task !== undefined || support === 'required') return this.tasks.create(tool, args, params, ctx, era);
    return this.runTool(tool, args, ctx);
  }

  /** @internal */
  async runTool(tool: ToolEntry, args: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
    let ret: ToolReturn;
    try {
      ret = await (this.toolScope ? this.toolScope.run(tool.name, tool.handler, args, ctx) : tool.handler(args, ctx));
      this.observer.toolResult?.(tool.name, undefined);
    } catch (err) {
      if (err instanceof InputRequiredSignal) throw err;
      if (ctx.signal.aborted) return toolError(`Tool "${tool.name}" was cancelled`);
      // An McpError is the handler saying "protocol error" on purpose (-32042 URL elicitation
      // required, -32021 missing capability, …): it goes out as a JSON-RPC error.
      if (err instanceof McpError) throw err;
      this.observer.toolResult?.(tool.name, err instanceof Error ? err : new Error(String(err)));
      // The message is the tool's own words; the stack stays on the server.
      return toolError(err instanceof Error ? err.message || err.name : String(err));
    }
    const result = normaliseToolResult(ret, tool.validateOutput !== null);
    if (tool.validateOutput && !result.isError) {
      if (result.structuredContent === undefined) return toolError(`Tool "${tool.name}" declares an outputSchema but returned no structuredContent`);
      const problem = tool.validateOutput(result.structuredContent);
      if (problem) return toolError(`Tool "${tool.name}" returned output that does not match its outputSchema: ${problem}`);
    }
    return result as unknown as Record<string, unknown>;
  }

  private async readResource(params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    const uri = params.uri;
    if (typeof uri !== 'string') throw invalidParams('uri', 'must be a string');
    const exact = this.resources.get(uri);
    if (exact) return normaliseResource(await exact.read(uri, ctx), uri, exact.options.mimeType);
    for (const t of this.templates) {
      const vars = t.template.match(uri);
      if (vars) return normaliseResource(await t.read(uri, vars, ctx), uri, t.options.mimeType);
    }
    const code = era === '2026' ? ErrorCode.InvalidParams : ErrorCode.ResourceNotFound;
    throw new McpError(code, `Resource not found: ${uri}`, { uri });
  }

  private async getPrompt(params: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
    const name = params.name;
    if (typeof name !== 'string') throw invalidParams('name', 'must be a string');
    const prompt = this.prompts.get(name);
    if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw invalidParams('arguments', 'must be an object');
    for (const a of prompt.options.arguments ?? []) {
      const v = args[a.name];
      if (a.required && (v === undefined || v === null)) throw invalidParams(`arguments.${a.name}`, 'is required');
      if (v !== undefined && typeof v !== 'string') throw invalidParams(`arguments.${a.name}`, 'must be a string');
    }
    const out = normalisePrompt(await prompt.handler(args as Record<string, string>, ctx));
    if (prompt.options.description && out.description === undefined) out.description = prompt.options.description;
    return out as unknown as Record<string, unknown>;
  }

  private async complete2(params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = params.ref as Record<string, unknown> | undefined;
    const arg = params.argument as Record<string, unknown> | undefined;
    if (!ref || typeof ref !== 'object') throw invalidParams('ref', 'must be an object');
    if (!arg || typeof arg.name !== 'string' || typeof arg.value !== 'string') {
      throw invalidParams('argument', 'must be an object with string "name" and "value"');
    }
    const context = { arguments: ((params.context as Record<string, unknown> | undefined)?.arguments ?? {}) as Record<string, string> };
    let completer: Completer | undefined;
    if (ref.type === 'ref/prompt') {
      const p = this.prompts.get(ref.name as string);
      if (!p) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${String(ref.name)}`);
      completer = p.completers.get(arg.name);
    } else if (ref.type === 'ref/resource') {
      const t = this.templates.find((x) => x.template.template === ref.uri);
      if (!t && !this.resources.has(ref.uri as string)) throw new McpError(ErrorCode.InvalidParams, `Unknown resource template: ${String(ref.uri)}`);
      completer = t?.options.complete?.[arg.name];
    } else {
      throw invalidParams('ref.type', 'must be "ref/prompt" or "ref/resource"');
    }
    if (!completer) return { completion: { values: [], hasMore: false } };
    const got = await completer(arg.value, context);
    const list = Array.isArray(got) ? { values: got } : got;
    const values = list.values.slice(0, 100);
    const completion: Record<string, unknown> = { values };
    completion.total = list.total ?? list.values.length;
    completion.hasMore = list.hasMore ?? list.values.length > 100;
    return { completion };
  }
}

/**
 * 2026: `_meta` with protocolVersion and clientCapabilities is required on every request.
 * Returns the -32602 error naming what is missing, or null.
 */
export function check2026Meta(params: Record<string, unknown> | undefined): McpError | null {
  const meta = params?._meta as Record<string, unknown> | undefined;
  if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    return new McpError(ErrorCode.InvalidParams, `Invalid params: "_meta" is required on every ${STATELESS_VERSIONS[0]} request (with ${META.protocolVersion} and ${META.clientCapabilities})`);
  }
  const versionOk = typeof meta[META.protocolVersion] === 'string';
  const caps = meta[META.clientCapabilities];
  const capsOk = caps !== null && typeof caps === 'object' && !Array.isArray(caps);
  if (versionOk && capsOk) return null;
  const missing: string[] = [];
  if (!versionOk) missing.push(META.protocolVersion);
  if (!capsOk) missing.push(META.clientCapabilities);
  return new McpError(ErrorCode.InvalidParams, `Invalid params: missing or malformed _meta keys: ${missing.join(', ')}`);
}

/** 2026: -32022 with the requested and supported versions when `version` is not served statelessly. */
export function check2026Version(version: string): McpError | null {
  if (isStatelessVersion(version)) return null;
  return new McpError(ErrorCode.UnsupportedProtocolVersion, `Unsupported protocol version: ${version}`, { requested: version, supported: [...STATELESS_VERSIONS] });
}

function toolError(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true };
}

function normaliseToolResult(ret: ToolReturn, structured: boolean): CallToolResult {
  if (typeof ret === 'string') return { content: [{ type: 'text', text: ret }] };
  if (ret && typeof ret === 'object' && Array.isArray((ret as CallToolResult).content)) {
    const r = ret as CallToolResult;
    if (r.structuredContent !== undefined && r.content.length === 0) {
      return { ...r, content: [{ type: 'text', text: JSON.stringify(r.structuredContent) }] };
    }
    return r;
  }
  if (ret && typeof ret === 'object') {
    const obj = ret as Record<string, unknown>;
    if (structured) return { content: [{ type: 'text', text: JSON.stringify(obj) }], structuredContent: obj };
    return { content: [{ type: 'text', text: JSON.stringify(obj) }] };
  }
  return { content: [{ type: 'text', text: String(ret) }] };
}

function normaliseResource(ret: ResourceReturn, uri: string, mimeType: string | undefined): Record<string, unknown> {
  if (typeof ret === 'string') return { contents: [mimeType ? { uri, mimeType, text: ret } : { uri, text: ret }] };
  if ('contents' in ret && Array.isArray(ret.contents)) return ret as unknown as Record<string, unknown>;
  return { contents: [ret] };
}

function normalisePrompt(ret: PromptReturn): GetPromptResult {
  if (typeof ret === 'string') return { messages: [{ role: 'user', content: { type: 'text', text: ret } }] };
  if (Array.isArray(ret)) return { messages: ret };
  return { ...ret };
}

/** Creates an MCP server. */
export function createServer(options: ServerOptions): McpServer {
  return new McpServer(options);
}

export type { ReadResourceResult };
export { ALL_VERSIONS };
