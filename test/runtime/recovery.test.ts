/** The recovery strategist's parts with a TestClock: grouping, history, classification, plans, step fallthrough. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { HaltRegistry } from '../../src/runtime/halt.js';
import { Supervisor, type ChildLink } from '../../src/runtime/supervisor.js';
import { events, type RecoveryEvent } from '../../src/events/index.js';
import { FailureHistory, RecoveryStrategist, classify, errorGroup, trendOf, type RecoveryActions, type RecoveryOptions } from '../../src/runtime/recovery/index.js';
import { AndonMetrics } from '../../src/observability/metrics.js';
import { AlertManager } from '../../src/observability/alerts/manager.js';
import { wireAlerts } from '../../src/observability/alerts/wiring.js';
import type { Alert, AlertChannel } from '../../src/observability/alerts/types.js';

describe('error grouping and failure history', () => {
  test('numbers, hex, ids and quoted values are stripped; different errors stay apart', () => {
    assert.equal(errorGroup('timeout after 3012ms'), errorGroup('timeout after 2999ms'));
    assert.equal(errorGroup('timeout after 3012ms'), 'timeout after <n>ms');
    assert.equal(errorGroup("ENOENT: no such file, open '/tmp/a/b.json'"), errorGroup('ENOENT: no such file, open "/var/x"'));
    assert.equal(errorGroup('session 3f2b9c1e-0d4a-4c1b-9b2e-7a1d2c3b4e5f expired'), errorGroup('session 0a0b0c0d-1111-2222-3333-444455556666 expired'));
    assert.equal(errorGroup('bad pointer 0x7ffd3a2b at deadbeef42'), 'bad pointer <hex> at <hex>');
    assert.equal(errorGroup('request   id=42\n failed'), 'request id=<n> failed');
    assert.notEqual(errorGroup('timeout after 3012ms'), errorGroup('connection refused'));
  });

  test('keeps the last N failures; rate, trend and prediction over the window', () => {
    const h = new FailureHistory(5, 60_000);
    for (let i = 0; i < 8; i++) h.record(1000 + i * 1000, `boom ${i}`);
    assert.equal(h.list().length, 5, 'bounded to the history size');
    assert.equal(h.list()[0]!.time, 4000, 'the oldest went first');
    const s = h.stats(8000);
    assert.equal(s.failuresInWindow, 5);
    assert.equal(s.perMinute, 5);
    assert.equal(s.meanIntervalMs, 1000);
    assert.equal(s.predictedNextAt, 9000);
    assert.deepEqual(s.groups, [{ group: 'boom <n>', count: 5 }]);
    // Later, the window has moved past them all.
    assert.equal(h.stats(200_000).failuresInWindow, 0);
    assert.equal(h.stats(200_000).predictedNextAt, null);
  });

  test('trend from the two halves of the window', () => {
    const up = new FailureHistory(100, 60_000);
    up.record(1_000, 'x');
    for (let t = 40_000; t < 45_000; t += 1000) up.record(t, 'x');
    assert.equal(up.stats(60_000).trend, 'increasing');
    const down = new FailureHistory(100, 60_000);
    for (let t = 1_000; t < 6_000; t += 1000) down.record(t, 'x');
    down.record(50_000, 'x');
    assert.equal(down.stats(60_000).trend, 'decreasing');
    const flat = new FailureHistory(100, 60_000);
    for (const t of [5_000, 20_000, 35_000, 50_000]) flat.record(t, 'x');
    assert.equal(flat.stats(60_000).trend, 'stable');
    assert.equal(trendOf(0, 1), 'stable', 'one failure is no trend');
    assert.equal(trendOf(10, 12), 'stable');
    assert.equal(trendOf(10, 15), 'increasing');
  });

  test('classification rules, in order', () => {
    const base = { group: 'timeout after <n>ms', failuresInWindow: 1, sameGroupInWindow: 1, pressure: false, cascadeRoot: undefined };
    assert.equal(classify(base), 'transient');
    assert.equal(classify({ ...base, failuresInWindow: 3, sameGroupInWindow: 3 }), 'persistent');
    assert.equal(classify({ ...base, failuresInWindow: 3, sameGroupInWindow: 1 }), 'unknown', 'erratic: many failures, no common cause');
    assert.equal(classify({ ...base, group: '' }), 'unknown');
    assert.equal(classify({ ...base, cascadeRoot: 'tool:db' }), 'cascade');
    for (const g of ['ENOMEM: cannot allocate memory', 'EMFILE: too many open files, open <str>', 'JavaScript heap out of memory', 'ENFILE: file table overflow']) {
      assert.equal(classify({ ...base, group: g }), 'resource_exhaustion', g);
    }
    assert.equal(classify({ ...base, pressure: true }), 'resource_exhaustion', 'the guardian\'s pressure');
    assert.equal(classify({ ...base, group: 'ENOMEM', cascadeRoot: 'tool:db' }), 'resource_exhaustion', 'resource exhaustion before cascade');
  });
});

/** A strategist with fake runtime actions, driven by events published by hand. */
function harness(opts: RecoveryOptions = {}, critical: string[] = [], canNotify = false) {
  const clock = new TestClock();
  const store = new MemoryStore(clock);
  const states = new Map<string, string>();
  const halted: string[] = [];
  const actions: RecoveryActions = {
    state: (id) => states.get(id) ?? 'running',
    critical: (id) => critical.includes(id),
    halt: async (id, reason) => {
      halted.push(`${id}: ${reason}`);
      states.set(id, 'halted_manual');
    },
    canNotify: () => canNotify,
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const s = new RecoveryStrategist(opts, { actions, clock, log, store });
  const seen: RecoveryEvent[] = [];
  const collect = (m: unknown) => seen.push(m as RecoveryEvent);
  events.recovery.subscribe(collect);
  const fail = (id: string, error: string) => s.onFailure({ id, kind: id.split(':')[0]!, error, time: clock.now() });
  const steps = (id: string) => seen.filter((e) => e.component === id && e.action !== 'plan').map((e) => `${e.action === 'exhausted' ? 'EXHAUSTED' : e.step}:${e.result}`);
  const done = async () => {
    await s.stop();
    events.recovery.unsubscribe(collect);
  };
  return { clock, store, states, halted, s, seen, fail, steps, done };
}

describe('plans and step fallthrough', () => {
  test('transient: attempt succeeds when the supervisor restarts the component', async () => {
    const h = harness();
    h.fail('tool:a', 'timeout after 3012ms');
    h.s.onRestart({ id: 'tool:a', restarts: 1, intensityExceeded: false });
    await h.s.settled();
    assert.deepEqual(h.seen.map((e) => `${e.action} ${e.class} ${e.step ?? ''} ${e.result ?? ''}`.trim()), ['plan transient', 'step transient attempt succeeded']);
    assert.deepEqual(h.seen[0]!.plan, ['attempt', 'degrade', 'manual']);
    assert.match(h.seen[1]!.detail, /restarted by its supervisor/);
    await h.done();
  });

  test('recovery failure changes strategy: the supervisor halts it (intensity) → attempt failed → degrade', async () => {
    const h = harness({}, [], false);
    h.fail('tool:a', 'boom');
    h.states.set('tool:a', 'halted_fatal');
    h.s.onRestart({ id: 'tool:a', restarts: 5, intensityExceeded: true, error: 'boom' });
    await h.s.settled();
    assert.deepEqual(h.steps('tool:a'), ['attempt:failed', 'degrade:succeeded']);
    assert.equal(h.s.snapshot().components.find((c) => c.id === 'tool:a')!.degraded, 'transient: boom');
    assert.deepEqual(h.halted, [], 'the strategist did not halt anything; no alert-worthy exhaustion');
    await h.done();
  });

  test('attempt that never comes back times out on the clock and falls through', async () => {
    const h = harness({ attemptTimeoutMs: 5000 });
    h.states.set('tool:a', 'restarting');
    h.fail('tool:a', 'boom');
    await h.clock.advance(4999);
    assert.equal(h.steps('tool:a').length, 0, 'still waiting');
    await h.clock.advance(1);
    await h.s.settled();
    assert.deepEqual(h.steps('tool:a'), ['attempt:failed', 'degrade:succeeded']);
    assert.match(h.seen.find((e) => e.step === 'attempt')!.detail, /not running 5000 ms after the failure \(state restarting\)/);
    await h.done();
  });

  test('a critical component that keeps failing: degrade fails, notify fails without alerts, manual halts it: exhausted', async () => {
    const h = harness({ decisions: 4 }, ['store']);
    for (let i = 0; i < 3; i++) {
      h.fail('store', `disk write failed after ${100 + i}ms`);
      if (i < 2) h.s.onRestart({ id: 'store', restarts: i + 1, intensityExceeded: false });
      await h.s.settled();
      await h.clock.advance(1000);
    }
    const last = h.seen.filter((e) => e.action === 'plan').at(-1)!;
    assert.equal(last.class, 'persistent');
    assert.equal(last.evidence.sameGroupInWindow, 3);
    assert.deepEqual(h.steps('store').slice(-4), ['degrade:failed', 'notify:failed', 'manual:succeeded', 'EXHAUSTED:succeeded']);
    assert.equal(h.halted.length, 1);
    assert.match(h.halted[0]!, /^store: recovery exhausted \(persistent\): disk write failed after 102ms/);
    // The decisions are in the store, bounded (oldest first out).
    const stored = await h.store.list<RecoveryEvent>('recovery');
    assert.equal(stored.length, 4);
    assert.deepEqual(stored.map((e) => e.value.seq), h.seen.slice(-4).map((e) => e.seq));
    await h.done();
  });

  test('with an alert channel, notify succeeds and ends the plan; a custom degrade that throws is a failed step', async () => {
    const h = harness({ degrade: () => Promise.reject(new Error('guardian unavailable')) }, [], true);
    h.fail('tool:x', 'EMFILE: too many open files, open \'/tmp/a\'');
    await h.s.settled();
    assert.equal(h.seen[0]!.class, 'resource_exhaustion');
    assert.deepEqual(h.steps('tool:x'), ['degrade:failed', 'notify:succeeded']);
    assert.match(h.seen.find((e) => e.step === 'degrade')!.detail, /step threw: guardian unavailable/);
    await h.done();
  });

  test('cascade: a dependent failing within the window names the FIRST failure of the chain as root cause', async () => {
    const h = harness({ dependencies: { 'tool:report': ['tool:db'], 'tool:summary': ['tool:report'] }, cascadeWindowMs: 10_000 }, [], true);
    h.fail('tool:db', 'ECONNREFUSED 127.0.0.1:5432');
    await h.clock.advance(2000);
    h.fail('tool:report', 'query failed');
    await h.clock.advance(2000);
    h.fail('tool:summary', 'report unavailable');
    h.s.onRestart({ id: 'tool:db', restarts: 1, intensityExceeded: false });
    await h.s.settled();
    const plans = h.seen.filter((e) => e.action === 'plan');
    assert.deepEqual(plans.map((e) => `${e.component} ${e.class} ${e.rootCause ?? '-'}`), ['tool:db transient -', 'tool:report cascade tool:db', 'tool:summary cascade tool:db']);
    assert.equal(plans[2]!.evidence.dependency, 'tool:report');
    assert.equal(plans[2]!.evidence.rootError, 'ECONNREFUSED 127.0.0.1:5432');
    assert.deepEqual(h.steps('tool:report'), ['notify:succeeded']);
    const snap = h.s.snapshot();
    assert.equal(snap.components.find((c) => c.id === 'tool:summary')!.rootCause, 'tool:db');
    // Outside the window it is the dependent's own failure.
    await h.clock.advance(60_000);
    h.fail('tool:report', 'query failed');
    h.s.onRestart({ id: 'tool:report', restarts: 1, intensityExceeded: false });
    await h.s.settled();
    assert.equal(h.seen.filter((e) => e.action === 'plan').at(-1)!.class, 'transient');
    await h.done();
  });

  test('a node that stops ends running plans after their current step: nothing is halted on the way down', async () => {
    const h = harness({}, ['store']);
    h.states.set('store', 'restarting');
    h.fail('store', 'boom');
    await h.done();
    assert.deepEqual(h.steps('store'), ['attempt:failed']);
    assert.match(h.seen.find((e) => e.step === 'attempt')!.detail, /the node is stopping/);
    assert.deepEqual(h.halted, [], 'a critical component is not halted by a plan cut short by the shutdown');
    h.fail('store', 'late');
    assert.equal(h.seen.filter((e) => e.action === 'plan').length, 1, 'no plan after stop');
  });

  test('decisions survive a restart of the strategist (read back from the store)', async () => {
    const h = harness();
    h.fail('tool:a', 'boom');
    h.s.onRestart({ id: 'tool:a', restarts: 1, intensityExceeded: false });
    await h.done();
    const again = new RecoveryStrategist({}, { actions: { state: () => 'running', critical: () => false, halt: async () => {}, canNotify: () => false }, clock: h.clock, log: { debug() {}, info() {}, warn() {}, error() {} }, store: h.store });
    await again.load();
    assert.deepEqual(again.snapshot().decisions.map((d) => d.seq), [1, 2]);
  });
});

describe('with a real supervisor: a crash loop', () => {
  test('halted by the intensity, never restarted by the strategist, one alert; metrics count plans and steps', async () => {
    const clock = new TestClock();
    const store = new MemoryStore(clock);
    const halts = new HaltRegistry(store, clock);
    const sup = new Supervisor({ id: 'tools', halts, clock, intensity: { maxRestarts: 3, windowMs: 60_000 }, backoff: { baseMs: 100, maxMs: 1000 } });
    let starts = 0;
    let link: ChildLink | undefined;
    await sup.add({ id: 'tool:loop', kind: 'tool', start: (l) => ((starts++, (link = l)), { stop: () => {} }) });
    await sup.start();
    const sent: Alert[] = [];
    const channel: AlertChannel = { name: 'mem', type: 'webhook', send: async (a) => void sent.push(a) };
    const alerts = new AlertManager({ channels: [channel], clock });
    const unwire = wireAlerts(alerts);
    const metrics = new AndonMetrics({ defaultMetrics: false }).start();
    const state = () => sup.list()[0]!.state;
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const s = new RecoveryStrategist({}, { actions: { state, critical: () => false, halt: (id, r) => sup.halt(id, r), canNotify: () => true }, clock, log, store });
    s.start();
    try {
      for (let i = 0; i < 100 && !state().startsWith('halted'); i++) {
        link!.crashed(new Error(`crash ${i} after ${i * 7}ms`));
        await clock.advance(2000);
      }
      await clock.advance(10_000);
      await s.settled();
      await halts.settled();
      await alerts.idle();
      assert.equal(state(), 'halted_fatal');
      assert.equal(starts, 4, 'the first start and 3 restarts; nothing after the halt');
      assert.deepEqual(sent.map((a) => a.title), ['Component halted: tool:loop'], 'one alert');
      assert.match(String(sent[0]!.context.reason), /restart intensity exceeded/);
      const snap = s.snapshot().components.find((c) => c.id === 'tool:loop')!;
      assert.equal(snap.failures, 4);
      assert.equal(snap.class, 'persistent');
      const text = await metrics.metrics();
      assert.match(text, /andon_recovery_strategy_selected_total\{class="transient"\} 2/);
      assert.match(text, /andon_recovery_strategy_selected_total\{class="persistent"\} 2/);
      assert.match(text, /andon_recovery_step_total\{step="attempt",result="succeeded"\} 2/);
      assert.match(text, /andon_recovery_step_total\{step="degrade",result="succeeded"\} 2/);
    } finally {
      await s.stop();
      unwire();
      metrics.stop();
      await alerts.close(200);
      await sup.stop();
    }
  });

  test('recovery alerts: cascade names the root cause; exhausted is critical and resolves on resume', async () => {
    const clock = new TestClock();
    const sent: Alert[] = [];
    const alerts = new AlertManager({ channels: [{ name: 'mem', type: 'webhook', send: async (a) => void sent.push(a) }], clock });
    const unwire = wireAlerts(alerts);
    try {
      const ev = (e: Partial<RecoveryEvent>): RecoveryEvent => ({ action: 'step', seq: 1, time: 0, component: 'tool:report', class: 'cascade', plan: ['notify', 'manual'], detail: 'd', evidence: { error: 'e', group: 'e', failuresInWindow: 1, sameGroupInWindow: 1, perMinute: 0.2, trend: 'stable' }, ...e });
      events.recovery.publish(ev({ step: 'notify', result: 'succeeded', rootCause: 'tool:db' }));
      events.recovery.publish(ev({ step: 'notify', result: 'failed', rootCause: 'tool:db' }));
      events.recovery.publish(ev({ component: 'store', class: 'persistent', action: 'exhausted', step: 'manual', result: 'succeeded' }));
      events.component.publish({ id: 'store', kind: 'store', from: 'halted_manual', to: 'normal' });
      await alerts.idle();
      assert.deepEqual(sent.map((a) => `${a.action} ${a.severity} ${a.title}`), [
        'trigger critical Cascading failure: tool:report (root cause: tool:db)',
        'trigger critical Recovery exhausted: store',
        'resolve critical Recovery resumed by an operator: store',
      ]);
      assert.equal(sent[0]!.component, 'tool:db');
    } finally {
      unwire();
      await alerts.close(200);
    }
  });
});
