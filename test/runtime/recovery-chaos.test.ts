/**
 * The recovery strategist's chaos scenarios through real processes: `andon serve` children on
 * 127.0.0.1 configured by a real config file, tools whose errors escape their handlers (component
 * crashes), alerts delivered to a real signed-webhook receiver (node:http), GET /admin/recovery
 * and `andon recovery` against the real ops listener.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';
import { startReceiver, webhookOk, webhookValidator, type HttpReceiver } from '../observability/receivers.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/recovery-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-recovery-');
const SECRET = 'recovery-chaos-secret';
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

/** Starts a node with `config` (plus a webhook channel to `hook`) written to its state directory. */
async function nodeWith(config: Record<string, unknown>, hook: HttpReceiver): Promise<{ node: NodeProc; s: Session2025; stateDir: string }> {
  const f = await fresh();
  const file = join(f.stateDir, 'andon.json');
  writeFileSync(file, JSON.stringify({ ...config, alerts: { channels: { hook: { type: 'webhook', url: `${hook.url}/hook`, secretEnv: 'CHAOS_SECRET' } }, retry: { attempts: 2, baseMs: 50 } } }));
  const node = await f.start({ ANDON_CONFIG: file, CHAOS_SECRET: SECRET, ANDON_LOG_LEVEL: 'info' });
  const s = new Session2025(node.url);
  await s.initialize();
  return { node, s, stateDir: f.stateDir };
}

const crash = (s: Session2025, tool: string, message?: string) => s.call('tools/call', { name: tool, arguments: message === undefined ? {} : { message } });
const recovery = async (node: NodeProc) => (await node.admin('GET', '/admin/recovery?limit=500')).body;
const comp = (snap: any, id: string) => snap.components.find((c: { id: string }) => c.id === id);
const decisionsOf = (snap: any, id: string) => snap.decisions.filter((d: { component: string }) => d.component === id);
const titles = (hook: HttpReceiver) => hook.received.map((r) => r.json?.title as string);

describe('recovery chaos: crash cycle 100×', () => {
  let hook: HttpReceiver;
  before(async () => {
    hook = await startReceiver(webhookValidator(SECRET), webhookOk);
  });
  after(() => hook.close());

  test('halted after the restart intensity, exactly one alert at the webhook, no restart loop', async () => {
    const { node, s } = await nodeWith({ intensity: { maxRestarts: 5, windowMs: 60_000 }, backoff: { baseMs: 20, maxMs: 200 } }, hook);
    const answers: string[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await crash(s, 'loop');
      answers.push(r.content[0].text);
      await sleep(5);
    }
    const c = (await node.admin('GET', '/admin/components/tool:loop')).body;
    assert.equal(c.state, 'halted_fatal');
    assert.equal(c.restarts, 5, 'restarted up to the intensity, then halted');
    assert.equal(answers.filter((a) => a === 'scheduled').length, 6, 'six crashes: the first run and five restarts');
    assert.match(answers.at(-1)!, /halted: restart intensity exceeded/);
    await hook.waitFor(1, 5000);
    await sleep(1000);
    assert.equal((await node.admin('GET', '/admin/components/tool:loop')).body.restarts, 5, 'no restart after the halt');
    assert.deepEqual(titles(hook), ['Component halted: tool:loop'], 'exactly one alert for the crash loop');
    assert.deepEqual(hook.received[0]!.problems, [], 'a valid signed webhook');
    assert.match(hook.received[0]!.json.context.reason, /restart intensity exceeded/);
    const snap = await recovery(node);
    const loop = comp(snap, 'tool:loop');
    assert.equal(loop.failures, 6);
    assert.equal(loop.class, 'persistent');
    assert.equal(loop.lastGroup, 'uncaught exception: loop failed after <n>ms');
    assert.ok(!decisionsOf(snap, 'tool:loop').some((d: { action: string }) => d.action === 'exhausted'));
    assert.ok(!decisionsOf(snap, 'tool:loop').some((d: { step?: string }) => d.step === 'manual'), 'the strategist never halts or restarts it itself');
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'others fine' } })).content[0].text, 'others fine');
    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(metrics, /andon_recovery_strategy_selected_total\{class="persistent"\} [1-9]/);
    node.child.kill('SIGTERM');
    assert.equal((await node.exited).code, 0);
  });
});

