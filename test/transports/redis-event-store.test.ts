/**
 * RedisEventStore on a real redis-server: events written by one node's store replay from another
 * node's store after a prefetch; the Redis log is bounded (XADD MAXLEN ~) and expires; entries not
 * written by andon are skipped; a stalled Redis neither blocks storeEvent nor the replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisStore } from '../../src/store/redis-store.js';
import { RedisEventStore } from '../../src/transports/redis-event-store.js';
import { nullLogger } from '../../src/util/logger.js';
import type { JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import { startRedis } from '../helpers/redis.js';

const redis = await startRedis();
const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });
const settle = () => new Promise((r) => setTimeout(r, 100));

test('events stored through one node replay on another after a prefetch; ids never collide', async () => {
  const prefix = `e-${randomUUID()}`;
  const [sa, sb] = [new RedisStore({ url: redis.url, prefix }), new RedisStore({ url: redis.url, prefix })];
  await Promise.all([sa.open(), sb.open()]);
  const a = new RedisEventStore(sa.eventLog, nullLogger);
  const b = new RedisEventStore(sb.eventLog, nullLogger);
  const ids = [a.storeEvent('sess-standalone', null), ...[1, 2, 3].map((n) => a.storeEvent('sess-standalone', note(n)))];
  await settle();
  const got: Array<[string, unknown]> = [];
  assert.equal(b.replayEventsAfter(ids[1]!, (id, m) => got.push([id, m])), null, 'unknown before the prefetch');
  await b.prefetch(ids[1]!);
  assert.equal(b.replayEventsAfter(ids[1]!, (id, m) => got.push([id, m])), 'sess-standalone');
  assert.deepEqual(got, [
    [ids[2], note(2)],
    [ids[3], note(3)],
  ]);
  // B continues the stream; A resumes it from B's event.
  const fromB = b.storeEvent('sess-standalone', note(4));
  assert.ok(!ids.includes(fromB));
  b.storeEvent('sess-standalone', note(5));
  await settle();
  const later: unknown[] = [];
  await a.prefetch(fromB);
  assert.equal(a.replayEventsAfter(fromB, (_id, m) => later.push(m)), 'sess-standalone');
  assert.deepEqual(later, [note(5)]);
  // A deleted stream is gone from Redis.
  a.deleteStream('sess-standalone');
  await settle();
  assert.deepEqual(await sb.eventLog.read('sess-standalone'), []);
  await Promise.all([sa.close(), sb.close()]);
});

test('the Redis log of a stream is bounded and expires; foreign entries are skipped', async () => {
  const prefix = `e-${randomUUID()}`;
  const st = new RedisStore({ url: redis.url, prefix, streamMaxLen: 20, streamTtlMs: 60_000 });
  await st.open();
  const es = new RedisEventStore(st.eventLog, nullLogger, { maxEventsPerStream: 20 });
  let last = '';
  for (let n = 0; n < 1000; n++) last = es.storeEvent('s1', note(n));
  await settle();
  const raw = createClient({ url: redis.url });
  raw.on('error', () => {});
  await raw.connect();
  const key = `${prefix}:es:s1`;
  const len = await raw.xLen(key);
  assert.ok(len >= 20 && len < 1000, `trimmed to about 20 (approximate trimming keeps whole nodes): ${len}`);
  const ttl = await raw.pTTL(key);
  assert.ok(ttl > 0 && ttl <= 60_000, `expires: ${ttl}`);
  // Hostile entries (not JSON-RPC, wrong stream) are skipped by a prefetch on another store.
  await raw.xAdd(key, '*', { e: 's1.zz-1', d: '{"not":"jsonrpc"}' });
  await raw.xAdd(key, '*', { e: 'other.zz-2', d: JSON.stringify(note(-1)) });
  await raw.xAdd(key, '*', { x: 'no fields of ours' });
  const other = new RedisEventStore(st.eventLog, nullLogger, { maxEventsPerStream: 20 });
  const before = es.storeEvent('s1', note(1000));
  const after = es.storeEvent('s1', note(1001));
  await settle();
  await other.prefetch(before);
  const seen: unknown[] = [];
  assert.equal(other.replayEventsAfter(before, (_id, m) => seen.push(m)), 's1');
  assert.deepEqual(seen, [note(1001)]);
  assert.ok(after.startsWith('s1.') && last.startsWith('s1.'));
  await raw.close();
  await st.close();
});

test('a stalled Redis does not block storeEvent; a prefetch gives up within the budget and the local copy replays', async () => {
  const prefix = `e-${randomUUID()}`;
  const st = new RedisStore({ url: redis.url, prefix, commandTimeoutMs: 300 });
  await st.open();
  const es = new RedisEventStore(st.eventLog, nullLogger);
  const first = es.storeEvent('s2', note(1));
  await settle();
  redis.pause();
  try {
    const t0 = Date.now();
    es.storeEvent('s2', note(2));
    assert.ok(Date.now() - t0 < 50, 'storeEvent returns at once');
    await es.prefetch(first);
    assert.ok(Date.now() - t0 < 2_000, `prefetch gave up within the budget: ${Date.now() - t0} ms`);
    const seen: unknown[] = [];
    assert.equal(es.replayEventsAfter(first, (_id, m) => seen.push(m)), 's2');
    assert.deepEqual(seen, [note(2)]);
  } finally {
    redis.resume();
  }
  await st.close();
});
