/**
 * Health: the monitor's thresholds and intervals with real (short) timers, transitions, the
 * runtime's readiness inputs, and the three endpoints on a real ops listener.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpsServer } from '../../src/admin/ops-server.js';
import { HealthMonitor, mountObservability, obsChannels, type HealthEvent } from '../../src/observability/index.js';
import { events } from '../../src/events/index.js';

const stops: Array<() => unknown> = [];
after(async () => {
  for (const s of stops) await s();
});

function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe('HealthMonitor', () => {
  test('unhealthy after 3 consecutive failures, re-checked sooner while failing, healthy again on success', async () => {
    const h = new HealthMonitor({ intervalMs: 200, failingIntervalMs: 20 });
    stops.push(() => h.stop());
    const checks: number[] = [];
    let failing = false;
    h.register('db', () => {
      checks.push(performance.now());
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
    await until(() => events.length === 1);
    assert.deepEqual(events[0], { component: 'db', from: 'unknown', to: 'healthy', critical: true, consecutiveFailures: 0 });
    failing = true;
    const n0 = checks.length;
    await until(() => h.report().components.db!.consecutiveFailures >= 1);
    assert.equal(h.report().components.db!.status, 'healthy', 'one failure is not enough');
    await until(() => events.length === 2);
    const db = h.report().components.db!;
    assert.equal(db.status, 'unhealthy');
    assert.equal(db.consecutiveFailures, 3);
    assert.equal(db.lastError, 'connection refused');
    assert.ok(db.lastCheck && !Number.isNaN(Date.parse(db.lastCheck)));
    assert.deepEqual(events[1], { component: 'db', from: 'healthy', to: 'unhealthy', critical: true, consecutiveFailures: 3, error: 'connection refused' });
    // While failing, checks come at the short interval: 2 failures after the first took < 200 ms.
    const failingGaps = checks.slice(n0 + 1, n0 + 3).map((t, i) => t - checks[n0 + i]!);
    assert.ok(failingGaps.every((g) => g < 150), `failing interval used: ${failingGaps.map((g) => g.toFixed(0)).join(', ')} ms`);
    assert.equal(h.readiness().ready, false);
    failing = false;
    await until(() => events.length === 3);
    assert.equal(events[2]!.to, 'healthy');
    assert.equal(h.report().components.db!.consecutiveFailures, 0);
    assert.deepEqual(published.map((e) => e.to), ['healthy', 'unhealthy', 'healthy'], 'transitions go out on andon:health');
  });

  test('a check that hangs fails on its timeout; false and { ok: false } fail too', async () => {
    const h = new HealthMonitor({ failureThreshold: 1, timeoutMs: 50 });
    h.register('hangs', () => new Promise(() => {}));
    h.register('false', () => false);
    h.register('detail', () => ({ ok: false, detail: 'replica lag 40 s' }));
    h.register('fine', async () => undefined, { critical: false });
    const r = await h.checkNow();
    assert.equal(r.components.hangs!.lastError, 'check timed out after 50 ms');
    assert.equal(r.components.false!.lastError, 'check returned false');
    assert.equal(r.components.detail!.lastError, 'replica lag 40 s');
    assert.equal(r.components.fine!.status, 'healthy');
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