test('a timer a handler left behind throws after its tool was halted: contained and logged, the node stays up', async () => {
  const hook = await startReceiver(webhookValidator(SECRET), webhookOk);
  try {
    const { node, s } = await nodeWith({}, hook);
    const r = await s.call('tools/call', { name: 'late', arguments: { ms: 600 } });
    assert.equal(r.content[0].text, 'scheduled late');
    assert.equal((await node.admin('POST', '/admin/components/tool%3Alate/halt', { reason: 'operator' })).status, 200);
    await until('the late error logged as contained', () => /error escaped a handler of a stopped tool/.test(node.stderr()), 8000);
    assert.equal(node.child.exitCode, null, 'the node is still running');
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'still here' } })).content[0].text, 'still here');
    assert.doesNotMatch(node.stderr(), /fatal: error outside any component/);
  } finally {
    await hook.close();
  }
});

describe('recovery chaos: cascade, resource exhaustion, strategy change', () => {
  let hook: HttpReceiver;
  let node: NodeProc;
  let s: Session2025;
  let stateDir: string;
  before(async () => {
    hook = await startReceiver(webhookValidator(SECRET), webhookOk);
    ({ node, s, stateDir } = await nodeWith(
      {
        intensity: { maxRestarts: 1, windowMs: 60_000 },
        backoff: { baseMs: 20, maxMs: 200 },
        recovery: { cascadeWindowMs: 10_000, dependencies: { 'tool:report': ['tool:db'], 'tool:summary': ['tool:report'] } },
      },
      hook,
    ));
  });
  after(async () => {
    node.child.kill('SIGTERM');
    await node.exited;
    await hook.close();
  });

  test('cascade: the dependency fails, then its dependents → GET /admin/recovery and the alert name the root cause', async () => {
    assert.equal((await crash(s, 'db', 'connect ECONNREFUSED 127.0.0.1:5432')).content[0].text, 'scheduled');
    await until('tool:db restarted', async () => (await node.admin('GET', '/admin/components/tool:db')).body.restarts === 1);
    assert.equal((await crash(s, 'report', 'query failed: db unavailable')).content[0].text, 'scheduled');
    await until('tool:report restarted', async () => (await node.admin('GET', '/admin/components/tool:report')).body.restarts === 1);
    assert.equal((await crash(s, 'summary', 'no report')).content[0].text, 'scheduled');
    const snap = await until('the summary classified', async () => {
      const v = await recovery(node);
      return comp(v, 'tool:summary')?.class ? v : undefined;
    });
    assert.equal(comp(snap, 'tool:db').class, 'transient');
    for (const id of ['tool:report', 'tool:summary']) {
      assert.equal(comp(snap, id).class, 'cascade', id);
      assert.equal(comp(snap, id).rootCause, 'tool:db', `${id}: the first failure is the root cause`);
    }
    assert.deepEqual(comp(snap, 'tool:summary').dependsOn, ['tool:report']);
    const plan = decisionsOf(snap, 'tool:report').find((d: { action: string }) => d.action === 'plan');
    assert.deepEqual(plan.plan, ['notify', 'manual']);
    assert.equal(plan.evidence.rootError, 'uncaught exception: connect ECONNREFUSED 127.0.0.1:5432');
    await until('the cascade alerts', () => titles(hook).filter((t) => t.startsWith('Cascading failure')).length === 2, 5000);
    assert.deepEqual(titles(hook).filter((t) => t.startsWith('Cascading failure')).sort(), ['Cascading failure: tool:report (root cause: tool:db)', 'Cascading failure: tool:summary (root cause: tool:db)']);
    const a = hook.received.find((r) => r.json.title.startsWith('Cascading failure: tool:report'))!;
    assert.equal(a.json.severity, 'critical');
    assert.equal(a.json.component, 'tool:db');
    assert.deepEqual(a.problems, []);
    assert.ok(!titles(hook).some((t) => t.startsWith('Recovery exhausted')), 'notify succeeded: the plan ended there');
  });

  test('resource exhaustion: ENOMEM and EMFILE errors are classified so and degraded around', async () => {
    assert.equal((await crash(s, 'memory', 'ENOMEM: cannot allocate memory, mmap 0x7f3a2c000000')).content[0].text, 'scheduled');
    assert.equal((await crash(s, 'files', "EMFILE: too many open files, open '/var/data/part-0042.bin'")).content[0].text, 'scheduled');
    const snap = await until('both classified', async () => {
      const v = await recovery(node);
      return comp(v, 'tool:memory')?.class && comp(v, 'tool:files')?.class && !comp(v, 'tool:memory').recovering && !comp(v, 'tool:files').recovering ? v : undefined;
    });
    for (const id of ['tool:memory', 'tool:files']) {
      assert.equal(comp(snap, id).class, 'resource_exhaustion', id);
      const steps = decisionsOf(snap, id).filter((d: { action: string }) => d.action === 'step').map((d: { step: string; result: string }) => `${d.step}:${d.result}`);
      assert.deepEqual(steps, ['degrade:succeeded'], `${id}: the first step of resource_exhaustion`);
    }
    assert.equal(comp(snap, 'tool:files').lastGroup, 'uncaught exception: EMFILE: too many open files, open <str>');
  });

  test('a step that fails changes the strategy: attempt fails at the intensity → degrade; decisions are in the store; andon recovery', async () => {
    assert.equal((await crash(s, 'flaky', 'flaky after 812ms')).content[0].text, 'scheduled');
    await until('tool:flaky restarted', async () => (await node.admin('GET', '/admin/components/tool:flaky')).body.restarts === 1);
    assert.equal((await crash(s, 'flaky', 'flaky after 97ms')).content[0].text, 'scheduled');
    const snap = await until('the second plan ended', async () => {
      const v = await recovery(node);
      return decisionsOf(v, 'tool:flaky').filter((d: { action: string }) => d.action === 'step').length === 3 ? v : undefined;
    });
    assert.equal((await node.admin('GET', '/admin/components/tool:flaky')).body.state, 'halted_fatal');
    const steps = decisionsOf(snap, 'tool:flaky').map((d: { action: string; class: string; step?: string; result?: string }) => `${d.action} ${d.class} ${d.step ?? ''} ${d.result ?? ''}`.trim());
    assert.deepEqual(steps, ['plan transient', 'step transient attempt succeeded', 'plan transient', 'step transient attempt failed', 'step transient degrade succeeded']);
    assert.match(decisionsOf(snap, 'tool:flaky')[3].detail, /restart intensity exceeded/);
    assert.match(comp(snap, 'tool:flaky').degraded, /transient/);
    assert.equal(comp(snap, 'tool:flaky').meanIntervalMs > 0, true);
    assert.equal(typeof comp(snap, 'tool:flaky').predictedNextAt, 'number');
    // Each decision is a record in the store's `recovery` namespace (a file per decision).
    const stored = async () => (await readdir(join(stateDir, 'recovery'))).filter((f) => f.endsWith('.json')).sort();
    const files = await until('the decisions written', async () => ((await stored()).length === snap.decisions.length ? stored() : undefined), 5000);
    assert.equal(files.at(-1), `${String(snap.decisions.at(-1).seq).padStart(12, '0')}.json`);
    const env = { ANDON_OPS_URL: node.opsUrl, ANDON_STATE_DIR: stateDir };
    const json = await runCli(['recovery', '--json', '--limit', '500'], env);
    assert.equal(json.code, 0, json.stderr);
    const viaCli = JSON.parse(json.stdout);
    assert.deepEqual(decisionsOf(viaCli, 'tool:flaky').map((d: { seq: number }) => d.seq), decisionsOf(snap, 'tool:flaky').map((d: { seq: number }) => d.seq));
    const human = await runCli(['recovery'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^COMPONENT\s+CLASS\s+FAILURES/m);
    assert.match(human.stdout, /tool:summary\s+cascade\s+1\s+1\s+[\d.]+\s+stable\s+-\s+tool:db/);
    assert.match(human.stdout, /tool:flaky\s+transient\s+step\s+degrade\s+succeeded/);
    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(metrics, /andon_recovery_step_total\{step="attempt",result="failed"\} 1/);
    assert.match(metrics, /andon_recovery_strategy_selected_total\{class="cascade"\} 2/);
    assert.match(metrics, /andon_recovery_strategy_selected_total\{class="resource_exhaustion"\} 2/);
  });
});
