/**
 * Metrics: what real traffic and runtime events produce on /metrics, label bounds (no session id,
 * no argument, no client-minted tool or method names), the admin-token option, and Node defaults.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpsServer } from '../../src/admin/ops-server.js';
import { channels } from '../../src/runtime/events.js';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { AndonMetrics, HealthMonitor, mountObservability } from '../../src/observability/index.js';
import { Session2025, post26 } from '../helpers/mcp-http.js';

const TOKEN = 'metrics-test-token-1';
let ep: HttpEndpoint;
let ops: OpsServer;
let opsUrl: string;
let metrics: AndonMetrics;

before(async () => {
  metrics = new AndonMetrics({ maxLabelValues: 6 }).start();
  const server = createServer({ name: 'metrics-test', version: '1.0.0' });
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text: string }) => text);
  server.tool('fails', {}, () => {
    throw new Error('nope');
  });
  for (let i = 0; i < 8; i++) server.tool(`t${i}`, {}, () => 'ok');
  ep = await serveHttp(server, { port: 0 });
  ops = new OpsServer({ token: TOKEN, port: 0 });
  mountObservability(ops, { metrics, metricsAuth: true });
  opsUrl = await ops.listen();
});
after(async () => {
  metrics.stop();
  await ep.close();
  await ops.close();
});

async function scrape(): Promise<string> {
  const r = await fetch(`${opsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return r.text();
}

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

describe('metrics from real traffic', () => {
  test('/metrics can require the admin token', async () => {
    assert.equal((await fetch(`${opsUrl}/metrics`)).status, 401);
  });

  test('requests by method, tool, era and outcome, with a latency histogram', async () => {
    const s = new Session2025(ep.url);
    await s.initialize();
    for (let i = 0; i < 5; i++) await s.call('tools/call', { name: 'echo', arguments: { text: `secret-argument-${i}` } });
    await s.call('tools/call', { name: 'fails', arguments: {} });
    await s.request('tools/call', { name: 'no-such-tool-xyz', arguments: {} });
    await s.request('made/up/method', {});
    await s.call('tools/list');
    await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    const text = await scrape();
    assert.equal(value(text, 'andon_requests_total{method="tools/call",tool="echo",era="2025",outcome="ok"}'), 5);
    assert.equal(value(text, 'andon_requests_total{method="tools/call",tool="echo",era="2026",outcome="ok"}'), 1);
    assert.equal(value(text, 'andon_requests_total{method="tools/call",tool="fails",era="2025",outcome="tool_error"}'), 1);
    assert.equal(value(text, 'andon_requests_total{method="tools/call",tool="_unknown",era="2025",outcome="error"}'), 1, 'an unknown tool name is not a label value');
    assert.equal(value(text, 'andon_requests_total{method="_other",tool="",era="2025",outcome="error"}'), 1, 'an unknown method is not a label value');
    assert.equal(value(text, 'andon_requests_total{method="initialize",tool="",era="2025",outcome="ok"}'), 1);
    assert.equal(value(text, 'andon_request_duration_seconds_count{method="tools/call",tool="echo",outcome="ok"}'), 6);
    assert.ok(value(text, 'andon_request_duration_seconds_bucket{le="30",method="tools/call",tool="echo",outcome="ok"}') === 6);
    assert.ok(value(text, 'andon_requests_in_flight') !== undefined);
    // Bounded labels: nothing per session, per argument or per URI.
    assert.ok(!text.includes(s.sessionId), 'no session id in any label');
    assert.ok(!text.includes('secret-argument'), 'no argument in any label');
    assert.ok(!text.includes('no-such-tool-xyz'));
    assert.ok(!text.includes('made/up/method'));
    for (const line of text.split('\n')) if (line && !line.startsWith('#')) assert.match(line, /^andon_/, `prefixed: ${line}`);
  });

  test('tool label values are capped; the rest are _other', async () => {
    const s = new Session2025(ep.url);
    await s.initialize();
    for (let i = 0; i < 8; i++) await s.call('tools/call', { name: `t${i}`, arguments: {} });
    const text = await scrape();
    const tools = new Set([...text.matchAll(/andon_requests_total\{method="tools\/call",tool="([^"]*)"/g)].map((m) => m[1]));
    assert.ok(tools.has('_other'));
    assert.ok(tools.size <= 6 + 2, `bounded: ${[...tools].join(', ')}`);
  });

  test('a flood of made-up method names stays bounded', async () => {
    const m = new AndonMetrics({ defaultMetrics: false }).start();
    try {
      for (let i = 0; i < 12_000; i++) channels.request.publish({ method: `x/${i}`, name: undefined, era: '2025', outcome: 'error', durationMs: 0.1 });
      const text = await m.metrics();
      const series = text.split('\n').filter((l) => l.startsWith('andon_requests_total{'));
      assert.deepEqual(series, ['andon_requests_total{method="_other",tool="",era="2025",outcome="error"} 12000']);
    } finally {
      m.stop();
    }
  });

  test('over-long method and tool names are not kept as index keys (a client could park gigabytes in 10,000 of them)', async () => {
    const m = new AndonMetrics({ defaultMetrics: false }).start();
    try {
      const big = 'm'.repeat(100_000);
      for (let i = 0; i < 20; i++) channels.request.publish({ method: `${big}${i}`, name: undefined, era: '2025', outcome: 'error', durationMs: 0.1 });
      for (let i = 0; i < 20; i++) channels.request.publish({ method: 'tools/call', name: `${big}${i}`, era: '2025', outcome: 'error', durationMs: 0.1 });
      channels.request.publish({ method: 'tools/call', name: 'ok-tool', era: '2025', outcome: 'error', durationMs: 0.1 });
      const stats = (m as unknown as { requestStats: { rawKeys: number } }).requestStats;
      assert.equal(stats.rawKeys, 1, 'only the short name got an index entry');
      const text = await m.metrics();
      assert.equal(value(text, 'andon_requests_total{method="_other",tool="",era="2025",outcome="error"}'), 40, 'both kinds fold into the overflow series');
      assert.equal(value(text, 'andon_requests_total{method="tools/call",tool="_unknown",era="2025",outcome="error"}'), 1);
    } finally {
      m.stop();
    }
  });

  test('Node defaults: event-loop lag, heap, GC, CPU', async () => {
    const text = await scrape();
    for (const name of ['andon_nodejs_eventloop_lag_seconds', 'andon_nodejs_heap_size_used_bytes', 'andon_process_cpu_seconds_total', 'andon_process_resident_memory_bytes', 'andon_nodejs_gc_duration_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
  });
});

describe('metrics from runtime events', () => {
  test('halted components, restarts, drain, store, sessions, health and readiness', async () => {
    channels.component.publish({ id: 'tool:search', kind: 'tool', from: 'normal', to: 'halted_fatal', reason: 'x' });
    channels.component.publish({ id: 'transport:http', kind: 'transport', from: 'normal', to: 'halted_manual', reason: 'x' });
    let text = await scrape();
    assert.equal(value(text, 'andon_component_halted{component="tool:search",kind="tool"}'), 1);
    assert.equal(value(text, 'andon_components_halted'), 2);
    channels.component.publish({ id: 'tool:search', kind: 'tool', from: 'halted_fatal', to: 'normal', reason: 'resumed' });
    channels.restart.publish({ id: 'tool:search', restarts: 1, intensityExceeded: false });
    channels.restart.publish({ id: 'tool:search', restarts: 2, intensityExceeded: false });
    channels.restart.publish({ id: 'tool:search', restarts: 3, intensityExceeded: true, error: 'boom' });
    channels.drain.publish({ phase: 'draining', durationMs: 60_000, inflight: 3 });
    text = await scrape();
    assert.equal(value(text, 'andon_drain_phase{phase="draining"}'), 1);
    assert.equal(value(text, 'andon_drain_phase{phase="running"}'), 0);
    channels.drain.publish({ phase: 'halting', durationMs: 2_500, inflight: 1, drained: 2, forced: 1 });
    // Real sessions (from the traffic above) count too once the transport publishes them: compare deltas.
    const before = await scrape();
    const active0 = value(before, 'andon_sessions_active{transport="http",era="2025"}') ?? 0;
    const opened0 = value(before, 'andon_sessions_opened_total{transport="http",era="2025"}') ?? 0;
    channels.store.publish({ op: 'write', durationMs: 3, ok: true });
    channels.store.publish({ op: 'write', durationMs: 40, ok: false });
    channels.session.publish({ action: 'open', era: '2025', transport: 'http' });
    channels.session.publish({ action: 'open', era: '2025', transport: 'http' });
    channels.session.publish({ action: 'close', era: '2025', transport: 'http' });
    channels.session.publish({ action: 'open', era: '2026', transport: 'http' });
    const health = new HealthMonitor();
    health.register('db', () => true);
    await health.checkNow();
    health.setDraining(true);
    text = await scrape();
    health.setDraining(false);
    assert.equal(value(text, 'andon_component_halted{component="tool:search",kind="tool"}'), 0);
    assert.equal(value(text, 'andon_components_halted'), 1);
    assert.equal(value(text, 'andon_component_transitions_total{kind="tool",to="halted_fatal"}'), 1);
    assert.equal(value(text, 'andon_restarts_total{component="tool:search"}'), 2);
    assert.equal(value(text, 'andon_restart_intensity_exceeded_total{component="tool:search"}'), 1);
    assert.equal(value(text, 'andon_drain_phase{phase="halting"}'), 1);
    assert.equal(value(text, 'andon_drain_phase_duration_seconds_count{phase="running"}'), 1);
    assert.equal(value(text, 'andon_drain_phase_duration_seconds_sum{phase="draining"}'), 2.5);
    assert.equal(value(text, 'andon_drain_requests_total{result="drained"}'), 2);
    assert.equal(value(text, 'andon_drain_requests_total{result="forced"}'), 1);
    assert.equal(value(text, 'andon_store_operations_total{op="write",result="error"}'), 1);
    assert.equal(value(text, 'andon_store_operation_duration_seconds_count{op="write"}'), 2);
    assert.equal(value(text, 'andon_sessions_active{transport="http",era="2025"}'), active0 + 1);
    assert.equal(value(text, 'andon_sessions_active{transport="http",era="2026"}'), 1);
    assert.equal(value(text, 'andon_sessions_opened_total{transport="http",era="2025"}'), opened0 + 2);
    assert.equal(value(text, 'andon_health_status{component="db"}'), 1);
    assert.equal(value(text, 'andon_ready'), 0);
    channels.drain.publish({ phase: 'running', durationMs: 1, inflight: 0 });
  });
});
