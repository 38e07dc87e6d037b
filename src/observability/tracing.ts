/**
 * Request tracing: turns the `andon:request:start` event into a {@link RequestScope} (trace id
 * from the W3C `traceparent` HTTP header or the 2026 `_meta.traceparent`, generated when absent)
 * and, optionally, an OpenTelemetry span. The scope is entered with `Channel.bindStore`, so it is
 * active for the whole request — every log line, the completion event, the handler itself —
 * without the request path calling anything.
 *
 * Contract with the publisher (src/server/server.ts): when the start channel has subscribers,
 * `handleRequest` runs the request inside `startChannel.runStores(incomingRequest, …)`, and
 * publishes `channels.request` from within that run, so the completion subscriber sees the scope.
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Tracer } from '@opentelemetry/api';
import { channels, type RequestEvent } from '../runtime/events.js';
import type { Era } from '../protocol/versions.js';
import { newSpanId, newTraceId, parseTraceparent, requestScope, type RequestScope } from './scope.js';

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
   * Create an OpenTelemetry span per request through `@opentelemetry/api`. Without an installed
   * SDK the API is a no-op and costs a few allocations. Default true.
   */
  otel?: boolean;
  /** Tracer to use. Default `trace.getTracer('andon-mcp')` (follows a later-registered SDK). */
  tracer?: Tracer;
}

function header(h: RequestStartEvent['headers'], name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Builds the scope of one request. The HTTP `traceparent` header wins over `_meta.traceparent`
 * (a proxy or gateway in between sets the header; the client's `_meta` is its own view).
 */
export function scopeOf(e: RequestStartEvent, tracer: Tracer | undefined): RequestScope {
  const meta = e.request.params?._meta as Record<string, unknown> | undefined;
  let tpRaw: unknown = header(e.headers, 'traceparent');
  let tsRaw: unknown = header(e.headers, 'tracestate');
  if (tpRaw === undefined && meta) {
    tpRaw = meta.traceparent;
    tsRaw = meta.tracestate;
  }
  const parent = parseTraceparent(tpRaw);
  const session = e.session ?? (e.peer as { id?: unknown } | undefined);
  const scope: RequestScope = {
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    parentSpanId: parent?.parentId,
    traceFlags: parent?.flags ?? '01',
    traceState: parent && typeof tsRaw === 'string' ? tsRaw : undefined,
    sessionId: typeof session?.id === 'string' ? session.id : undefined,
    requestId: e.request.id,
    method: e.request.method,
    startedAt: performance.now(),
    span: undefined,
  };
  if (tracer) {
    const ctx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.parentId, traceFlags: Number.parseInt(parent.flags, 16) & TraceFlags.SAMPLED, isRemote: true })
      : ROOT_CONTEXT;
    const p = e.request.params;
    const name = typeof p?.name === 'string' ? ` ${p.name}` : '';
    const span = tracer.startSpan(
      `${e.request.method}${name}`,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': e.request.method, 'mcp.era': e.era } },
      ctx,
    );
    scope.span = span;
    // With an SDK installed the span has its own ids; log lines must then carry the same ones.
    if (span.isRecording()) {
      const sc = span.spanContext();
      scope.traceId = sc.traceId;
      scope.spanId = sc.spanId;
    }
  }
  return scope;
}

/** Enters the request scope for every request and ends its span on completion. */
export class RequestTracing {
  private readonly tracer: Tracer | undefined;
  private started = false;

  /** See {@link TracingOptions} for defaults. */
  constructor(options: TracingOptions = {}) {
    this.tracer = options.otel === false ? undefined : (options.tracer ?? trace.getTracer('andon-mcp'));
  }

  private readonly transform = (e: RequestStartEvent): RequestScope => scopeOf(e, this.tracer);

  private readonly onEnd = (msg: unknown): void => {
    const span = requestScope.getStore()?.span;
    if (!span) return;
    const e = msg as RequestEvent;
    if (e.name !== undefined) span.setAttribute('mcp.name', e.name);
    span.setAttribute('mcp.outcome', e.outcome);
    if (e.outcome === 'error' || e.outcome === 'tool_error') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };

  /** Binds the scope to the start channel. Idempotent. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    requestStartChannel.bindStore(requestScope, this.transform as (e: unknown) => RequestScope);
    channels.request.subscribe(this.onEnd);
    return this;
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    requestStartChannel.unbindStore(requestScope);
    channels.request.unsubscribe(this.onEnd);
  }
}
