/**
 * The Store contract: one suite that every backend must pass (the habit of undici's
 * cacheStoreTests). Call it from a backend's test file with a factory.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.js';

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
  });
}
