/**
 * Rollouts (src/flags/rollout*.ts) with a TestClock: the state machine (start, minimum duration,
 * gates, advance to completed, manual and automatic rollback), each automatic rollback trigger
 * (error rate, p99 latency, restarts, breaker of a gated tool, alert delivery) and the cases that
 * must not trigger (too few calls, both cohorts failing), the flag audit record by `rollout`,
 * the `rollout` event, and persistence across a restart of the manager.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory-store.js';
import { TestClock } from '../../src/util/clock.js';
import { nullLogger } from '../../src/util/logger.js';
import { events, type RolloutEvent, type RequestEvent } from '../../src/events/index.js';
import { createServer } from '../../src/index.js';
import { FlagRegistry } from '../../src/flags/registry.js';
import { RolloutManager } from '../../src/flags/rollouts.js';
import { RolloutMonitor, DEFAULT_THRESHOLDS } from '../../src/flags/rollout-monitor.js';
import { checkPhases, parseDuration, parsePercents, RolloutInputError } from '../../src/flags/rollout-model.js';

const T = { evaluationIntervalMs: 1000, windowMs: 10_000, minCalls: 20 };

async function setup(thresholds: Record<string, unknown> = {}, store = new MemoryStore()) {
  const clock = new TestClock();
  const server = createServer({ name: 't', version: '1' });
  server.tool('gated', { flag: 'f' }, () => 'x');
  server.tool('control', {}, () => 'y');
  const flags = new FlagRegistry(store, clock, nullLogger);
  flags.attach(server);
  await flags.start();
  const rollouts = new RolloutManager(store, flags, server, clock, nullLogger, { ...T, ...thresholds });
  await rollouts.start();
  const seen: RolloutEvent[] = [];
  const sub = (e: unknown) => seen.push(e as RolloutEvent);
  events.rollout.subscribe(sub);
  const stop = async () => {
    events.rollout.unsubscribe(sub);
    await rollouts.stop();
    await flags.stop();
  };
  return { clock, server, flags, rollouts, seen, stop, store };
}

/** `n` clients (remote addresses) with their cohort under flag `f`. */
function clients(flags: FlagRegistry, n: number): Array<{ remote: string; on: boolean }> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const remote = `10.0.${i >> 8}.${i & 255}`;
    const inc = { request: { id: 1, method: 'tools/call', params: { name: 'control' } }, era: '2025', remote };
    out.push({ remote, on: flags.isEnabled('f', flags.subjectOf(inc as never)!) });
  }
  return out;
}

function call(remote: string, outcome: RequestEvent['outcome'], ms = 5, code?: number): void {
  events.request.publish({ method: 'tools/call', name: 'control', era: '2025', outcome, durationMs: ms, code, incoming: { request: { id: 1, method: 'tools/call', params: { name: 'control' } }, era: '2025', remote } as never });
}

