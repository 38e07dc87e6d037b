/**
 * The Store contract: one suite that every backend must pass (the habit of undici's
 * cacheStoreTests). Call it from a backend's test file with a factory.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { QuarantineReport, Store } from '../../src/store/store.js';
import { events, type QuarantineEvent } from '../../src/events/index.js';

export function storeContract(name: string, make: (now: () => number) => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Store contract: ${name}`, () => {
    test('set then get returns an equal copy; unknown keys are undefined', async () => {
      const { store, cleanup } = await make(Date.now);
      try {
        await store.open();
        const value = { a: 1, nested: { b: [1, 2, 'three'] }, s: 'ü ✓' };
        await store.set('things', 'k1', value);
        value.a = 99;
        assert.deepEqual(await store.get('things', 'k1'), { a: 1, nested: { b: [1, 2, 'three'] }, s: 'ü ✓' });
        assert.equal(await store.get('things', 'missing'), undefined);
        assert.equal(await store.get('empty-ns', 'k1'), undefined);
      } finally {
        await cleanup();
      }
    });

    test('keys with separators are kept apart and listed back exactly', async () => {
      const { store, cleanup } = await make(Date.now);
      try {
        await store.open();
        const keys = ['tool:echo', 'tool/echo', 'a.b', 'x y', 'ünï'];
        for (const [i, k] of keys.entries()) await store.set('ids', k, { i });
        const listed = await store.list<{ i: number }>('ids');
        assert.deepEqual(listed.map((e) => e.key).sort(), [...keys].sort());
        for (const e of listed) assert.equal(e.value.i, keys.indexOf(e.key));
      } finally {
        await cleanup();
      }
    });

    test('overwrite, delete, and last write wins under concurrent sets', async () => {
      const { store, cleanup } = await make(Date.now);
      try {
        await store.open();
        await store.set('c', 'k', 1);
        await store.set('c', 'k', 2);
        assert.equal(await store.get('c', 'k'), 2);
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.set('c', 'race', i)));
        assert.equal(await store.get('c', 'race'), 19);
        await store.delete('c', 'k');
        assert.equal(await store.get('c', 'k'), undefined);
        await store.delete('c', 'never-existed');
      } finally {
        await cleanup();
      }
    });

    test('prune removes entries older than the cutoff only', async () => {
      let now = 1_000_000;
      const { store, cleanup } = await make(() => now);
      try {
        await store.open();
        await store.set('p', 'old', 'o');
        now += 10_000;
        await store.set('p', 'new', 'n');
        assert.equal(await store.prune(now - 5_000), 1);
        assert.deepEqual((await store.list('p')).map((e) => e.key), ['new']);
      } finally {
        await cleanup();
      }
    });

    test('a value that fails its shape check is quarantined: not returned, reported once, published, and gone', async () => {
      const { store, cleanup } = await make(Date.now);
      const seen: QuarantineEvent[] = [];
      const sub = (m: unknown) => seen.push(m as QuarantineEvent);
      events.quarantine.subscribe(sub);
      try {
        await store.open();
        await store.set('shaped', 'good', { n: 1 });
        await store.set('shaped', 'bad', { n: 'one' });
        const validate = (v: unknown) => (typeof (v as { n?: unknown }).n === 'number' ? null : 'n: expected number');
        const rejected: QuarantineReport[] = [];
        const listed = await store.list<{ n: number }>('shaped', { validate, onReject: (r) => rejected.push(r) });
        assert.deepEqual(listed.map((e) => [e.key, e.value.n]), [['good', 1]]);
        assert.equal(rejected.length, 1);
        assert.equal(rejected[0]!.ns, 'shaped');
        assert.equal(rejected[0]!.key, 'bad');
        assert.match(rejected[0]!.reason, /^wrong shape: n: expected number/);
        assert.ok(seen.some((e) => e.ns === 'shaped' && e.key === 'bad'), 'published on andon:quarantine');
        // Moved aside: a second read neither returns nor reports it again.
        assert.equal(await store.get('shaped', 'bad', { validate }), undefined);
        assert.equal((await store.list('shaped', { validate, onReject: (r) => rejected.push(r) })).length, 1);
        assert.equal(rejected.length, 1);
        // get checks too.
        await store.set('shaped', 'bad2', { n: null });
        assert.equal(await store.get('shaped', 'bad2', { validate, onReject: (r) => rejected.push(r) }), undefined);
        assert.equal(rejected.at(-1)!.key, 'bad2');
        assert.deepEqual(await store.get('shaped', 'good', { validate }), { n: 1 });
      } finally {
        events.quarantine.unsubscribe(sub);
        await cleanup();
      }
    });

    test('prune never removes halt records (a halt ends only when an operator resumes it)', async () => {
      let now = 1_000_000;
      const { store, cleanup } = await make(() => now);
      try {
        await store.open();
        await store.set('halt', 'tool:echo', { id: 'tool:echo', state: 'halted_manual', reason: 'r', since: now, by: 'op' });
        await store.set('other', 'k', 1);
        now += 30 * 24 * 3600_000;
        assert.equal(await store.prune(now - 1000), 1);
        assert.ok(await store.get('halt', 'tool:echo'));
        assert.equal(await store.get('other', 'k'), undefined);
        assert.equal(await store.prune(now, []), 1, 'an explicit empty keep list prunes halts too');
      } finally {
        await cleanup();
      }
    });
  });
}
