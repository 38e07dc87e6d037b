/**
 * Request tracing: turns the `andon:request:start` event into a {@link RequestScope} (trace id
 * from the W3C `traceparent` HTTP header or the 2026 `_meta.traceparent`, generated when absent)
 * and, optionally, an OpenTelemetry span. With `propagate` the scope is entered with
 * `Channel.bindStore`, so it is active for the whole request — every log line, the completion
 * event, the handler itself — without the request path calling anything.
 *
 * Contract with the publisher (src/server/server.ts): when the start channel has subscribers,
 * `handleRequest` runs the request inside `startChannel.runStores(incomingRequest, …)`, and
 * publishes `channels.request` from within that run with `incoming` set to the same object, so
 * the completion subscriber finds the scope either way.
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Span, type Tracer } from '@opentelemetry/api';
import { channels, type RequestEvent } from '../runtime/events.js';
import type { Era } from '../protocol/versions.js';
import { newSpanId, newTraceId, parseTraceparent, requestScope, type RequestScope, type TraceParent } from './scope.js';

/**
 * What the `andon:request:start` channel carries: the server's `IncomingRequest` as is (no copy
 * on the hot path). Only the fields read here are declared.
 */
export interface RequestStartEvent {
  request: { id: string | number | null; method: string; params?: Record<string, unknown> | undefined };
  era: Era;
  /** The 2025 session (or stdio peer), when there is one. */
  session?: { id: string } | undefined;
  peer?: unknown;
  /** The HTTP request headers, when the request came over HTTP. */
  headers?: Record<string, string | string[] | undefined> | undefined;
}

/** The request start channel, by name (see the contract above). */
export const requestStartChannel = channel('andon:request:start') as Channel & { publish(e: RequestStartEvent): void };

/** Options of {@link RequestTracing}. */
export interface TracingOptions {
  /**
   * Create an OpenTelemetry span per request through `@opentelemetry/api` when an OTel SDK has
   * registered a tracer provider (before `start()`); without one, nothing is done per request.
   * Default true.
   */
  otel?: boolean;
  /** Tracer to use. Default `trace.getTracer('andon-mcp')` (follows a later-registered SDK). */
  tracer?: Tracer;
  /**
   * Carry the request scope through the request's async context (AsyncLocalStorage), so that
   * every line logged while serving it — handler code, transport, runtime — carries its trace
   * and session ids, and `currentScope()` / `currentTraceparent()` work inside handlers. Without
   * it, andon's own request lines carry them and handlers read `ctx.traceparent`. Off by default:
   * on Node 20 an enabled AsyncLocalStorage makes every async resource in the process pay for
   * context propagation, measured at about 30 % of tools/call CPU (docs/performance.md).
   * Default false (or `ANDON_TRACE_PROPAGATION=1`).
   */
  propagate?: boolean;
}

function header(h: RequestStartEvent['headers'], name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The scope of one request. Ids are made on first read: most requests at default log levels
 * never log a line, and generating two random ids per request would be most of the cost.
 */
class LazyScope implements RequestScope {
  private tid: string | undefined;
  private sid: string | undefined;
  readonly parentSpanId: string | undefined;
  readonly traceFlags: string;
  readonly traceState: string | undefined;
  readonly startedAt = performance.now();
  span: Span | undefined = undefined;

  constructor(
    parent: TraceParent | undefined,
    traceState: unknown,
    readonly sessionId: string | undefined,
    readonly requestId: string | number | null | undefined,
    readonly method: string,
  ) {
    this.tid = parent?.traceId;
    this.parentSpanId = parent?.parentId;
    this.traceFlags = parent?.flags ?? '01';
    this.traceState = parent && typeof traceState === 'string' ? traceState : undefined;
  }

  get traceId(): string {
    return (this.tid ??= newTraceId());
  }
  set traceId(v: string) {
    this.tid = v;
  }
  get spanId(): string {
    return (this.sid ??= newSpanId());
  }
  set spanId(v: string) {
    this.sid = v;
  }
}

/** True once an OpenTelemetry SDK has registered a tracer provider (the API alone is a no-op). */
function otelSdkPresent(): boolean {
  const p = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
  return typeof p.getDelegateTracer !== 'function' || p.getDelegateTracer('andon-mcp') !== undefined;
}

/**
 * Builds the scope of one request. The HTTP `traceparent` header wins over `_meta.traceparent`
 * (a proxy or gateway in between sets the header; the client's `_meta` is its own view). A span
 * is started only when `tracer` is given and an OpenTelemetry SDK is installed.
 */
export function scopeOf(e: RequestStartEvent, tracer: Tracer | undefined): RequestScope {
  const params = e.request.params;
  // Defensive: the transports refuse a non-object `_meta`, but a subscriber must never be the
  // thing that throws (a throw here ends the process from inside a diagnostics channel).
  const rawMeta = params?._meta;
  const meta = rawMeta !== null && typeof rawMeta === 'object' ? (rawMeta as Record<string, unknown>) : undefined;
  const h = e.headers;
  let tpRaw: unknown = h === undefined ? undefined : header(h, 'traceparent');
  let tsRaw: unknown = tpRaw === undefined ? undefined : header(h, 'tracestate');
  if (tpRaw === undefined && meta !== undefined) {
    tpRaw = meta.traceparent;
    tsRaw = meta.tracestate;
  }
  const parent = tpRaw === undefined ? undefined : parseTraceparent(tpRaw);
  const session = e.session ?? (e.peer as { id?: unknown } | undefined);
  const scope = new LazyScope(parent, tsRaw, typeof session?.id === 'string' ? session.id : undefined, e.request.id, e.request.method);
  if (tracer && otelSdkPresent()) {
    const ctx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.parentId, traceFlags: Number.parseInt(parent.flags, 16) & TraceFlags.SAMPLED, isRemote: true })
      : ROOT_CONTEXT;
    const name = typeof params?.name === 'string' ? ` ${params.name}` : '';
    const span = tracer.startSpan(
      `${e.request.method}${name}`,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': e.request.method, 'mcp.era': e.era } },
      ctx,
    );
    scope.span = span;
    // A recording span has its own ids; log lines must then carry the same ones.
    if (span.isRecording()) {
      const sc = span.spanContext();
      scope.traceId = sc.traceId;
      scope.spanId = sc.spanId;
    }
  }
  return scope;
}

