/**
 * OpenTelemetry: with a tracer provider registered (a small recording one here, standing in for an
 * SDK), every request becomes a SERVER span, child of the incoming `traceparent`, ended with its
 * outcome; the request's log lines carry the span's ids. Without a provider nothing is recorded.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SpanStatusCode, trace, type Context, type Span, type SpanContext, type SpanOptions, type SpanStatus, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { createLogger } from '../../src/util/logger.js';
import { RequestLogging, RequestTracing } from '../../src/observability/index.js';
import { Session2025 } from '../helpers/mcp-http.js';

interface Recorded {
  name: string;
  kind: number | undefined;
  parent: SpanContext | undefined;
  ctx: SpanContext;
  attributes: Record<string, unknown>;
  status: SpanStatus | undefined;
  ended: boolean;
}

function recordingProvider(spans: Recorded[]): TracerProvider {
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
      const parent = context ? trace.getSpanContext(context) : undefined;
      const rec: Recorded = { name, kind: options.kind, parent, ctx: { traceId: parent?.traceId ?? randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 }, attributes: { ...options.attributes }, status: undefined, ended: false };
      spans.push(rec);
      const span: Span = {
        spanContext: () => rec.ctx,
        setAttribute: (k, v) => ((rec.attributes[k] = v), span),
        setAttributes: (a) => (Object.assign(rec.attributes, a), span),
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: (s) => ((rec.status = s), span),
        updateName: (n) => ((rec.name = n), span),
        end: () => void (rec.ended = true),
        isRecording: () => !rec.ended,
        recordException: () => {},
      };
      return span;
    },
    startActiveSpan() {
      throw new Error('not used');
    },
  } as unknown as Tracer;
  return { getTracer: () => tracer };
}

describe('OpenTelemetry spans', () => {
  const spans: Recorded[] = [];
  const lines: string[] = [];
  let ep: HttpEndpoint;
  let tracing: RequestTracing;
  let reqlog: RequestLogging;

  before(async () => {
    trace.setGlobalTracerProvider(recordingProvider(spans));
    const log = createLogger({ destination: { write: (s: string) => void lines.push(s) }, level: 'debug' });
    const server = createServer({ name: 'otel-test', version: '1.0.0' });
    server.tool('lookup', {}, () => 'found');
    server.tool('broken', {}, () => {
      throw new Error('down');
    });
    tracing = new RequestTracing().start();
    reqlog = new RequestLogging({ logger: log, tracing, completeLevel: 'info' }).start();
    ep = await serveHttp(server, { port: 0 });
  });
  after(async () => {
    tracing.stop();
    reqlog.stop();
    trace.disable();
    await ep.close();
  });

  test('a request becomes a SERVER span under the incoming traceparent, ended with its outcome', async () => {
    const s = new Session2025(ep.url);
    await s.initialize();
    spans.length = 0;
    lines.length = 0;
    await s.request('tools/call', { name: 'lookup', arguments: {} }, { traceparent: '00-aaaabbbbccccddddeeeeffff00001111-1234567890abcdef-01' });
    await s.request('tools/call', { name: 'broken', arguments: {} });
    assert.ok(spans.length > 0, 'the server does not publish andon:request:start');
    const ok = spans.find((x) => x.name === 'tools/call lookup');
    assert.ok(ok, spans.map((x) => x.name).join(', '));
    assert.equal(ok.kind, 1, 'SpanKind.SERVER');
    assert.equal(ok.parent?.traceId, 'aaaabbbbccccddddeeeeffff00001111');
    assert.equal(ok.parent?.spanId, '1234567890abcdef');
    assert.equal(ok.parent?.isRemote, true);
    assert.equal(ok.attributes['rpc.method'], 'tools/call');
    assert.equal(ok.attributes['mcp.era'], '2025');
    assert.ok(ok.ended, 'the completion event does not carry `incoming`');
    assert.equal(ok.attributes['mcp.outcome'], 'ok');
    const bad = spans.find((x) => x.name === 'tools/call broken')!;
    assert.equal(bad.ended, true);
    assert.equal(bad.status?.code, SpanStatusCode.ERROR);
    assert.equal(bad.attributes['mcp.outcome'], 'tool_error');
    // The log lines of the request carry the span's own ids.
    const parsed = lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const start = parsed.find((l) => l.event === 'request.start' && l.params?.name === 'lookup');
    assert.equal(start.trace_id, ok.ctx.traceId);
    assert.equal(start.span_id, ok.ctx.spanId);
  });
});
