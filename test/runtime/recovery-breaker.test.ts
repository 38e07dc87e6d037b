/**
 * The recovery strategist's chaos scenario "breaker + recovery" through a real process: an
 * `andon serve` child on 127.0.0.1 configured by a real config file, tools reading downstreams
 * through `ctx.downstream` (their circuit breakers), alerts delivered to a real signed-webhook
 * receiver, GET /admin/recovery and GET /admin/breakers against the real ops listener. A breaker
 * opening is a failure of its component (`downstream:<name>`, `tool:<name>`); a dependent opening
 * after its downstream is a cascade naming the downstream; a breaker that keeps opening is
 * persistent; the attempt of a breaker failure succeeds when the breaker closes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { startReceiver, webhookOk, webhookValidator, type HttpReceiver } from '../observability/receivers.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/breaker-recovery-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-breaker-recovery-');
const SECRET = 'breaker-recovery-secret';
const OPEN_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

type Decision = { action: string; component: string; class: string; plan: string[]; step?: string; result?: string; detail: string; rootCause?: string; evidence: Record<string, unknown> };
const comp = (snap: any, id: string) => snap.components.find((c: { id: string }) => c.id === id);
const decisionsOf = (snap: any, id: string): Decision[] => snap.decisions.filter((d: Decision) => d.component === id);
const steps = (snap: any, id: string) => decisionsOf(snap, id).map((d) => `${d.action} ${d.class} ${d.step ?? ''} ${d.result ?? ''}`.trim());

describe('recovery chaos: breaker + recovery', () => {
  let hook: HttpReceiver;
  let node: NodeProc;
  let s: Session2025;
  const recovery = async () => (await node.admin('GET', '/admin/recovery?limit=500')).body;
  const breaker = async (name: string): Promise<string> => (await node.admin('GET', `/admin/breakers/${encodeURIComponent(name)}`)).body.state;
  const call = async (tool: string) => (await s.call('tools/call', { name: tool, arguments: {} })) as { isError?: boolean; content: Array<{ text: string }> };
  const heal = (name: string, healthy: boolean) => s.call('tools/call', { name: 'heal', arguments: { name, healthy } });
  const titles = () => hook.received.map((r) => r.json?.title as string);

  before(async () => {
    hook = await startReceiver(webhookValidator(SECRET), webhookOk);
    const f = await fresh();
    const file = join(f.stateDir, 'andon.json');
    writeFileSync(
      file,
      JSON.stringify({
        // Only the downstream breaker of `ping` opens: its tool breaker needs far more calls.
        breakers: { windowMs: 30_000, minCalls: 4, errorRate: 0.5, openMs: OPEN_MS, halfOpenProbes: 1, tools: { ping: { minCalls: 1000 } } },
        recovery: { dependencies: { 'tool:report': ['downstream:db'] }, cascadeWindowMs: 10_000, attemptTimeoutMs: 5000 },
        alerts: { channels: { hook: { type: 'webhook', url: `${hook.url}/hook`, secretEnv: 'CHAOS_SECRET' } }, retry: { attempts: 2, baseMs: 50 } },
      }),
    );
    node = await f.start({ ANDON_CONFIG: file, CHAOS_SECRET: SECRET, ANDON_LOG_LEVEL: 'info' });
    s = new Session2025(node.url);
    await s.initialize();
  });
  after(async () => {
    node.child.kill('SIGTERM');
    await node.exited;
    await hook.close();
  });

  test('a downstream fails → its breaker and its dependent tool\'s open: cascade rooted at the downstream, alerted; healed → closed, the attempt succeeds', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await call('report');
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /ECONNREFUSED 127\.0\.0\.1:5432/);
    }
    assert.equal(await breaker('downstream:db'), 'open');
    assert.equal(await breaker('tool:report'), 'open');
    const snap = await until('the cascade notified', async () => {
      const v = await recovery();
      return decisionsOf(v, 'tool:report').some((d) => d.step === 'notify') ? v : undefined;
    });
    const db = comp(snap, 'downstream:db');
    assert.equal(db.class, 'transient', 'a first opening');
    assert.equal(db.lastGroup, 'circuit breaker open');
    assert.match(db.lastError, /^circuit breaker open: error rate 100 % \(4 of 4 calls/);
    assert.equal(db.recovering, true, 'the attempt waits for the breaker to close');
    assert.deepEqual(steps(snap, 'downstream:db'), ['plan transient']);
    const report = comp(snap, 'tool:report');
    assert.equal(report.class, 'cascade');
    assert.equal(report.rootCause, 'downstream:db');
    assert.deepEqual(report.dependsOn, ['downstream:db']);
    assert.deepEqual(steps(snap, 'tool:report'), ['plan cascade', 'step cascade notify succeeded']);
    assert.deepEqual(decisionsOf(snap, 'tool:report')[0]!.plan, ['notify', 'manual']);
    assert.match(String(decisionsOf(snap, 'tool:report')[0]!.evidence.rootError), /^circuit breaker open: error rate/);

    await until('the alerts', () => titles().includes('Cascading failure: tool:report (root cause: downstream:db)') && titles().includes('Circuit breaker open: downstream:db') && titles().includes('Circuit breaker open: tool:report'), 5000);
    const cascade = hook.received.find((r) => r.json.title.startsWith('Cascading failure'))!;
    assert.equal(cascade.json.component, 'downstream:db', 'the page names the root cause');
    assert.deepEqual(cascade.problems, [], 'a valid signed webhook');

    await heal('db', true);
    await until('both breakers past their open time', async () => (await breaker('downstream:db')) === 'half_open' && (await breaker('tool:report')) === 'half_open', 5000);
    assert.deepEqual((await call('report')).content[0]!.text, 'db ok', 'the probe passes');
    assert.equal(await breaker('downstream:db'), 'closed');
    assert.equal(await breaker('tool:report'), 'closed');
    const healed = await until('the attempt ended', async () => {
      const v = await recovery();
      return !comp(v, 'downstream:db').recovering ? v : undefined;
    });
    assert.deepEqual(steps(healed, 'downstream:db'), ['plan transient', 'step transient attempt succeeded']);
    assert.match(decisionsOf(healed, 'downstream:db')[1]!.detail, /^the breaker closed/);
    assert.ok(!healed.decisions.some((d: Decision) => d.action === 'exhausted'));
    await until('the breaker alerts resolved', () => titles().includes('Circuit breaker closed: downstream:db') && titles().includes('Circuit breaker closed: tool:report'), 5000);
  });

  test('a breaker that keeps opening (failed probes) is persistent: the attempt fails, degraded around; healed → closed, the mark clears', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await call('ping')).isError, true);
    assert.equal(await breaker('downstream:cache'), 'open');
    assert.equal(await breaker('tool:ping'), 'closed', 'a downstream refusal does not count against the tool');
    const probe = async () => {
      await until('the cache breaker half-open', async () => (await breaker('downstream:cache')) === 'half_open', 5000);
      assert.match((await call('ping')).content[0]!.text, /ECONNREFUSED 127\.0\.0\.1:6379/);
      assert.equal(await breaker('downstream:cache'), 'open', 'the failed probe opened it again');
    };
    await probe();
    let snap = await until('the first plan ended', async () => {
      const v = await recovery();
      return decisionsOf(v, 'downstream:cache').length === 3 ? v : undefined;
    });
    assert.deepEqual(steps(snap, 'downstream:cache'), ['plan transient', 'step transient attempt failed', 'step transient degrade succeeded']);
    assert.match(decisionsOf(snap, 'downstream:cache')[1]!.detail, /^the breaker opened again: a half-open probe failed/);
    await probe();
    snap = await until('the second plan ended', async () => {
      const v = await recovery();
      return decisionsOf(v, 'downstream:cache').length === 5 ? v : undefined;
    });
    const cache = comp(snap, 'downstream:cache');
    assert.equal(cache.class, 'persistent', 'three openings in the window, one error group');
    assert.equal(cache.failuresInWindow, 3);
    assert.deepEqual(cache.groups, [{ group: 'circuit breaker open', count: 3 }]);
    assert.deepEqual(steps(snap, 'downstream:cache').slice(3), ['plan persistent', 'step persistent degrade succeeded']);
    assert.match(cache.degraded, /^persistent: circuit breaker open/);

    await heal('cache', true);
    await until('the cache breaker half-open', async () => (await breaker('downstream:cache')) === 'half_open', 5000);
    assert.equal((await call('ping')).content[0]!.text, 'cache ok');
    assert.equal(await breaker('downstream:cache'), 'closed');
    assert.equal(comp(await recovery(), 'downstream:cache').degraded, null, 'the degraded mark clears when the breaker closes');
    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(metrics, /andon_recovery_strategy_selected_total\{class="persistent"\} 1/);
    assert.match(metrics, /andon_recovery_step_total\{step="attempt",result="succeeded"\} 1/);
    assert.match(metrics, /andon_recovery_step_total\{step="attempt",result="failed"\} 1/);
  });
});