/**
 * Computes the request scope for every request (kept against the request object, and entered as
 * the async context when `propagate` is on) and ends its span on completion.
 */
export class RequestTracing {
  private readonly tracer: Tracer | undefined;
  private readonly propagate: boolean;
  private readonly scopes = new WeakMap<object, RequestScope>();
  private started = false;
  /** Whether spans are made (a tracer and an installed SDK, seen at start()). */
  private spans = false;

  /** See {@link TracingOptions} for defaults. */
  constructor(options: TracingOptions = {}) {
    this.tracer = options.otel === false ? undefined : (options.tracer ?? trace.getTracer('andon-mcp'));
    this.propagate = options.propagate ?? process.env.ANDON_TRACE_PROPAGATION === '1';
  }

  /** Whether the scope is entered as the async context (see {@link TracingOptions.propagate}). */
  get propagating(): boolean {
    return this.propagate;
  }

  /**
   * The scope of a request, given the object published on `andon:request:start` (the same object
   * the completion event carries as `incoming`); when propagating, the current async context's.
   * Without propagation it is built on demand from the request; `remember` keeps it for a later
   * call with the same object (so that a start line and a completion line share generated ids).
   */
  scopeFor(incoming: object | undefined, remember = false): RequestScope | undefined {
    // Propagating, the scope is the async context (no per-request map entry needed).
    if (this.propagate) return requestScope.getStore();
    if (incoming === undefined) return undefined;
    let s = this.scopes.get(incoming);
    if (!s) {
      // Made on demand: at default log levels no request line is written, and keeping a map
      // entry per request would cost more (weak maps weigh on every GC) than the lines it serves.
      s = scopeOf(incoming as RequestStartEvent, undefined);
      if (remember) this.scopes.set(incoming, s);
    }
    return s;
  }

  private readonly transform = (e: RequestStartEvent): RequestScope => scopeOf(e, this.tracer);

  private readonly onStart = (msg: unknown): void => {
    // Without propagation a scope is needed at start only to open a span.
    const e = msg as RequestStartEvent;
    this.scopes.set(e, scopeOf(e, this.tracer));
  };

  private readonly onEnd = (msg: unknown): void => {
    const e = msg as RequestEvent & { incoming?: object };
    const span = (this.propagate ? requestScope.getStore() : e.incoming && this.scopes.get(e.incoming))?.span;
    if (!span) return;
    if (e.name !== undefined) span.setAttribute('mcp.name', e.name);
    span.setAttribute('mcp.outcome', e.outcome);
    if (e.outcome === 'error' || e.outcome === 'tool_error') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };

  /**
   * Subscribes (binding the async-context store when propagating). Without propagation, nothing
   * is subscribed unless an OpenTelemetry SDK is registered at this point: register it first.
   * Idempotent.
   */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.spans = this.tracer !== undefined && otelSdkPresent();
    if (this.propagate) requestStartChannel.bindStore(requestScope, this.transform as (e: unknown) => RequestScope);
    else if (this.spans) requestStartChannel.subscribe(this.onStart);
    if (this.spans) channels.request.subscribe(this.onEnd);
    return this;
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    if (this.propagate) requestStartChannel.unbindStore(requestScope);
    else if (this.spans) requestStartChannel.unsubscribe(this.onStart);
    if (this.spans) channels.request.unsubscribe(this.onEnd);
  }
}
