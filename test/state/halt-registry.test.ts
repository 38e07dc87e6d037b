/** HaltRegistry in-process: restored halts are published, corrupt records fail closed. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory-store.js';
import { systemClock, type Clock } from '../../src/util/clock.js';

/** A clock that always reads `t`. */
const fixed = (t: number): Clock => ({ ...systemClock, now: () => t });
import { HaltRegistry } from '../../src/runtime/halt.js';
import { events, takeHeldQuarantines, type ComponentEvent } from '../../src/events/index.js';
import type { QuarantineReport, Store, StoredEntry, ReadOptions } from '../../src/store/store.js';

function collect(): { seen: ComponentEvent[]; stop(): void } {
  const seen: ComponentEvent[] = [];
  const sub = (m: unknown) => seen.push(m as ComponentEvent);
  events.component.subscribe(sub);
  return { seen, stop: () => events.component.unsubscribe(sub) };
}

describe('HaltRegistry load', () => {
  test('restored halts are published with restored: true; the id comes from the key', async () => {
    const store = new MemoryStore(fixed(5));
    await store.set('halt', 'tool:a', { id: 'tool:WRONG', state: 'halted_manual', reason: 'r', since: 1, by: 'op' });
    await store.set('halt', 'tool:b', { id: 'tool:b', state: 'normal', reason: '', since: 1, by: 'op' });
    const c = collect();
    try {
      const halts = new HaltRegistry(store, fixed(10));
      const loaded = await halts.load();
      assert.deepEqual(loaded.map((h) => h.id), ['tool:a']);
      assert.equal(halts.state('tool:a'), 'halted_manual');
      assert.equal(halts.isHalted('tool:WRONG'), false);
      assert.deepEqual(c.seen, [{ id: 'tool:a', kind: 'tool', from: 'normal', to: 'halted_manual', reason: 'r', restored: true }]);
    } finally {
      c.stop();
    }
  });

  test('a misshapen record halts its component (halted_fatal), persisted, with the reason and where it went', async () => {
    takeHeldQuarantines();
    const store = new MemoryStore(fixed(5));
    await store.set('halt', 'tool:a', { state: 'sideways' });
    const c = collect();
    try {
      const halts = new HaltRegistry(store, fixed(10));
      await halts.load();
      const h = halts.get('tool:a')!;
      assert.equal(h.state, 'halted_fatal');
      assert.equal(h.reason, 'halt record unreadable: wrong shape: state: expected one of normal, halted_manual, halted_fatal, got "sideways" (quarantined to memory:halt/tool:a)');
      assert.deepEqual(await store.get('halt', 'tool:a'), h, 'the replacement is durable, so the next start is closed too');
      assert.equal(c.seen[0]!.to, 'halted_fatal');
      assert.equal(store.quarantined.length, 1);
      assert.deepEqual(takeHeldQuarantines().map((q) => q.key), ['tool:a']);
    } finally {
      c.stop();
    }
  });

  test('an unreadable halt namespace halts the node: nobody can say which components were halted', async () => {
    takeHeldQuarantines();
    const mem = new MemoryStore();
    const broken: Store = Object.assign(Object.create(mem) as Store, {
      list: async <T>(ns: string, o: ReadOptions = {}): Promise<StoredEntry<T>[]> => {
        const r: QuarantineReport = { ns, key: '-', file: '/state/halt', reason: 'namespace directory unreadable (EACCES)' };
        o.onReject?.(r);
        return [];
      },
    });
    const halts = new HaltRegistry(broken, fixed(10));
    await halts.load();
    assert.equal(halts.state('node'), 'halted_fatal');
    assert.match(halts.get('node')!.reason, /^halt records unreadable: namespace directory unreadable/);
  });
});

describe('halt state reaches health by events alone', () => {
  test('a critical child halted by exceeding its restart intensity takes readiness away; resume gives it back', async () => {
    const { Supervisor } = await import('../../src/runtime/supervisor.js');
    const { HealthMonitor } = await import('../../src/observability/health.js');
    const { TestClock } = await import('../../src/util/clock.js');
    const clock = new TestClock();
    const halts = new HaltRegistry(new MemoryStore(clock), clock);
    const sup = new Supervisor({ id: 'root', halts, clock, intensity: { maxRestarts: 2, windowMs: 10_000 }, backoff: { baseMs: 10, maxMs: 10 } });
    const health = new HealthMonitor({ subscribe: true }).start();
    try {
      let link: { crashed(e: Error): void } | undefined;
      await sup.add({ id: 'transport:x', kind: 'transport', critical: true, start: (l) => ((link = l), { stop: () => {} }) });
      await sup.add({ id: 'tool:y', kind: 'tool', start: () => ({ stop: () => {} }) });
      await sup.start();
      assert.equal(health.readiness().ready, true);
      for (let i = 0; i < 3; i++) {
        link!.crashed(new Error(`boom ${i}`));
        await clock.advance(20);
      }
      await halts.settled();
      assert.equal(halts.state('transport:x'), 'halted_fatal');
      assert.deepEqual(health.readiness().reasons, ['critical component halted: transport:x']);
      await sup.halt('tool:y', 'not critical');
      assert.deepEqual(health.readiness().reasons, ['critical component halted: transport:x'], 'a non-critical halt does not count');
      await sup.resume('transport:x');
      assert.equal(health.readiness().ready, true);
    } finally {
      health.stop();
      await sup.stop();
    }
  });
});
