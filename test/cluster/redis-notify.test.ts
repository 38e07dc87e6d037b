/**
 * Notifications across two andon nodes on one real redis-server: a session's standalone GET stream
 * is on node B, the change happens on node A (a tool calling notifyResourceUpdated, a tool
 * registering another tool, a broadcast log message, an operator's halt) and the notification
 * reaches B's stream exactly once. A subscription made through A after B adopted the session (B
 * holds a copy of the record from before) is honoured by B. A GET stream that moves from A to B
 * is released on A, so its messages are not kept on two nodes. A session deleted through A is
 * dropped by B, which held a copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025, parseSse, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { SessionRecord } from '../../src/runtime/session-persistence.js';

const MODULE = resolve(DIST, 'test/cluster/fixtures/notify-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-notify-');
const redis = await startRedis();

async function redisNode(prefix: string, extra = '') {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 2000\n${extra}`);
  return f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url });
}

/** A GET stream read in the background: every JSON-RPC message that arrived so far. */
async function openStream(url: string, s: Session2025) {
  const ac = new AbortController();
  const res = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream', ...s.headers() }, signal: ac.signal });
  assert.equal(res.status, 200, `GET stream on ${url}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  const pump = (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        text += dec.decode(r.value, { stream: true });
      }
    } catch {
      // aborted by the test
    }
  })();
  const messages = () => parseSse(text).filter((e) => e.data.trim()).map((e) => JSON.parse(e.data) as { method?: string; params?: Record<string, unknown> });
  const count = (method: string) => messages().filter((m) => m.method === method).length;
  return {
    count,
    messages,
    async waitFor(method: string, n: number, ms = 3000) {
      const end = Date.now() + ms;
      while (count(method) < n) {
        assert.ok(Date.now() < end, `${n} × ${method} within ${ms} ms; got ${JSON.stringify(messages())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      ac.abort();
      await pump;
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 400));

test('a change on node A reaches the GET stream on node B exactly once (resource update, list change, log broadcast, halt)', async () => {
  const prefix = `n-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  const onA = (method: string, params?: Record<string, unknown>) => post(a.url, { jsonrpc: '2.0', id: randomUUID(), method, ...(params ? { params } : {}) }, s.headers());
  // B adopts the session now, before the subscription: its copy of the record has none.
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status, 200);
  assert.equal((await onA('resources/subscribe', { uri: 'test://watched' })).status, 200);
  const stream = await openStream(b.url, s);
  await settle();

  assert.match((await onA('tools/call', { name: 'touch', arguments: {} })).text, /touched 1/);
  await stream.waitFor('notifications/resources/updated', 1);
  assert.match((await onA('tools/call', { name: 'grow', arguments: {} })).text, /grew 1/);
  await stream.waitFor('notifications/tools/list_changed', 1);
  assert.match((await onA('tools/call', { name: 'shout', arguments: { text: 'hello B' } })).text, /shouted/);
  await stream.waitFor('notifications/message', 1);
  // An operator's halt applies on both nodes; each tells only the streams it holds.
  assert.equal((await a.admin('POST', '/admin/components/tool%3Aecho/halt', { reason: 'bad output' })).status, 200);
  await stream.waitFor('notifications/tools/list_changed', 2);
  await settle();
  assert.equal(stream.count('notifications/resources/updated'), 1, JSON.stringify(stream.messages()));
  assert.equal(stream.count('notifications/tools/list_changed'), 2, JSON.stringify(stream.messages()));
  assert.equal(stream.count('notifications/message'), 1, JSON.stringify(stream.messages()));
  const log = stream.messages().find((m) => m.method === 'notifications/message');
  assert.equal(log?.params?.data, 'hello B');
  // The update names the URI; unsubscribing through A (B's copy is told) stops them on B.
  assert.equal(stream.messages().find((m) => m.method === 'notifications/resources/updated')?.params?.uri, 'test://watched');
  assert.equal((await onA('resources/unsubscribe', { uri: 'test://watched' })).status, 200);
  await settle();
  assert.match((await onA('tools/call', { name: 'touch', arguments: {} })).text, /touched 2/);
  await settle();
  assert.equal(stream.count('notifications/resources/updated'), 1, 'no update after the unsubscribe made on A');
  await stream.close();
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});

test('a GET stream that moves from node A to node B: the update made on either node arrives once, on B', async () => {
  const prefix = `n-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  assert.equal((await post(a.url, { jsonrpc: '2.0', id: 'sub', method: 'resources/subscribe', params: { uri: 'test://watched' } }, s.headers())).status, 200);
  const touch = (url: string, id: string) => post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'touch', arguments: {} } }, s.headers());
  const first = await openStream(a.url, s);
  await settle();
  await touch(b.url, 't1');
  await first.waitFor('notifications/resources/updated', 1);
  // The client's stream breaks; it reconnects to B (a load balancer without stickiness).
  await first.close();
  const second = await openStream(b.url, s);
  await settle();
  await touch(a.url, 't2');
  await touch(b.url, 't3');
  await second.waitFor('notifications/resources/updated', 2);
  await settle();
  assert.equal(second.count('notifications/resources/updated'), 2, JSON.stringify(second.messages()));
  assert.equal(first.count('notifications/resources/updated'), 1);
  // A released its stream: a new GET on A is accepted (no conflict with a stale one) and takes it back.
  await second.close();
  const third = await openStream(a.url, s);
  await settle();
  await touch(b.url, 't4');
  await third.waitFor('notifications/resources/updated', 1);
  await settle();
  assert.equal(third.count('notifications/resources/updated'), 1);
  assert.equal(second.count('notifications/resources/updated'), 2);
  await third.close();
  // The client deletes its session through A: B, which holds a copy, drops it too.
  const del = await fetch(a.url, { method: 'DELETE', headers: s.headers() });
  assert.equal(del.status, 200);
  const end = Date.now() + 2000;
  while ((await post(b.url, { jsonrpc: '2.0', id: 'gone', method: 'ping' }, s.headers())).status !== 404) {
    assert.ok(Date.now() < end, 'the session deleted on A is unknown on B within 2 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});

/** A GET stream on B; a touch on A: B's stream gets exactly one resources/updated. Stops both nodes. */
async function touchOnAReachesB(a: NodeProc, b: NodeProc, s: Session2025) {
  const stream = await openStream(b.url, s);
  await settle();
  assert.match((await post(a.url, { jsonrpc: '2.0', id: 't1', method: 'tools/call', params: { name: 'touch', arguments: {} } }, s.headers())).text, /touched 1/);
  await stream.waitFor('notifications/resources/updated', 1);
  await settle();
  assert.equal(stream.count('notifications/resources/updated'), 1, JSON.stringify(stream.messages()));
  await stream.close();
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
}

test('a subscription is durable before it is acknowledged: a node adopting the session right after it delivers the updates', async () => {
  const prefix = `n-${randomUUID()}`;
  // A's periodic session flush is ten minutes away: only the write made before the answer counts.
  const a = await redisNode(prefix, 'flushMs: 600000\n');
  const b = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  assert.equal((await post(a.url, { jsonrpc: '2.0', id: 'sub', method: 'resources/subscribe', params: { uri: 'test://watched' } }, s.headers())).status, 200);
  // B adopts the session now (it did not hold it when the subscription was announced).
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status, 200);
  await touchOnAReachesB(a, b, s);
});

test('a node opening a GET stream adds the subscriptions in the store that its copy of the session missed (a lost announcement)', async () => {
  const prefix = `n-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  // B holds a copy without subscriptions; A's periodic flush of the session is done.
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status, 200);
  await settle();
  // A subscription recorded in the store whose announcement B never got (pub/sub is at most once).
  const store = new RedisStore({ url: redis.url, prefix });
  await store.open();
  // One key per session on a shared store, holding { [id]: the record as JSON }.
  const value = await store.get<Record<string, string>>('sessions', s.sessionId);
  assert.ok(value?.[s.sessionId], 'the session record is in Redis');
  const rec = JSON.parse(value[s.sessionId]!) as SessionRecord;
  assert.deepEqual(rec.subscriptions, []);
  await store.set('sessions', s.sessionId, { [s.sessionId]: JSON.stringify({ ...rec, subscriptions: ['test://watched'] }) });
  await store.close();
  await touchOnAReachesB(a, b, s);
});
