/** Circuit breaker transitions in the recovery strategist, with a TestClock and events published by hand. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { events, type BreakerEvent, type RecoveryEvent } from '../../src/events/index.js';
import { BREAKER_GROUP, RecoveryStrategist, type RecoveryActions, type RecoveryOptions } from '../../src/runtime/recovery/index.js';

function harness(opts: RecoveryOptions = {}, canNotify = false) {
  const clock = new TestClock();
  const breakers = new Map<string, string>();
  const halted: string[] = [];
  const actions: RecoveryActions = {
    state: (id) => (id.startsWith('tool:') ? 'running' : undefined),
    critical: () => false,
    halt: async (id) => void halted.push(id),
    canNotify: () => canNotify,
    breakerState: (name) => breakers.get(name),
  };
  const s = new RecoveryStrategist(opts, { actions, clock, log: { debug() {}, info() {}, warn() {}, error() {} } });
  const seen: RecoveryEvent[] = [];
  const steps = (id: string) => seen.filter((e) => e.component === id && e.action !== 'plan').map((e) => `${e.action === 'exhausted' ? 'EXHAUSTED' : e.step}:${e.result}`);
  const breaker = (name: string, to: BreakerEvent['to'], extra: Partial<BreakerEvent> = {}) => {
    const from = (breakers.get(name) ?? 'closed') as BreakerEvent['to'];
    breakers.set(name, to);
    s.onBreaker({ name, from, to, reason: to === 'open' ? 'error rate 60 % (12 of 20 calls in 60 s) reached 50 %' : 'probes passed', ...(to === 'open' ? { retryAt: clock.now() + 1000 } : {}), ...extra });
  };
  const collect = (m: unknown) => seen.push(m as RecoveryEvent);
  events.recovery.subscribe(collect);
  const done = async () => {
    await s.stop();
    events.recovery.unsubscribe(collect);
  };
  return { clock, s, seen, steps, breaker, halted, done };
}

describe('circuit breakers in the recovery strategist', () => {
  test('an opening is a failure of the breaker\'s component; closing ends the attempt with success', async () => {
    const h = harness();
    h.breaker('downstream:db', 'open');
    const c = h.s.snapshot().components.find((x) => x.id === 'downstream:db')!;
    assert.equal(c.class, 'transient');
    assert.equal(c.lastGroup, BREAKER_GROUP);
    assert.match(c.lastError!, /^circuit breaker open: error rate 60 %/);
    h.breaker('downstream:db', 'half_open');
    assert.equal(h.steps('downstream:db').length, 0, 'half-open is not the end of the attempt');
    h.breaker('downstream:db', 'closed');
    await h.s.settled();
    assert.deepEqual(h.steps('downstream:db'), ['attempt:succeeded']);
    await h.done();
  });

  test('the attempt waits openMs (retryAt) + attemptTimeoutMs on the clock, then falls through to degrade', async () => {
    const h = harness({ attemptTimeoutMs: 2000 });
    h.breaker('downstream:db', 'open'); // retryAt = now + 1000
    await h.clock.advance(2999);
    assert.equal(h.steps('downstream:db').length, 0, 'still waiting');
    await h.clock.advance(1);
    await h.s.settled();
    assert.deepEqual(h.steps('downstream:db'), ['attempt:failed', 'degrade:succeeded']);
    assert.match(h.seen.find((e) => e.step === 'attempt')!.detail, /not closed 3000 ms after it opened \(state open\)/);
    h.breaker('downstream:db', 'closed');
    assert.equal(h.s.snapshot().components.find((x) => x.id === 'downstream:db')!.degraded, null, 'closing clears the mark');
    await h.done();
  });

  test('a restart of the tool\'s component does not end the attempt of its breaker; an operator forcing it open does, and is no failure', async () => {
    const h = harness();
    h.breaker('tool:a', 'open');
    h.s.onRestart({ id: 'tool:a', restarts: 1, intensityExceeded: false });
    assert.equal(h.steps('tool:a').length, 0);
    h.breaker('tool:a', 'open', { forced: true, reason: 'maintenance' });
    await h.s.settled();
    assert.deepEqual(h.steps('tool:a'), ['attempt:failed', 'degrade:succeeded']);
    assert.match(h.seen.find((e) => e.step === 'attempt')!.detail, /forced open by an operator/);
    assert.equal(h.s.snapshot().components.find((x) => x.id === 'tool:a')!.failures, 1, 'the forced opening is not recorded');
    await h.done();
  });

  test('cascade with no alert channel: manual halts nothing and forces no breaker; exhausted', async () => {
    const h = harness({ dependencies: { 'tool:report': ['downstream:db'] } });
    h.breaker('downstream:db', 'open');
    h.breaker('tool:report', 'open');
    await h.clock.advance(100);
    const report = h.s.snapshot().components.find((x) => x.id === 'tool:report')!;
    assert.equal(report.class, 'cascade');
    assert.equal(report.rootCause, 'downstream:db');
    await h.s.stop().catch(() => {});
    assert.deepEqual(h.steps('tool:report'), ['notify:failed', 'manual:succeeded', 'EXHAUSTED:succeeded']);
    assert.match(h.seen.find((e) => e.component === 'tool:report' && e.step === 'manual')!.detail, /not forced/);
    assert.deepEqual(h.halted, []);
    await h.done();
  });
});
