/**
 * McpServer: the registry and the dispatcher for both protocol eras. Transports hand it decoded,
 * classified messages plus an {@link Exchange} to write related messages to; it never touches
 * sockets or streams itself, which is what lets one server speak stdio, HTTP and more.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { channels, type RequestEvent } from '../runtime/events.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { errorResponse, resultResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import { ALL_VERSIONS, META, SESSION_VERSIONS, STATELESS_VERSIONS, type Era } from '../protocol/versions.js';
import { InputRequiredSignal, RequestContext } from './context.js';
import { makePrompt, makeResource, makeTemplate, makeTool, type PromptEntry, type ResourceEntry, type TemplateEntry, type ToolEntry } from './registry.js';
import { ClientCancelled, type Peer, type Session, type Sink } from './session.js';
import { TaskManager } from './tasks.js';
import { systemClock, type Clock } from '../util/clock.js';
import { StateSealer } from './request-state.js';
import { check2026Meta, check2026Version, inputRequired } from './era2026.js';
import { initialize } from './initialize.js';
import { Incoming, type IncomingRequest, type RequestHook } from './incoming.js';
import { paginate } from './pagination.js';
import { readResource } from './resources.js';
import { getPrompt } from './prompts.js';
import { complete } from './completion.js';
import { runToolHandler, serveToolCall } from './tools.js';
import {
  LOG_LEVELS,
  type ClientCapabilities,
  type Icon,
  type Implementation,
  type LoggingLevel,
  type PromptHandler,
  type PromptOptions,
  type ReadResourceResult,
  type ResourceOptions,
  type ResourceReader,
  type ResourceTemplateOptions,
  type TemplateReader,
  type ToolHandler,
  type ToolOptions,
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
  /** Time for whenIdle, task TTLs and (by default) its transports. Default {@link systemClock}. */
  clock?: Clock;
}

export type { RequestEvent };

/** Runtime callbacks the server invokes; all optional, none on the path unless set. */
export interface ServerObserver {
  /** A tool handler finished; `error` is set when it threw (not for isError results it returned). */
  toolResult?(name: string, error: Error | undefined): void;
  /** A 2025 session opened, changed (log level, subscriptions) or closed. */
  session?(session: Session, change: 'open' | 'update' | 'close'): void;
  /**
   * andon:settle — awaited after the handler and before the response goes back to the transport,
   * while the request still counts as in flight: the runtime makes outcomes durable here (the
   * exactly-once journal, acknowledged sessions). A throw replaces the response with that error.
   */
  settle?(inc: IncomingRequest, response: JsonRpcResponse): Promise<void> | void;
}

/** A 2026 `subscriptions/listen` stream. */
export interface Listener {
  id: RequestId;
  filter: { toolsListChanged?: boolean; resourcesListChanged?: boolean; promptsListChanged?: boolean; resourceSubscriptions?: string[] };
  send: Sink;
}

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
  /** The injected clock; transports and the runtime default to it (the runtime may set it before serving). */
  clock: Clock;

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
    this.clock = options.clock ?? systemClock;
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
      let response: JsonRpcResponse;
      try {
        if (this.hooks.length) for (const hook of this.hooks) await hook(inc);
        const result = inc.era === '2026' ? await this.dispatch2026(inc) : await this.dispatch2025(inc);
        if (result.isError === true) outcome = 'tool_error';
        else if (result.resultType === 'input_required') outcome = 'input_required';
        response = resultResponse(request.id, result);
      } catch (err) {
        outcome = 'error';
        response = errorResponse(request.id, err);
      }
      // andon:settle (runtime journal) — carry over into the admission pipeline's response stage.
      const settling = this.observer.settle?.(inc, response);
      if (settling) {
        try {
          await settling;
        } catch (err) {
          outcome = 'error';
          response = errorResponse(request.id, err);
        }
      }
      return response;
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
      const t = this.clock.setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((f) => f !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        this.clock.clearTimeout(t);
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
    if (method === 'initialize') return initialize(this, request, session);
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
        return serveToolCall(this, this.tools, params, ctx, '2025');
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
          result = await (method === 'tools/call' ? serveToolCall(this, this.tools, params, ctx, '2026') : this.common(method, params, ctx, '2026'));
        } catch (err) {
          if (err instanceof InputRequiredSignal || ctx.pendingInputs) return inputRequired(ctx, this.state, this.serverMeta);
          throw err;
        }
        if (ctx.pendingInputs) return inputRequired(ctx, this.state, this.serverMeta);
    }
    return this.complete(result);
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

  /** Methods whose semantics are the same in both eras. */
  private async common(method: string, params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    switch (method) {
      case 'tools/call':
        return serveToolCall(this, this.tools, params, ctx, era);
      case 'tools/list': {
        const visible: Record<string, unknown>[] = [];
        for (const t of this.tools.values()) if (t.haltedReason === null) visible.push(t.wire);
        return this.cacheable(paginate('tools', visible, params, this.pageSize), era);
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
        return this.cacheable(paginate('resources', all, params, this.pageSize), era);
      }
      case 'resources/templates/list':
        return this.cacheable(paginate('resourceTemplates', this.templates.map((t) => t.wire), params, this.pageSize), era);
      case 'resources/read':
        return this.cacheable(await readResource(this.resources, this.templates, params, ctx, era), era);
      case 'prompts/list':
        return this.cacheable(paginate('prompts', [...this.prompts.values()].map((p) => p.wire), params, this.pageSize), era);
      case 'prompts/get':
        return getPrompt(this.prompts, params, ctx);
      case 'completion/complete':
        return complete(this.prompts, this.templates, this.resources, params);
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  /** @internal Runs a tool and turns whatever it did into a CallToolResult (the pipeline is in tools.ts). */
  callTool(params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    return serveToolCall(this, this.tools, params, ctx, era);
  }

  /** @internal */
  runTool(tool: ToolEntry, args: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
    return runToolHandler(this, tool, args, ctx);
  }
}

/** Creates an MCP server. */
export function createServer(options: ServerOptions): McpServer {
  return new McpServer(options);
}

export type { ReadResourceResult };
export { ALL_VERSIONS };
// Transports import the 2026 checks from here.
export { check2026Meta, check2026Version };
export { Incoming, type IncomingRequest, type RequestHook };
