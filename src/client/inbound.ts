/**
 * What the server sends the client, and how the client answers: notifications, server→client
 * requests (sampling, elicitation, roots, ping) and the capabilities the handlers declare.
 *
 * The server's requests for input are answered by the same handlers in both eras: as
 * server→client requests in 2025, and as `input_required` results that {@link ClientInbound.request}
 * retries with `inputResponses` in 2026.
 */
import { errorResponse, resultResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { META, V2025_11_25, type Era } from '../protocol/versions.js';
import type { ClientCapabilities, ElicitFormParams, ElicitUrlParams, LoggingLevel, Root } from '../protocol/types.js';
import { ClientError } from './errors.js';
import { ClientCore } from './core.js';
import type { HandlerContext, Progress, RequestOptions, Task } from './types.js';
import { isObject } from './util.js';

/** The 2026 tasks extension id. */
const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The second layer of the client: everything the server sends, and the handlers that answer it. */
export abstract class ClientInbound extends ClientCore {
  /** Callbacks of 2025 resource subscriptions, by URI. */
  protected readonly resourceCallbacks = new Map<string, Set<(uri: string) => void>>();

  /** The capabilities this client declares, from the handlers it was given. */
  protected override capabilities(era: Era, version: string, declareTasks = false): ClientCapabilities {
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

  // ───────────────────────────── what the server sends ─────────────────────────────

  protected override onNotification(msg: JsonRpcNotification): void {
    const params = (msg.params ?? {}) as Record<string, unknown>;
    const subId = (params._meta as Record<string, unknown> | undefined)?.[META.subscriptionId] as RequestId | undefined;
    if (subId !== undefined) this.pending.get(subId)?.onSubscription?.({ method: msg.method, params });
    switch (msg.method) {
      case 'notifications/progress': {
        const p = this.byProgressToken.get(params.progressToken as RequestId);
        if (p) {
          if (p.resetOnProgress && p.idle) {
            this.clock.clearTimeout(p.idle);
            p.idle = this.clock.setTimeout(() => this.timeout(p, `no response or progress within ${p.idleMs} ms`), p.idleMs);
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
  protected override async onServerRequest(msg: JsonRpcRequest): Promise<void> {
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

  // ───────────────────────────── requests, with their 2026 input rounds ─────────────────────────────

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
  protected async answerInputs(result: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
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

