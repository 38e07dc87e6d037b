import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { QuarantineReport } from '../../src/store/store.js';
import { storeContract } from './contract.js';
import { startRedis, type RedisProc } from '../helpers/redis.js';

const clockOf = (now: () => number): Clock => ({ ...systemClock, now });
// Started at load (not in a `before` hook): its `after` then belongs to the file, not to the hook.
const redis: RedisProc = await startRedis();

// Each contract test gets its own key prefix on the shared server.
storeContract('RedisStore', async (now) => {
  const store = new RedisStore({ url: redis.url, prefix: `t-${randomUUID()}`, clock: clockOf(now) });
  return { store, cleanup: () => store.close() };
});

describe('RedisStore on a real redis-server', () => {
  test('a value edited behind our back (not our envelope, or a wrong checksum) is quarantined, not loaded', async () => {
    const prefix = `t-${randomUUID()}`;
    const reports: QuarantineReport[] = [];
    const store = new RedisStore({ url: redis.url, prefix, onQuarantine: (r) => reports.push(r) });
    const raw = createClient({ url: redis.url });
    raw.on('error', () => {});
    await raw.connect();
    try {
      await store.open();
      await store.set('state', 'good', { v: 1 });
      await raw.hSet(`${prefix}:{state}:v`, 'garbage', '{"half":');
      const env = JSON.parse((await raw.hGet(`${prefix}:{state}:v`, 'good'))!);
      await raw.hSet(`${prefix}:{state}:v`, 'edited', JSON.stringify({ ...env, v: '{"v":2}' }));
      const listed = await store.list('state');
      assert.deepEqual(listed.map((e) => e.key), ['good']);
      assert.deepEqual(reports.map((r) => r.key).sort(), ['edited', 'garbage']);
      assert.match(reports.find((r) => r.key === 'edited')!.reason, /checksum mismatch/);
      assert.match(reports.find((r) => r.key === 'garbage')!.reason, /unparseable/);
      // Moved aside with the raw value, for an operator to inspect.
      const q = await raw.hGetAll(`${prefix}:{state}:q`);
      assert.equal(JSON.parse(q.garbage!).raw, '{"half":');
      assert.equal(await raw.hExists(`${prefix}:{state}:v`, 'garbage'), 0);
    } finally {
      await raw.close();
      await store.close();
    }
  });

  test('a halt record of the wrong shape is quarantined by the default checks', async () => {
    const store = new RedisStore({ url: redis.url, prefix: `t-${randomUUID()}` });
    try {
      await store.open();
      await store.set('halt', 'tool:x', { state: 'sort-of-halted', reason: 'r', since: 1 });
      assert.equal(await store.get('halt', 'tool:x'), undefined);
      assert.equal(store.quarantined[0]!.key, 'tool:x');
      assert.match(store.quarantined[0]!.reason, /state: expected one of normal, halted_manual, halted_fatal/);
    } finally {
      await store.close();
    }
  });

  test('two stores on one prefix see each other\'s writes (two nodes, one state)', async () => {
    const prefix = `t-${randomUUID()}`;
    const a = new RedisStore({ url: redis.url, prefix });
    const b = new RedisStore({ url: redis.url, prefix });
    try {
      await a.open();
      await b.open();
      await a.set('sessions', 'bucket-1', { s1: JSON.stringify({ id: 's1', protocolVersion: '2025-11-25', clientCapabilities: {}, subscriptions: [] }) });
      const got = await b.list('sessions');
      assert.equal(got.length, 1);
      await b.delete('sessions', 'bucket-1');
      assert.equal(await a.get('sessions', 'bucket-1'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an unreachable Redis fails open() within the budget with a message naming the target, without credentials', async () => {
    const store = new RedisStore({ url: 'redis://user:secret@127.0.0.1:1', commandTimeoutMs: 500 });
    const t0 = Date.now();
    await assert.rejects(store.open(), (err: Error) => {
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    assert.ok(Date.now() - t0 < 3_000);
    assert.equal(store.target, 'redis://127.0.0.1:1');
    await store.close();
  });

  test('a paused Redis (SIGSTOP) fails a write within the command budget instead of hanging it; it works again after SIGCONT', async () => {
    const own = await startRedis();
    const store = new RedisStore({ url: own.url, prefix: 'p', commandTimeoutMs: 400 });
    try {
      await store.open();
      await store.set('c', 'k', 1);
      own.pause();
      const t0 = Date.now();
      await assert.rejects(store.set('c', 'k', 2));
      assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
      own.resume();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await store.set('c', 'k', 3).then(() => true, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'writes work again after SIGCONT');
      assert.equal(await store.get('c', 'k'), 3);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