test('the plan parsers refuse what is not a plan', () => {
  assert.deepEqual(parsePercents('10, 50,100'), [10, 50, 100]);
  assert.throws(() => parsePercents('10,x'), RolloutInputError);
  assert.throws(() => parsePercents('10,150'), RolloutInputError);
  assert.equal(parseDuration('60s'), 60_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.throws(() => parseDuration('soon'), RolloutInputError);
  assert.throws(() => checkPhases([50, 10]), /must not decrease/);
  assert.throws(() => checkPhases([]), RolloutInputError);
});

test('state machine: start → minimum duration → gates → advance → completed; a new plan after it', async () => {
  const { clock, flags, rollouts, seen, stop } = await setup();
  try {
    const phases = checkPhases([10, 50, 100].map((percent) => ({ percent, minDurationMs: 60_000 })));
    const p = await rollouts.begin('f', phases, 'alice');
    assert.equal(p.state, 'running');
    assert.equal(p.phase, 0);
    assert.equal(flags.get('f')!.percent, 10);
    assert.equal(flags.get('f')!.kind, 'percentage');
    await assert.rejects(rollouts.begin('f', phases, 'bob'), /already running/);
    await assert.rejects(rollouts.advance('f', 'alice'), /60000 ms left|ms left/);
    await clock.advance(60_000);
    assert.equal((await rollouts.advance('f', 'alice')).phase, 1);
    assert.equal(flags.get('f')!.percent, 50);
    // --force skips the minimum duration.
    assert.equal((await rollouts.advance('f', 'alice', true)).phase, 2);
    assert.equal(flags.get('f')!.percent, 100);
    await clock.advance(60_000);
    const done = await rollouts.advance('f', 'alice');
    assert.equal(done.state, 'completed');
    assert.equal(flags.get('f')!.percent, 100);
    await assert.rejects(rollouts.advance('f', 'alice'), /completed, not running/);
    assert.deepEqual(
      seen.map((e) => [e.action, e.phase, e.percent]),
      [
        ['start', 1, 10],
        ['advance', 2, 50],
        ['advance', 3, 100],
        ['complete', 3, 100],
      ],
    );
    const audit = await flags.audit(10, 'f');
    assert.equal(audit.length, 3);
    assert.match(audit[0]!.reason!, /rollout started: phase 1\/3/);
    // A completed plan can be replaced.
    assert.equal((await rollouts.begin('f', checkPhases([20]), 'bob')).phase, 0);
  } finally {
    await stop();
  }
});

test('manual rollback: the flag off (or the previous phase), audited with the reason, an event naming it manual', async () => {
  const { flags, rollouts, seen, stop } = await setup();
  try {
    assert.equal(events.request.hasSubscribers, false, 'no rollout running: no per-request cost');
    await rollouts.begin('f', checkPhases([10, 50]), 'alice');
    assert.equal(events.request.hasSubscribers, true);
    await rollouts.advance('f', 'alice', true);
    const back = await rollouts.rollback('f', 'bob', 'customer complaints', true);
    assert.equal(back.state, 'rolled_back');
    assert.equal(back.phase, 0);
    assert.equal(flags.get('f')!.percent, 10);
    assert.equal(events.request.hasSubscribers, false, 'unsubscribed once nothing runs');
    await assert.rejects(rollouts.rollback('f', 'bob', 'again'), /nothing to roll back/);
    await rollouts.begin('f', checkPhases([10, 50]), 'alice');
    const off = await rollouts.rollback('f', 'bob', 'stop it');
    assert.equal(off.phase, -1);
    assert.equal(flags.get('f')!.enabled, false);
    const last = seen.at(-1)!;
    assert.equal(last.action, 'rollback');
    assert.equal(last.metric, 'manual');
    assert.equal(last.automatic, false);
    const audit = await flags.audit(1, 'f');
    assert.equal(audit[0]!.by, 'bob');
    assert.equal(audit[0]!.reason, 'stop it');
    await assert.rejects(rollouts.advance('nope', 'x'), /no rollout/);
  } finally {
    await stop();
  }
});

test('error rate: the on-cohort failing 30 % while the off-cohort is healthy rolls back to the previous phase within one interval', async () => {
  const { clock, flags, rollouts, seen, stop } = await setup();
  try {
    await rollouts.begin('f', checkPhases([20, 50]), 'alice');
    await rollouts.advance('f', 'alice', true);
    const cs = clients(flags, 200);
    const on = cs.filter((c) => c.on);
    const off = cs.filter((c) => !c.on);
    assert.ok(on.length > 60 && off.length > 60, `cohorts ${on.length}/${off.length}`);
    // Refusals (e.g. a rate limit, -32029-ish codes) are not failures of the tool.
    for (let i = 0; i < 50; i++) call(on[i % on.length]!.remote, 'error', 1, -32002);
    for (let i = 0; i < 60; i++) call(on[i]!.remote, i % 10 < 3 ? 'tool_error' : 'ok');
    for (let i = 0; i < 60; i++) call(off[i]!.remote, 'ok');
    const st = rollouts.status('f');
    assert.equal(st.window!.on.calls, 60);
    assert.equal(st.window!.on.errors, 18);
    assert.equal(st.window!.off.errors, 0);
    assert.match(st.firing!, /error_rate/);
    await clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    await rollouts.stop(); // settles the rollback's writes
    const p = rollouts.status('f');
    assert.equal(p.state, 'rolled_back');
    assert.equal(p.phase, 0);
    assert.equal(flags.get('f')!.percent, 20);
    assert.match(p.rollbackReason!, /error_rate on-cohort 30\.0 % \(18\/60\) > 5\.0 % while off-cohort 0\.0 % \(0\/60\)/);
    const ev = seen.at(-1)!;
    assert.deepEqual([ev.action, ev.automatic, ev.metric, ev.by], ['rollback', true, 'error_rate', 'rollout']);
    const audit = (await flags.audit(1, 'f'))[0]!;
    assert.equal(audit.by, 'rollout');
    assert.match(audit.reason!, /automatic rollback: error_rate/);
    assert.equal(audit.to!.percent, 20);
  } finally {
    await stop();
  }
});

test('error rate does not trigger with too few calls, nor when the off-cohort fails as much; the window slides', async () => {
  const m = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T }, new TestClock());
  for (let i = 0; i < 19; i++) m.call(true, true, 1);
  for (let i = 0; i < 30; i++) m.call(false, false, 1);
  assert.equal(m.evaluate(), undefined, 'on-cohort below minCalls');
  const clock = new TestClock();
  const both = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T }, clock);
  for (let i = 0; i < 40; i++) both.call(i % 2 === 0, i % 4 < 2, 1);
  assert.equal(both.evaluate(), undefined, 'both cohorts at 50 %: not the flag');
  const slide = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T }, clock);
  for (let i = 0; i < 30; i++) slide.call(true, true, 1);
  for (let i = 0; i < 30; i++) slide.call(false, false, 1);
  assert.equal(slide.evaluate()?.metric, 'error_rate');
  await clock.advance(10_001);
  assert.equal(slide.evaluate(), undefined, 'the failures left the window');
  assert.equal(slide.stats().on.calls, 0);
});

