/**
 * McpServer: the registry and the dispatcher for both protocol eras. Transports hand it decoded,
 * classified messages plus an {@link Exchange} to write related messages to; it never touches
 * sockets or streams itself, which is what lets one server speak stdio, HTTP and more.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { channels, type RequestEvent } from '../runtime/events.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import { resultResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import { ALL_VERSIONS, META, SESSION_VERSIONS, STATELESS_VERSIONS, type Era } from '../protocol/versions.js';
import { InputRequiredSignal, RequestContext, type DownstreamRunner, type FlagEvaluator } from './context.js';
import { makePrompt, makeResource, makeTemplate, makeTool, type PromptEntry, type ResourceEntry, type TemplateEntry, type ToolEntry } from './registry.js';
import type { Peer, Session, Sink } from './session.js';
import { clientNotification } from './client-notification.js';
import { Fanout, type Listener } from './fanout.js';
import { Inflight } from './inflight.js';
import { AdmissionPipeline, type Stage } from '../admission/pipeline.js';
import { HaltStage } from '../admission/stages/halts.js';
import { refusalResponse } from '../admission/wire.js';
import { TaskManager } from './tasks.js';
import { systemClock, type Clock } from '../util/clock.js';
import { StateSealer } from './request-state.js';
import { check2026Meta, check2026Version, inputRequired } from './era2026.js';
import { initialize } from './initialize.js';
import { Incoming, type IncomingRequest, type RequestHook } from './incoming.js';
import { listPage, type Lists } from './lists.js';
import { readResource } from './resources.js';
import { getPrompt } from './prompts.js';
import { complete } from './completion.js';
import { runToolHandler, serveToolCall, toolError } from './tools.js';
import { declaredCapabilities, withTaskCapabilities } from './capabilities.js';
import type { ServerObserver, ServerOptions } from './options.js';
import {
  LOG_LEVELS,
  type ClientCapabilities,
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

export type { ServerOptions, ServerObserver };
export type { RequestEvent };

export type { Listener };

const requestChannel = channels.request;
const requestStartChannel = channels.requestStart;
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
  /** @internal */ readonly fanout: Fanout;
  /** @internal The registry as the list methods (and the flag stage) read it. */ readonly lists: Lists;
  private readonly inflight = new Inflight();
  private hookCount = 0;
  /** The admission pipeline every request passes (src/admission/pipeline.ts); add stages with `use`. */
  readonly admission: AdmissionPipeline;
  /** Built-in `halt` stage: server, transport and tool halts. */
  readonly halts = new HaltStage();
  /** Runtime callbacks. */
  observer: ServerObserver = {};
  /**
   * Set by the runtime: tool handlers run inside this AsyncLocalStorage with the tool's name, so an
   * error that escapes a handler (a throw in a timer, a lost rejection) is traced to its component.
   */
  toolScope: AsyncLocalStorage<string> | undefined;
  /** Set by the runtime: runs handlers' `ctx.downstream(name, fn)` under circuit breakers. Default none (fn runs). */
  downstreams: DownstreamRunner | undefined;
  /** Set by the runtime: answers `ctx.flag(name)` (src/flags). */
  flags: FlagEvaluator | undefined;
  private capsCache: Record<string, unknown> | undefined;
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
    this.fanout = new Fanout(
      (s, change) => this.observer.session?.(s, change),
      () => this.capabilities('2026'),
    );
    this.admission = new AdmissionPipeline((inc) => (inc.era === '2026' ? this.dispatch2026(inc) : this.dispatch2025(inc)));
    this.admission.use(this.halts);
    this.lists = { tools: this.tools, resources: this.resources, templates: this.templates, prompts: this.prompts, admission: this.admission, pageSize: this.pageSize };
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

  /** Halts (`reason`) or resumes (null) a tool: hidden from tools/list, calls answer an error result with the reason. */
  setToolHalted(name: string, reason: string | null): void {
    if (!this.tools.has(name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    if (this.halts.setToolHalted(name, reason)) this.listChanged('tools');
  }

  /** Marks a tool unavailable (listed, calls answer an error result with `reason`) or available (null). */
  setToolUnavailable(name: string, reason: string | null): void {
    if (!this.tools.has(name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    this.halts.setToolUnavailable(name, reason);
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

  /**
   * Adds an admission stage (auth, quotas…) in its phase; a stage with the same name is
   * replaced. Returns a function that removes it. See src/admission/pipeline.ts.
   */
  use(stage: Stage): () => void {
    return this.admission.use(stage);
  }

  /** Alias of {@link McpServer.use}: a `handler`-phase stage, awaited before the handler; a throw refuses. */
  addHook(hook: RequestHook): void {
    this.admission.use({
      name: `hook:${++this.hookCount}`,
      phase: 'handler',
      admit: (inc) => hook(inc),
    });
  }

  /** The capabilities declared, derived from what is registered. */
  capabilities(era: Era = '2025'): Record<string, unknown> {
    this.capsCache ??= declaredCapabilities(this.tools, this.resources, this.templates, this.prompts);
    return withTaskCapabilities(this.capsCache, this.tools, era);
  }

  // ───────────────────────────── peers and notifications ─────────────────────────────

  /** @internal A transport registers a live session so it receives list changes and updates. */
  addSession(s: Session): void {
    this.fanout.addSession(s);
  }

  /** @internal */
  removeSession(s: Session): void {
    this.fanout.removeSession(s);
  }

  /** Live 2025 sessions. */
  sessionCount(): number {
    return this.fanout.sessions.size;
  }

  /** @internal */
  addListener(l: Listener): void {
    this.fanout.addListener(l);
  }

  /** @internal Opens a 2026 `subscriptions/listen` stream (see Fanout.openListener). */
  openListener(request: JsonRpcRequest, send: Sink): Listener {
    return this.fanout.openListener(request, send);
  }

  /** @internal The result that ends a listen stream gracefully (e.g. at shutdown). */
  listenerClosing(l: Listener): JsonRpcResponse {
    return this.fanout.listenerClosing(l);
  }

  /** @internal */
  removeListener(l: Listener): void {
    this.fanout.removeListener(l);
  }

  /** Tells every subscriber (2025 resources/subscribe, 2026 subscriptions/listen) that `uri` changed. */
  notifyResourceUpdated(uri: string): number {
    return this.fanout.notifyResourceUpdated(uri);
  }

  /** Sends a notification to every live 2025 session's standalone stream (e.g. a broadcast log). */
  broadcast(method: string, params?: Record<string, unknown>): void {
    this.fanout.broadcast(method, params);
  }

  /** Set by degradation mode (src/resilience/degradation.ts): true sheds a low-priority notification (see Fanout.shed). */
  get shed(): ((method: string) => boolean) | undefined {
    return this.fanout.shed;
  }
  set shed(f: ((method: string) => boolean) | undefined) {
    this.fanout.shed = f;
  }

  /** @internal Sends the list changes and resource updates held back while shedding. */
  releaseShed(): void {
    this.fanout.releaseHeld();
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
    this.fanout.listChanged(kind);
  }

  // ───────────────────────────── dispatch ─────────────────────────────

  /**
   * Serves one request and resolves with its response (never rejects). A 2026 request whose
   * handler needs client input resolves with an `input_required` result.
   */
  handleRequest(inc: IncomingRequest): Promise<JsonRpcResponse> {
    // Not async itself: an async wrapper would cost one more promise per request. serve() never rejects.
    // Observability binds the request's trace scope to the start channel; runStores enters it for
    // the whole request, so every log line and the completion event below see it.
    if (requestStartChannel.hasSubscribers) return requestStartChannel.runStores(inc, this.serve, this, inc);
    return this.serve(inc);
  }

  private async serve(inc: IncomingRequest): Promise<JsonRpcResponse> {
    const { request } = inc;
    const started = requestChannel.hasSubscribers ? performance.now() : 0;
    let outcome: RequestEvent['outcome'] = 'ok';
    let code: number | undefined;
    // In flight from the start: drain waits for a request an async stage still holds.
    this.inflight.add(inc);
    try {
      let response: JsonRpcResponse;
      try {
        const result = await this.admission.run(inc);
        // An around stage may answer without the handler (a halted tool): give it the era's form.
        if (inc.era === '2026' && result.resultType === undefined) this.complete(result);
        if (result.isError === true) outcome = 'tool_error';
        else if (result.resultType === 'input_required') outcome = 'input_required';
        response = resultResponse(request.id, result);
      } catch (err) {
        // Refusals are requests too: metrics count them as errors, logs show them.
        outcome = 'error';
        response = refusalResponse(request.id, err);
      }
      // The response step: the runtime makes the outcome durable (journal) before it goes out.
      const settling = this.observer.settle?.(inc, response);
      if (settling) {
        try {
          await settling;
        } catch (err) {
          outcome = 'error';
          response = refusalResponse(request.id, err);
        }
      }
      if ('error' in response) code = response.error.code;
      return response;
    } finally {
      this.inflight.delete(inc);
      if (started) {
        const p = request.params;
        const n = p?.name ?? p?.uri;
        const name = typeof n === 'string' ? n : undefined;
        requestChannel.publish({ method: request.method, name, era: inc.era, outcome, durationMs: performance.now() - started, code, incoming: inc } satisfies RequestEvent);
      }
    }
  }

  /** Requests being served right now. */
  inflightRequests(): IncomingRequest[] {
    return [...this.inflight.set];
  }

  /** Resolves true when no request is in flight, or false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.inflight.whenIdle(timeoutMs, this.clock);
  }

  /** Aborts every in-flight request (notifications/cancelled, then the signal); returns how many. */
  abortInflight(reason: string): number {
    return this.inflight.abortAll(reason);
  }

  /** Handles a client notification (initialized, cancelled, roots/list_changed…). */
  handleNotification(msg: JsonRpcNotification, peer: Peer | undefined): void {
    clientNotification(msg, peer);
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
        if (method === 'resources/subscribe') this.fanout.subscribe(session, uri);
        else this.fanout.unsubscribe(session, uri);
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
        return this.common(method, params, ctx, '2025', inc);
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
          result = await (method === 'tools/call' ? serveToolCall(this, this.tools, params, ctx, '2026') : this.common(method, params, ctx, '2026', inc));
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
    const ctx = new RequestContext(inc.request.id, inc.request.method, inc.era, version, inc instanceof Incoming ? inc : inc.signal, meta, caps, clientInfo, inc.exchange, inc.peer, logLevel, inputResponses, requestState);
    ctx.downstreams = this.downstreams;
    ctx.flags = this.flags;
    ctx.shedder = this.fanout;
    return ctx;
  }

  /** Methods whose semantics are the same in both eras. */
  private async common(method: string, params: Record<string, unknown>, ctx: RequestContext, era: Era, inc: IncomingRequest): Promise<Record<string, unknown>> {
    switch (method) {
      case 'tools/call':
        return serveToolCall(this, this.tools, params, ctx, era);
      case 'tools/list':
      case 'resources/list':
      case 'resources/templates/list':
      case 'prompts/list':
        return this.cacheable(await listPage(method, this.lists, params, inc), era);
      case 'resources/read':
        return this.cacheable(await readResource(this.resources, this.templates, params, ctx, era), era);
      case 'prompts/get':
        return getPrompt(this.prompts, params, ctx);
      case 'completion/complete':
        return complete(this.prompts, this.templates, this.resources, params);
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  /**
   * @internal Runs a tool outside a request (the runtime's journal replay) and turns whatever it
   * did into a CallToolResult; a halted or restarting tool answers its refusal, as in a request.
   */
  callTool(params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
    const refusal = typeof params.name === 'string' ? this.halts.toolRefusal(params.name) : null;
    if (refusal !== null) return Promise.resolve(toolError(refusal));
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
