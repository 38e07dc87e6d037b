/**
 * Resumable streams across nodes (Redis Streams): a client's GET stream breaks on node A; it
 * reconnects to node B with Last-Event-ID and receives every event stored after that id — the ones
 * it had not read and the ones sent while it was away — in order, once, then live events on B.
 * Also: 2026 `subscriptions/listen` streams on both nodes each get one copy of a change made on
 * one of them; a node's idle sweep does not erase a session the others serve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { ACCEPT, Session2025, V26, meta26, parseSse, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';

const MODULE = resolve(DIST, 'test/cluster/fixtures/notify-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-resume-');
const redis = await startRedis();

async function redisNode(prefix: string, extra = '') {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 2000\n${extra}`);
  return f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url });
}

/** A GET stream read in the background: its SSE events with ids. */
async function openStream(url: string, s: Session2025, lastEventId?: string) {
  const ac = new AbortController();
  const res = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream', ...s.headers(), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: ac.signal });
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
  const updates = () =>
    parseSse(text)
      .filter((e) => e.data.trim())
      .map((e) => ({ id: e.id ?? '', msg: JSON.parse(e.data) as { method?: string; params?: { uri?: string } } }))
      .filter((e) => e.msg.method === 'notifications/resources/updated');
  return {
    updates,
    async waitFor(n: number, ms = 3000) {
      const end = Date.now() + ms;
      while (updates().length < n) {
        assert.ok(Date.now() < end, `${n} updates within ${ms} ms; got ${text.slice(-800)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      ac.abort();
      await pump;
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

test('a GET stream broken on node A resumes on node B with Last-Event-ID: every stored event after it, in order, once', async () => {
  const prefix = `r-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  assert.equal((await s.request('resources/subscribe', { uri: 'test://watched' })).status, 200);
  const touch = async (url: string, k: number) => assert.match((await post(url, { jsonrpc: '2.0', id: `t${k}`, method: 'tools/call', params: { name: 'touch', arguments: {} } }, s.headers())).text, /touched/, `touch ${k}`);

  const onA = await openStream(a.url, s);
  await settle();
  for (let k = 1; k <= 3; k++) await touch(a.url, k);
  await onA.waitFor(3);
  const seen = onA.updates();
  // The client read only the first event before its connection broke.
  const lastEventId = seen[0]!.id;
  assert.ok(lastEventId.length > 0, 'events carry ids');
  await onA.close();
  // Sent while no stream is open: A (the stream's last holder) keeps them, in Redis too.
  await touch(b.url, 4);
  await touch(a.url, 5);
  await settle();

  const onB = await openStream(b.url, s, lastEventId);
  await onB.waitFor(4);
  const replayed = onB.updates();
  assert.deepEqual(
    replayed.map((e) => e.id),
    [...seen.slice(1).map((e) => e.id), ...replayed.slice(2).map((e) => e.id)],
    'events 2 and 3 replayed with the ids A gave them',
  );
  assert.equal(new Set(replayed.map((e) => e.id)).size, 4, `four distinct events: ${JSON.stringify(replayed)}`);
  // Live events on B continue the same stream, with ids of their own.
  await touch(a.url, 6);
  await onB.waitFor(5);
  await settle();
  const all = onB.updates();
  assert.equal(all.length, 5, JSON.stringify(all));
  assert.equal(new Set(all.map((e) => e.id)).size, 5);
  assert.ok(all.every((e) => e.msg.params?.uri === 'test://watched'));
  await onB.close();

  // B's stream breaks too; resuming on A from the first live event on B replays nothing missed twice.
  const fromB = all[3]!.id;
  await touch(b.url, 7);
  await settle();
  const again = await openStream(a.url, s, fromB);
  await again.waitFor(2);
  await settle();
  assert.deepEqual(
    again.updates().map((e) => e.id),
    [all[4]!.id, again.updates()[1]!.id],
  );
  assert.equal(again.updates().length, 2, JSON.stringify(again.updates()));
  await again.close();
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});

test('a node letting an idle copy of a session go does not erase the session the other nodes serve', async () => {
  const prefix = `r-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix, 'http:\n  sessionIdleMs: 500\n');
  const s = new Session2025(a.url);
  await s.initialize();
  const ping = (url: string, id: string) => post(url, { jsonrpc: '2.0', id, method: 'ping' }, s.headers());
  assert.equal((await ping(b.url, 'b1')).status, 200, 'B adopts the session');
  // B's sweeper closes its idle copy (every 500 ms); the client keeps using A meanwhile.
  for (let i = 0; i < 6; i++) {
    await settle();
    assert.equal((await ping(a.url, `a${i}`)).status, 200);
  }
  assert.equal((await ping(b.url, 'b2')).status, 200, 'B finds the session in Redis again');
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});

test('2026 subscriptions/listen streams on two nodes each get one copy of a change made on one node', async () => {
  const prefix = `r-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const listen = async (url: string, id: string) => {
    const ac = new AbortController();
    const res = await fetch(url, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V26, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true, resourceSubscriptions: ['test://watched'] }, _meta: meta26() } }),
    });
    assert.equal(res.status, 200);
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
    const methods = () => parseSse(text).filter((e) => e.data.trim()).map((e) => (JSON.parse(e.data) as { method?: string }).method);
    return { methods, close: async () => (ac.abort(), await pump) };
  };
  const [la, lb] = [await listen(a.url, 'on-a'), await listen(b.url, 'on-b')];
  const s = new Session2025(a.url);
  await s.initialize();
  await settle();
  assert.match((await s.request('tools/call', { name: 'touch', arguments: {} })).text, /touched/);
  assert.match((await s.request('tools/call', { name: 'grow', arguments: {} })).text, /grew/);
  const want = ['notifications/subscriptions/acknowledged', 'notifications/resources/updated', 'notifications/tools/list_changed'];
  const end = Date.now() + 3000;
  while (la.methods().length < 3 || lb.methods().length < 3) {
    assert.ok(Date.now() < end, `both listeners notified: A ${JSON.stringify(la.methods())}, B ${JSON.stringify(lb.methods())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await settle();
  assert.deepEqual(la.methods(), want);
  assert.deepEqual(lb.methods(), want);
  await Promise.all([la.close(), lb.close()]);
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});
