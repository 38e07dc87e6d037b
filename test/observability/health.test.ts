/**
 * Health: the monitor's thresholds, intervals and timeouts on a test clock, transitions, the
 * runtime's readiness inputs, and the three endpoints on a real ops listener.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpsServer } from '../../src/admin/ops-server.js';
import { TestClock } from '../../src/util/clock.js';
import { HealthMonitor, createObservability, mountObservability, obsChannels, type HealthEvent } from '../../src/observability/index.js';
import { events } from '../../src/events/index.js';

const stops: Array<() => unknown> = [];
after(async () => {
  for (const s of stops) await s();
});

describe('HealthMonitor', () => {
  test('unhealthy after 3 consecutive failures, re-checked sooner while failing, healthy again on success', async () => {
    const clock = new TestClock(0);
    const h = new HealthMonitor({ intervalMs: 200, failingIntervalMs: 20, clock });
    stops.push(() => h.stop());
    const checks: number[] = [];
    let failing = false;
    h.register('db', () => {
      checks.push(clock.now());
      if (failing) throw new Error('connection refused');
      return true;
    });
    const events: HealthEvent[] = [];
    h.onTransition((e) => events.push(e));
    const published: HealthEvent[] = [];
    const sub = (m: unknown) => published.push(m as HealthEvent);
    obsChannels.health.subscribe(sub);
    stops.push(() => obsChannels.health.unsubscribe(sub));
    h.start();
    await clock.advance(0);
    assert.equal(events.length, 1, 'the first check runs at once');
    assert.deepEqual(events[0], { component: 'db', from: 'unknown', to: 'healthy', critical: true, consecutiveFailures: 0 });
    await clock.advance(199);
    assert.deepEqual(checks, [0], 'a passing component is re-checked after intervalMs, not before');
    failing = true;
    await clock.advance(1);
    assert.deepEqual(checks, [0, 200]);
    assert.equal(h.report().components.db!.consecutiveFailures, 1);
    assert.equal(h.report().components.db!.status, 'healthy', 'one failure is not enough');
    await clock.advance(40);
    assert.deepEqual(checks, [0, 200, 220, 240], 'while failing, checks come every failingIntervalMs');
    assert.equal(events.length, 2);
    const db = h.report().components.db!;
    assert.equal(db.status, 'unhealthy');
    assert.equal(db.consecutiveFailures, 3);
    assert.equal(db.lastError, 'connection refused');
    assert.equal(db.lastCheck, new Date(240).toISOString(), 'timestamps come from the injected clock');
    assert.deepEqual(events[1], { component: 'db', from: 'healthy', to: 'unhealthy', critical: true, consecutiveFailures: 3, error: 'connection refused' });
    assert.equal(h.readiness().ready, false);
    failing = false;
    await clock.advance(20);
    assert.equal(events.length, 3);
    assert.equal(events[2]!.to, 'healthy');
    assert.equal(h.report().components.db!.consecutiveFailures, 0);
    assert.deepEqual(published.map((e) => e.to), ['healthy', 'unhealthy', 'healthy'], 'transitions go out on andon:health');
    h.stop();
    assert.equal(clock.pending, 0, 'stop clears the timers');
  });

  test('a check that hangs fails on its timeout; false and { ok: false } fail too', async () => {
    const clock = new TestClock(0);
    const h = new HealthMonitor({ failureThreshold: 1, timeoutMs: 50, clock });
    h.register('hangs', () => new Promise(() => {}));
    h.register('false', () => false);
    h.register('detail', () => ({ ok: false, detail: 'replica lag 40 s' }));
    h.register('fine', async () => undefined, { critical: false });
    let settled = false;
    const pending = h.checkNow().finally(() => (settled = true));
    await clock.advance(49);
    assert.equal(settled, false, 'the hanging check is still within its timeout');
    await clock.advance(1);
    const r = await pending;
    assert.equal(r.components.hangs!.lastError, 'check timed out after 50 ms');
    assert.equal(r.components.false!.lastError, 'check returned false');
    assert.equal(r.components.detail!.lastError, 'replica lag 40 s');
    assert.equal(r.components.fine!.status, 'healthy');
  });

  test('createObservability({ clock }) runs the health checks on that clock', async () => {
    const clock = new TestClock(0);
    const obs = createObservability({ clock, metrics: false, tracing: false, requestLogging: false, health: { intervalMs: 1000 } });
    stops.push(() => obs.stop());
    let n = 0;
    obs.health.register('probe', () => {
      n++;
      return true;
    });
    await clock.advance(0);
    assert.equal(n, 1, 'checked at once on registration');
    await clock.advance(2999);
    assert.equal(n, 3, 'then every intervalMs of the injected clock');
    assert.equal(obs.health.live().uptimeSeconds, 3);
  });

  test('readiness: draining, degraded, halted critical component, unhealthy critical check', async () => {
    const h = new HealthMonitor({ failureThreshold: 1 });
    let ok = true;
    h.register('cache', () => ok, { critical: false });
    await h.checkNow();
    assert.deepEqual(h.readiness(), { ready: true, reasons: [] });
    h.setDraining(true);
    assert.deepEqual(h.readiness(), { ready: false, reasons: ['draining'] });
    h.setDraining(false);
    h.setDegraded('store unreachable, serving from memory');
    assert.deepEqual(h.readiness().reasons, ['degraded: store unreachable, serving from memory']);
    h.setDegraded(null);
    h.setHaltedCritical(['tool:payments']);
    assert.deepEqual(h.readiness().reasons, ['critical component halted: tool:payments']);
    h.setHaltedCritical([]);
    ok = false;
    await h.checkNow();
    assert.equal(h.readiness().ready, true, 'a non-critical check does not take the node out');
    assert.equal(h.report().status, 'degraded');
    h.register('db', () => false);
    await h.checkNow('db');
    assert.match(h.readiness().reasons.join(), /critical check unhealthy: db/);
  });
});

describe('HealthMonitor follows runtime events', () => {
  test('while running it learns drain, halt-state and degraded from their channels; stopped, it does not', () => {
    const h = new HealthMonitor();
    stops.push(() => h.stop());
    events.drain.publish({ phase: 'draining', durationMs: 0, inflight: 0 });
    assert.equal(h.readiness().ready, true, 'not subscribed before start');
    h.start();
    events.drain.publish({ phase: 'draining', durationMs: 0, inflight: 0 });
    assert.deepEqual(h.readiness().reasons, ['draining']);
    events.drain.publish({ phase: 'running', durationMs: 0, inflight: 0 });
    events.haltState.publish({
      halted: [
        { id: 'server:x', kind: 'server', state: 'halted_manual', reason: 'm', critical: true },
        { id: 'tool:y', kind: 'tool', state: 'halted_fatal', reason: 'f', critical: false },
      ],
    });
    assert.deepEqual(h.readiness().reasons, ['critical component halted: server:x'], 'only critical halts take the node out');
    assert.deepEqual(h.report().haltedCritical, ['server:x']);
    events.haltState.publish({ halted: [] });
    events.degraded.publish({ reason: 'store unreachable' });
    assert.deepEqual(h.readiness().reasons, ['degraded: store unreachable']);
    events.degraded.publish({ reason: null });
    assert.equal(h.readiness().ready, true);
    h.stop();
    events.drain.publish({ phase: 'draining', durationMs: 0, inflight: 0 });
    assert.equal(h.readiness().ready, true, 'unsubscribed on stop');
  });

  test('subscribe: false leaves it to the setters', () => {
    const h = new HealthMonitor({ subscribe: false }).start();
    stops.push(() => h.stop());
    events.drain.publish({ phase: 'draining', durationMs: 0, inflight: 0 });
    assert.equal(h.readiness().ready, true);
  });
});

describe('health endpoints on the ops listener', () => {
  test('/health/live, /health/ready and /health', async () => {
    const h = new HealthMonitor({ failureThreshold: 1 });
    let dbUp = true;
    h.register('db', () => {
      if (!dbUp) throw new Error('ECONNREFUSED 127.0.0.1:5432');
    });
    h.register('search', () => true, { critical: false });
    await h.checkNow();
    const ops = new OpsServer({ token: 'health-token-1', port: 0 });
    mountObservability(ops, { health: h });
    const url = await ops.listen();
    stops.push(() => ops.close());
    const live = await fetch(`${url}/health/live`);
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as { status: string }).status, 'live');
    assert.equal((await fetch(`${url}/health/ready`)).status, 200);
    const full = await fetch(`${url}/health`);
    assert.equal(full.status, 200);
    const body = (await full.json()) as any;
    assert.equal(body.status, 'healthy');
    assert.equal(body.components.db.status, 'healthy');
    assert.equal(body.components.db.consecutiveFailures, 0);
    assert.equal(body.components.db.lastError, null);
    assert.ok(body.components.db.lastCheck);
    dbUp = false;
    await h.checkNow();
    const notReady = await fetch(`${url}/health/ready`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(((await notReady.json()) as { reasons: string[] }).reasons, ['critical check unhealthy: db (ECONNREFUSED 127.0.0.1:5432)']);
    const down = (await (await fetch(`${url}/health`)).json()) as any;
    assert.equal(down.status, 'unhealthy');
    assert.equal(down.components.db.lastError, 'ECONNREFUSED 127.0.0.1:5432');
    assert.equal(down.components.db.consecutiveFailures, 1);
    h.setDraining(true);
    assert.equal((await fetch(`${url}/health/live`)).status, 200, 'live while draining');
  });
});
