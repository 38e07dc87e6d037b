/**
 * Two andon nodes with separate state directories on one real redis-server (`store: { kind: redis }`):
 * what one node acknowledged survives its kill -9 and is served by a node started afterwards —
 * sessions, halts, and the exactly-once journal. (Live hand-over between running nodes, pub/sub
 * fan-out and Redis Streams are the rest of the cluster issue.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-node-');
const redis = await startRedis();

async function redisNode(prefix: string) {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 2000\n`);
  return f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url });
}

test('a session, a halt and a journalled result acknowledged by node A are served by node B after A is killed', async () => {
  const prefix = `c-${randomUUID()}`;
  const a = await redisNode(prefix);
  const s = new Session2025(a.url);
  await s.initialize();
  const charged = await post(a.url, { jsonrpc: '2.0', id: 'pay-1', method: 'tools/call', params: { name: 'charge', arguments: { tag: 'x' } } }, s.headers());
  assert.equal(charged.status, 200);
  const halted = await a.admin('POST', '/admin/components/tool%3Aecho/halt', { reason: 'bad output' });
  assert.equal(halted.status, 200);
  a.child.kill('SIGKILL');
  await a.exited;

  const b = await redisNode(prefix);
  const ping = await post(b.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers());
  assert.equal(ping.status, 200, `the session acknowledged by A is known to B: ${ping.text}`);
  const list = await post(b.url, { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, s.headers());
  const names = (JSON.parse(list.text).result.tools as Array<{ name: string }>).map((t) => t.name);
  assert.ok(!names.includes('echo'), 'the halt made on A hides tool echo on B');
  const comps = await b.admin('GET', '/admin/components/tool%3Aecho');
  assert.equal(comps.body.state, 'halted_manual');
  // The retried id is answered from the journal, not executed again.
  const retry = await post(b.url, { jsonrpc: '2.0', id: 'pay-1', method: 'tools/call', params: { name: 'charge', arguments: { tag: 'x' } } }, s.headers());
  assert.equal(retry.text.includes('charged x'), true, retry.text);
  b.child.kill('SIGTERM');
  await b.exited;
});

test('a node whose Redis is unreachable at start exits 2 naming the store, without the URL\'s credentials', async () => {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, 'store:\n  kind: redis\n  commandTimeoutMs: 300\n');
  await assert.rejects(f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: 'redis://user:hunter2@127.0.0.1:1' }), (err: Error) => {
    assert.match(err.message, /127\.0\.0\.1:1/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
});
