/**
 * The context a handler receives. One API for both eras: `ctx.elicit()` becomes a server→client
 * request on a 2025 session, and an `input_required` round trip in 2026.
 */
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
import type { Era } from '../protocol/versions.js';
import { ClientCancelled, type Peer, type Session, type Sink } from './session.js';
import { clientKey, type IncomingRequest } from './incoming.js';
import {
  LOG_LEVELS,
  type ClientCapabilities,
  type CreateMessageParams,
  type CreateMessageResult,
  type ElicitFormParams,
  type ElicitResult,
  type ElicitUrlParams,
  type Implementation,
  type LoggingLevel,
  type Root,
} from './types.js';

/** A 2025 handler asked for something (elicitation, sampling, roots) the client did not declare. */
export class MissingClientCapabilityError extends AndonError {
  constructor(readonly capability: string) {
    super(RuntimeErrors.MissingClientCapability, `Client does not support ${capability} (capability "${capability}" was not declared)`, { capability });
    this.name = 'MissingClientCapabilityError';
  }
}

/** Thrown inside a 2026 handler when it needs client input that has not arrived yet. */
export class InputRequiredSignal extends Error {
  constructor() {
    super('input required');
    this.name = 'InputRequiredSignal';
  }
}

/**
 * The abort controller transports create per request. Creating an AbortSignal costs ~2.5 µs (an
 * EventTarget), more than the rest of a tools/call's dispatch, and most requests never look at
 * theirs: Node creates the signal on first access, so the hot path only has to avoid touching
 * `.signal`. This subclass records why it was aborted so transports can check for a client
 * cancellation without creating the signal.
 */
export class RequestAbort extends AbortController {
  /** The reason passed to the first abort(), or undefined while not aborted. */
  abortReason: unknown = undefined;

  override abort(reason?: unknown): void {
    if (this.abortReason === undefined) this.abortReason = reason ?? new Error('aborted');
    super.abort(reason);
  }

  /** True when the client itself cancelled (notifications/cancelled). */
  get cancelledByClient(): boolean {
    return this.abortReason instanceof ClientCancelled;
  }
}

/** Anything that can hand out an AbortSignal on demand (e.g. a transport's IncomingRequest). */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/** What a transport supplies for one incoming request. */
export interface Exchange {
  /** Sends a message related to this request (progress, log, server→client request). */
  send: Sink;
  /** Ends the response stream early while the request goes on (2025 SSE polling). */
  closeStream?: () => void;
}

/**
 * Runs a handler's calls to a named downstream (`ctx.downstream(name, fn)`). The runtime installs
 * its circuit breakers here (`server.downstreams`); without one, `fn` simply runs.
 */
export interface DownstreamRunner {
  /** Runs `fn` under the breaker `downstream:<name>`; rejects with ANDON_BREAKER_OPEN while it is open. */
  run<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
}

/** Who a feature flag is evaluated for: the stable key (`clientKey`) and the client's name/version. */
export interface FlagSubject {
  key: string;
  clientName?: string | undefined;
  clientVersion?: string | undefined;
}

/**
 * Answers `ctx.flag(name)`. The runtime installs its flag registry (src/flags) as
 * `server.flags`; without one every flag is off.
 */
export interface FlagEvaluator {
  /** Whether flag `name` is on for `subject` (an unknown flag is off). */
  isEnabled(name: string, subject: FlagSubject): boolean;
}

/** Options of the ask methods (elicit, sample, listRoots). */
export interface AskOptions {
  /** Key of the request in a 2026 `inputRequests` map; the answer comes back under it. */
  key?: string;
}