test('p99 latency regression triggers when on p99 > off p99 × factor', () => {
  const m = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T, latencyFactor: 2 }, new TestClock());
  for (let i = 0; i < 100; i++) m.call(false, false, 10);
  for (let i = 0; i < 100; i++) m.call(true, false, i < 98 ? 10 : 19);
  assert.equal(m.evaluate(), undefined, '19 ms ≤ 10 × 2');
  m.call(true, false, 50);
  m.call(true, false, 50);
  const t = m.evaluate()!;
  assert.equal(t.metric, 'p99_latency');
  assert.equal(t.values.on, 50);
  assert.equal(t.values.off, 10);
});

test('restarts above the limit per minute trigger; a minute later they have aged out', async () => {
  const clock = new TestClock();
  const m = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T }, clock);
  for (let i = 0; i < 10; i++) m.restart();
  assert.equal(m.evaluate(), undefined, '10 is not more than 10');
  m.restart();
  assert.equal(m.evaluate()?.metric, 'restarts');
  assert.match(m.evaluate()!.detail, /restarts 11 in the last minute > 10\/min/);
  await clock.advance(60_001);
  assert.equal(m.evaluate(), undefined);
});

test('alert delivery success below 95 % triggers (with enough deliveries)', () => {
  const m = new RolloutMonitor({ ...DEFAULT_THRESHOLDS, ...T }, new TestClock());
  for (let i = 0; i < 3; i++) m.delivery(false);
  assert.equal(m.evaluate(), undefined, 'fewer than minAlertDeliveries');
  for (let i = 0; i < 17; i++) m.delivery(true);
  const t = m.evaluate()!;
  assert.equal(t.metric, 'alert_delivery');
  assert.equal(t.values.rate, 0.85);
});

test('events: a breaker of a gated tool opening, restarts and failed alert deliveries roll a rollout back', async () => {
  const { clock, flags, rollouts, seen, stop } = await setup();
  try {
    await rollouts.begin('f', checkPhases([10, 50]), 'alice');
    // The breaker of an ungated tool is not the flag's.
    events.breaker.publish({ name: 'tool:control', from: 'closed', to: 'open', reason: 'x' });
    assert.equal(rollouts.status('f').firing, undefined);
    events.breaker.publish({ name: 'tool:gated', from: 'closed', to: 'open', reason: 'error rate 60 %' });
    assert.match(rollouts.status('f').firing!, /breaker tool:gated/);
    await clock.advance(1000);
    await rollouts.stop();
    assert.equal(rollouts.status('f').phase, -1, 'from the first phase: off');
    assert.equal(flags.get('f')!.enabled, false);
    assert.equal(seen.at(-1)!.metric, 'breaker');
    await rollouts.start();
    await rollouts.begin('f', checkPhases([10]), 'alice');
    for (let i = 0; i < 11; i++) events.restart.publish({ id: 'c', restarts: i, intensityExceeded: false });
    assert.match(rollouts.status('f').firing!, /restarts 11/);
    await rollouts.rollback('f', 'x', 'y');
    await rollouts.begin('f', checkPhases([10]), 'alice');
    for (let i = 0; i < 10; i++) events.alert.publish({ channel: 'hook', severity: 'info', outcome: i < 2 ? 'failed' : 'sent', attempts: 1, durationMs: 1 });
    events.alert.publish({ channel: 'hook', severity: 'info', outcome: 'suppressed', attempts: 0, durationMs: 0 });
    assert.match(rollouts.status('f').firing!, /alert_delivery success 80\.0 % of 10/);
  } finally {
    await stop();
  }
});

test('a running rollout survives a restart of the manager (store namespace rollouts)', async () => {
  const store = new MemoryStore();
  const a = await setup({}, store);
  await a.rollouts.begin('f', checkPhases([10, 50]), 'alice');
  await a.stop();
  const b = await setup({}, store);
  try {
    const st = b.rollouts.status('f');
    assert.equal(st.state, 'running');
    assert.ok(st.window, 'watched again');
    assert.equal(b.rollouts.list().length, 1);
  } finally {
    await b.stop();
  }
});
