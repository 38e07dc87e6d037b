/**
 * Circuit breakers through a real node (`andon serve` as a child process, real HTTP, the real
 * CLI): a tool failing 60 % opens its breaker at the 20th call (default thresholds), then fails
 * fast with 503 + Retry-After and data.code ANDON_BREAKER_OPEN without running the handler;
 * after openMs (2 s for it here, a per-tool override) it turns half-open and, healed, closes after 3 probes. A
 * `ctx.downstream` breaker opens on its own (the tool with a fallback keeps succeeding, its
 * breaker closed); a handler that leaves the refusal uncaught sends it. Client faults (unknown
 * tool, bad arguments) are not counted. Refusals are the same in the 2026 era. `andon breakers --json`, force-open and reset through
 * the CLI; metrics and webhook alerts (open, half-open, resolved) from the same node.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025, post26, type Reply } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';

const MODULE = resolve(DIST, 'test/resilience/fixtures/breaker-server.js');
const fleet = nodeFleet(MODULE, 'andon-breakers-');

let node: NodeProc;
let mcp: Session2025;
let hook: Server;
const alerts: Array<{ title?: string; action?: string; severity?: string }> = [];

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const a = JSON.parse(body) as { alert?: Record<string, string> } & Record<string, string>;
        alerts.push((a.alert ?? a) as { title?: string });
      } catch {
        alerts.push({ title: `unparsable: ${body.slice(0, 80)}` });
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const f = await fleet.fresh({ ANDON_WEBHOOK_SECRET: 'test-secret' });
  const config = join(f.stateDir, 'andon.config.json');
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  await writeFile(
    config,
    JSON.stringify({
      breakers: { openMs: 300, tools: { flaky: { openMs: 2000 } }, downstreams: { 'billing-api': { minCalls: 5 } } },
      alerts: { channels: { hook: { type: 'webhook', url: hookUrl } }, routes: { critical: ['hook'], warning: ['hook'], info: ['hook'] }, retry: { attempts: 1 } },
    }),
  );
  node = await f.start({ ANDON_CONFIG: config });
  mcp = new Session2025(node.url);
  await mcp.initialize();
});

after(async () => {
  await new Promise<void>((r) => hook.close(() => r()));
});

const call = (name: string, args: Record<string, unknown> = {}): Promise<Reply> => mcp.request('tools/call', { name, arguments: args });

async function counts(): Promise<{ flaky: number; echo: number; downstream: number }> {
  const r = await mcp.call('tools/call', { name: 'counts', arguments: {} });
  return JSON.parse(r.content[0].text);
}

async function breakers(): Promise<Array<{ name: string; state: string; forced: unknown; window: { calls: number; failures: number } }>> {
  const r = await node.admin('GET', '/admin/breakers');
  assert.equal(r.status, 200);
  return r.body.breakers;
}

async function stateOf(name: string): Promise<string | undefined> {
  return (await breakers()).find((b) => b.name === name)?.state;
}

/** Polls until `name` is in `state` (bounded). */
async function waitFor(name: string, state: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while ((await stateOf(name)) !== state) {
    if (Date.now() > end) throw new Error(`${name} did not become ${state}: ${JSON.stringify(await breakers())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function assertRefused(r: Reply, breaker: string): void {
  assert.equal(r.status, 503, r.text);
  assert.ok(r.headers.get('retry-after') !== null && Number(r.headers.get('retry-after')) >= 1, `Retry-After: ${r.headers.get('retry-after')}`);
  assert.equal(r.response.error.code, -32001);
  assert.equal(r.response.error.data.code, 'ANDON_BREAKER_OPEN');
  assert.equal(r.response.error.data.breaker, breaker);
  assert.match(r.response.error.message, new RegExp(`circuit breaker ${breaker} is (open|half-open)`));
}

test('client faults do not count: unknown tools and bad arguments mint no breaker and open nothing', async () => {
  for (let i = 0; i < 5; i++) {
    const unknown = await call(`nope-${i}`);
    assert.equal(unknown.response.error.code, -32602);
  }
  // As many as would open it (minCalls 20), all failing their input schema.
  for (let i = 0; i < 20; i++) {
    const bad = await call('flaky', { x: 'not a number' });
    assert.equal(bad.response.result.isError, true);
  }
  const list = await breakers();
  assert.ok(!list.some((b) => b.name.startsWith('tool:nope')), 'no breaker for unknown tool names');
  assert.equal(list.find((b) => b.name === 'tool:flaky')?.window.calls ?? 0, 0, 'bad arguments were not counted');
  assert.equal((await counts()).flaky, 0, 'the handler never ran for bad arguments');
});

test('a tool failing 60 % opens its breaker at the 20th call; then fast 503s with Retry-After, the handler not called; half-open and closed once healed', async () => {
  let failures = 0;
  for (let i = 0; i < 20; i++) {
    const r = await call('flaky');
    assert.equal(r.status, 200, `call ${i} is served (closed): ${r.text}`);
    if (r.response.result.isError) failures++;
  }
  assert.equal(failures, 12);
  assert.equal(await stateOf('tool:flaky'), 'open');
  const component = await node.admin('GET', '/admin/components/tool%3Aflaky');
  assert.deepEqual([component.body.state, component.body.restarts], ['running', 0], 'thrown handler errors are counted by the breaker, not crashes of the tool');
  const started = performance.now();
  for (let i = 0; i < 10; i++) assertRefused(await call('flaky'), 'tool:flaky');
  const perRefusal = (performance.now() - started) / 10;
  assert.equal((await counts()).flaky, 20, 'no handler call while open');
  assert.ok(perRefusal < 100, `refusals are fast (${perRefusal.toFixed(1)} ms each)`);

  const flaky = (await node.admin('GET', '/admin/breakers/tool%3Aflaky')).body as { state: string; reason: string; retryAt: string };
  assert.equal(flaky.state, 'open');
  assert.match(flaky.reason, /error rate 60 % \(12 of 20 calls in 60 s\)/);
  assert.ok(Date.parse(flaky.retryAt) > Date.now() - 1000);

  await mcp.call('tools/call', { name: 'heal', arguments: {} });
  await waitFor('tool:flaky', 'half_open');
  for (let i = 0; i < 3; i++) {
    const r = await call('flaky');
    assert.equal(r.status, 200, r.text);
    assert.notEqual(r.response.result.isError, true);
  }
  assert.equal(await stateOf('tool:flaky'), 'closed');
  assert.equal((await counts()).flaky, 23);

  const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
  assert.match(metrics, /andon_breaker_state\{breaker="tool:flaky"\} 0/);
  for (const to of ['open', 'half_open', 'closed']) assert.match(metrics, new RegExp(`andon_breaker_transitions_total\\{breaker="tool:flaky",to="${to}"\\} 1`));
  const end = Date.now() + 5000;
  while (!alerts.some((a) => a.action === 'resolve' && /Circuit breaker/.test(a.title ?? '')) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  const titles = alerts.map((a) => `${a.action ?? ''} ${a.severity ?? ''} ${a.title ?? ''}`);
  assert.ok(titles.some((t) => /^trigger warning Circuit breaker open: tool:flaky$/.test(t)), titles.join('\n'));
  assert.ok(titles.some((t) => /^trigger info Circuit breaker half-open: tool:flaky$/.test(t)), titles.join('\n'));
  assert.ok(titles.some((t) => /^resolve warning Circuit breaker closed: tool:flaky$/.test(t)), titles.join('\n'));
});

test('a ctx.downstream breaker opens on its own; a handler with a fallback keeps succeeding, one without sends the refusal', async () => {
  await mcp.call('tools/call', { name: 'billing', arguments: { down: true } });
  const before = (await counts()).downstream;
  for (let i = 0; i < 5; i++) {
    const r = await call('lookup');
    assert.match(r.response.result.content[0].text, /cached invoice \(billing-api: connection refused\)/);
  }
  assert.equal(await stateOf('downstream:billing-api'), 'open', 'minCalls 5 for this downstream (config override)');
  assert.equal(await stateOf('tool:lookup'), 'closed', 'the tool itself succeeded (its fallback)');
  const fallback = await call('lookup');
  assert.match(fallback.response.result.content[0].text, /cached invoice \(Service Unavailable: circuit breaker downstream:billing-api is open/);
  assertRefused(await call('charge'), 'downstream:billing-api');
  assert.equal((await counts()).downstream, before + 5, 'the downstream was not called while open');
  const charge = (await breakers()).find((b) => b.name === 'tool:charge');
  assert.equal(charge?.window.failures ?? 0, 0, 'the refusal is not a failure of tool:charge');

  await mcp.call('tools/call', { name: 'billing', arguments: { down: false } });
  await waitFor('downstream:billing-api', 'half_open');
  for (let i = 0; i < 3; i++) assert.equal((await call('lookup')).response.result.content[0].text, 'invoice 42');
  assert.equal(await stateOf('downstream:billing-api'), 'closed');
});

test('force-open and list (table, --json) through the CLI; reset and force-close; unknown breakers are 404, a force-open without reason 400', async () => {
  const auth = ['--ops-url', node.opsUrl, '--token', node.token()];
  const open = await runCli(['breakers', 'open', 'tool:echo', '--reason', 'maintenance window', ...auth]);
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stdout, /forced open tool:echo: maintenance window/);
  const r = await call('echo');
  assertRefused(r, 'tool:echo');
  assert.equal(r.response.error.data.forced, true);
  assert.match(r.response.error.message, /forced open by an operator: maintenance window/);
  assertRefused(await post26(node.url, 'tools/call', { name: 'echo', arguments: {} }), 'tool:echo');
  assert.equal((await counts()).echo, 0);
  await new Promise((res) => setTimeout(res, 400));
  assertRefused(await call('echo'), 'tool:echo');

  const json = await runCli(['breakers', '--json', ...auth]);
  assert.equal(json.code, 0, json.stderr);
  const listed = JSON.parse(json.stdout) as { enabled: boolean; breakers: Array<{ name: string; state: string; forced: { kind: string; reason: string } | null }> };
  assert.equal(listed.enabled, true);
  assert.deepEqual(
    listed.breakers.filter((b) => b.name === 'tool:echo' || b.name === 'tool:flaky' || b.name === 'downstream:billing-api').map((b) => [b.name, b.state, b.forced?.reason ?? null]),
    [
      ['tool:echo', 'open', 'maintenance window'],
      ['tool:flaky', 'closed', null],
      ['downstream:billing-api', 'closed', null],
    ],
  );

  const table = await runCli(['breakers', ...auth]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^BREAKER\s+STATE\s+CALLS\s+FAILURES\s+SLOW\s+DETAIL$/m);
  assert.match(table.stdout, /^tool:echo\s+open \(forced\)\s+0\s+0\s+0\s+forced open: maintenance window$/m);

  const reset = await node.admin('POST', '/admin/breakers/tool%3Aecho/reset');
  assert.equal(reset.status, 200);
  assert.deepEqual([reset.body.state, reset.body.forced], ['closed', null]);
  assert.equal((await call('echo')).response.result.content[0].text, 'echo');

  const close = await node.admin('POST', '/admin/breakers/tool%3Aflaky/close', { reason: 'known good' });
  assert.equal(close.status, 200);
  assert.deepEqual([close.body.state, close.body.forced.kind, close.body.forced.reason], ['closed', 'closed', 'known good']);

  const missing = await node.admin('POST', '/admin/breakers/tool%3Anope/open', { reason: 'x' });
  assert.equal(missing.status, 404);
  assert.match(missing.body.error, /unknown circuit breaker "tool:nope"/);
  const noReason = await node.admin('POST', '/admin/breakers/tool%3Aecho/open', {});
  assert.equal(noReason.status, 400);
});