/** Per-request context handed to tool, resource and prompt handlers. */
export class RequestContext {
  /** @internal Requests for client input collected during a 2026 round. */
  pendingInputs: Record<string, { method: string; params?: Record<string, unknown> }> | undefined;
  /** @internal State the handler wants echoed back on the next round (2026). */
  nextRequestState: string | undefined;
  /** The value returned by the tool's `prepare` step, if it has one. */
  prepared: unknown;
  /** @internal Set for a handler running as a 2026 task: how input requests are answered. */
  taskAsker: ((key: string, method: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>) | undefined;
  /** @internal Answers (2026 inputResponses) this round consumed; carried into the next round's state. */
  usedAnswers: Record<string, unknown> | undefined;
  /** @internal Who runs `downstream()` calls (the server's, set per request); undefined runs them directly. */
  downstreams: DownstreamRunner | undefined = undefined;
  /** @internal The server's feature flags (set per request); undefined: every flag is off. */
  flags: FlagEvaluator | undefined = undefined;
  private inputCounter = 0;

  constructor(
    /** The JSON-RPC id of the request. */
    readonly requestId: RequestId,
    /** The method being served, e.g. `tools/call`. */
    readonly method: string,
    /** `2025` (session) or `2026` (stateless). */
    readonly era: Era,
    /** The negotiated (2025) or per-request (2026) protocol version. */
    readonly protocolVersion: string,
    /** Aborted on cancellation, on 2026 stream close, or on drain (or a source of it, read lazily). */
    signal: AbortSignal | SignalSource,
    /** The request's `_meta` object (may be empty). */
    readonly meta: Record<string, unknown>,
    readonly clientCapabilities: ClientCapabilities,
    readonly clientInfo: Implementation | undefined,
    /** @internal */ readonly exchange: Exchange,
    /** @internal The 2025 session or stdio peer; undefined for 2026 HTTP. */
    readonly peer: Peer | undefined,
    /** @internal 2026 per-request log level; undefined means no log notifications. */
    private readonly requestLogLevel: LoggingLevel | undefined,
    /** @internal 2026 responses from an earlier round. */
    private readonly inputResponses: Record<string, unknown> | undefined,
    /** State echoed by the client from an earlier 2026 round, if any. */
    readonly requestState: string | undefined,
  ) {
    this.signalSource = signal;
  }

  private readonly signalSource: AbortSignal | SignalSource;
  /** @internal Degradation mode's shed hook (the server's fan-out): progress and log notifications are dropped while it says so. */
  shedder: { readonly shed: ((method: string) => boolean) | undefined } | undefined;

  /** Aborted on cancellation, on 2026 stream close, or on drain. Created on first access. */
  get signal(): AbortSignal {
    const s = this.signalSource;
    return s instanceof AbortSignal ? s : s.signal;
  }

  /** The 2025 session id, when the request belongs to an HTTP session. */
  get sessionId(): string | undefined {
    return (this.peer as Session | undefined)?.id;
  }

  /** W3C trace context from `_meta` (2026) — the transport may also fill it from HTTP headers. */
  get traceparent(): string | undefined {
    const t = this.meta.traceparent;
    return typeof t === 'string' ? t : undefined;
  }

  get tracestate(): string | undefined {
    const t = this.meta.tracestate;
    return typeof t === 'string' ? t : undefined;
  }

  /**
   * Whether feature flag `name` is on for this request's client (src/flags; docs/flags.md): the
   * same answer the `flag` admission stage gives for entries gated by it. Off when no flags are
   * installed or the flag is unknown.
   */
  flag(name: string): boolean {
    const f = this.flags;
    return f !== undefined && f.isEnabled(name, this.flagSubject);
  }

  /**
   * Who flags are evaluated for: the stable client key (`clientKey`: `sub:<subject>`,
   * `session:<id>`, `ip:<address>`) and the client's name and version. Pass `key` as
   * OpenFeature's `targetingKey` (and `clientName`/`clientVersion`) to get `ctx.flag`'s answers.
   */
  get flagSubject(): FlagSubject {
    const s = this.signalSource as Partial<IncomingRequest>;
    // Transports hand the Incoming itself as the signal source; else key on the session.
    const key = typeof s.request === 'object' ? clientKey(s as IncomingRequest) : this.sessionId !== undefined ? `session:${this.sessionId}` : 'anonymous';
    return { key, clientName: this.clientInfo?.name, clientVersion: this.clientInfo?.version };
  }

  get baggage(): string | undefined {
    const t = this.meta.baggage;
    return typeof t === 'string' ? t : undefined;
  }

  /**
   * Calls a named downstream (an API, a database) through its circuit breaker
   * `downstream:<name>`: a rejection or throw of `fn` counts as a failure, and while the breaker
   * is open `fn` is not called and the promise rejects with an AndonError ANDON_BREAKER_OPEN
   * (left uncaught in a tool handler, the client gets that refusal: 503 + Retry-After).
   */
  downstream<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const r = this.downstreams;
    if (r !== undefined) return r.run(name, fn);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Reports progress when the client asked for it with `_meta.progressToken`; otherwise a no-op. */
  progress(progress: number, total?: number, message?: string): void {
    const token = this.meta.progressToken;
    if (token === undefined || this.signal.aborted) return;
    const params: Record<string, unknown> = { progressToken: token, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    if (this.shedder?.shed?.('notifications/progress')) return;
    this.exchange.send({ jsonrpc: '2.0', method: 'notifications/progress', params });
  }

  /**
   * Sends a log message to the client (notifications/message) if its level passes the client's
   * threshold: the session's `logging/setLevel` (2025) or the request's `_meta` level (2026).
   */
  log(level: LoggingLevel, data: unknown, logger?: string): void {
    const threshold = this.era === '2026' ? this.requestLogLevel : (this.peer as Session | undefined)?.logLevel;
    if (this.era === '2026' && threshold === undefined) return;
    if (threshold !== undefined && LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(threshold)) return;
    const params: Record<string, unknown> = { level, data };
    if (logger !== undefined) params.logger = logger;
    if (this.shedder?.shed?.('notifications/message')) return;
    this.exchange.send({ jsonrpc: '2.0', method: 'notifications/message', params });
  }

  /** Sends any related notification on this request's channel. */
  notify(method: string, params?: Record<string, unknown>): void {
    const msg: JsonRpcMessage = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    this.exchange.send(msg);
  }

  /**
   * Asks the user for input: a form (`requestedSchema`) or, with `mode: 'url'`, an out-of-band URL.
   * `key` names the request in a 2026 `inputRequests` map (default `elicitation-<n>`).
   */
  elicit(params: ElicitFormParams | ElicitUrlParams, opts?: AskOptions): Promise<ElicitResult> {
    const mode = params.mode ?? 'form';
    const caps = this.clientCapabilities.elicitation;
    // A client that declares `elicitation: {}` supports form mode (spec back-compat rule).
    const supported = caps !== undefined && (mode === 'form' ? caps.form !== undefined || caps.url === undefined : caps.url !== undefined);
    if (!supported) return Promise.reject(this.missingCapability({ elicitation: { [mode]: {} } }));
    return this.ask('elicitation/create', params as unknown as Record<string, unknown>, opts?.key) as unknown as Promise<ElicitResult>;
  }

  /** Asks the client's LLM for a completion (sampling/createMessage). */
  sample(params: CreateMessageParams, opts?: AskOptions): Promise<CreateMessageResult> {
    if (this.clientCapabilities.sampling === undefined) return Promise.reject(this.missingCapability({ sampling: {} }));
    return this.ask('sampling/createMessage', params, opts?.key) as Promise<CreateMessageResult>;
  }

  /** Asks the client for its roots (roots/list). */
  async listRoots(opts?: AskOptions): Promise<Root[]> {
    if (this.clientCapabilities.roots === undefined) throw this.missingCapability({ roots: {} });
    const r = await this.ask('roots/list', {}, opts?.key);
    return (r.roots as Root[]) ?? [];
  }

  /**
   * 2025 HTTP: ends the current SSE response early (after a priming event) so the client
   * reconnects with Last-Event-ID and receives the rest, e.g. to bound long-held connections.
   * A no-op where the transport has no such stream.
   */
  closeStream(): void {
    this.exchange.closeStream?.();
  }

  private missingCapability(required: ClientCapabilities): Error {
    const name = Object.keys(required)[0];
    if (this.era === '2026') {
      return new McpError(ErrorCode.MissingRequiredClientCapability, `Missing required client capability: ${name}`, {
        requiredCapabilities: required,
      });
    }
    // 2025 has no wire error for this: the tool fails (an isError result), and a handler may catch
    // this error to fall back to something the client does support.
    return new MissingClientCapabilityError(name ?? 'unknown');
  }

  private ask(method: string, params: Record<string, unknown>, key0?: string): Promise<Record<string, unknown>> {
    if (this.era === '2026') {
      const key = key0 ?? `${method.split('/')[0]}-${this.inputCounter++}`;
      // Inside a 2026 task, input parks the task (status input_required) until tasks/update answers.
      if (this.taskAsker) return this.taskAsker(key, method, params);
      const answer = this.inputResponses?.[key];
      if (answer !== undefined && answer !== null && typeof answer === 'object' && !Array.isArray(answer)) {
        (this.usedAnswers ??= {})[key] = answer;
        return Promise.resolve(answer as Record<string, unknown>);
      }
      (this.pendingInputs ??= {})[key] = Object.keys(params).length ? { method, params } : { method };
      return Promise.reject(new InputRequiredSignal());
    }
    if (!this.peer) return Promise.reject(new McpError(ErrorCode.InternalError, `Cannot send ${method}: no client connection`));
    return this.peer.request(this.exchange.send, method, params, this.signal);
  }

  /**
   * Sets state to be echoed back by the client with the next round of a 2026 multi-round request.
   * It travels signed (HMAC) so the client cannot alter it; `ctx.requestState` holds the verified value.
   */
  setRequestState(state: string): void {
    this.nextRequestState = state;
  }
}
