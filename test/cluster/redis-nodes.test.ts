/**
 * Two andon nodes with separate state directories on one real redis-server (`store: { kind: redis }`):
 * what one node acknowledged survives its kill -9 and is served by a node started afterwards —
 * sessions, halts, and the exactly-once journal — and a running node serves a session another
 * running node created, with that session's journal. (Pub/sub fan-out, Redis Streams and
 * cluster-wide halts while running are the rest of the cluster issue.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-node-');
const redis = await startRedis();

async function redisNode(prefix: string, env: Record<string, string> = {}) {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 2000\n`);
  return f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url, ...env });
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

test('a running node serves a session created on another running node; request ids are claimed cluster-wide, so no call runs twice', async () => {
  const prefix = `c-${randomUUID()}`;
  const f = await fresh();
  const log = join(f.stateDir, 'executions.log');
  await writeFile(log, '');
  const a = await redisNode(prefix, { CORD_LOG: log });
  const b = await redisNode(prefix, { CORD_LOG: log });
  const s = new Session2025(a.url);
  await s.initialize();
  // B never saw this session: it is looked up in Redis on the first request.
  const echoed = await post(b.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'via B' } } }, s.headers());
  assert.equal(echoed.status, 200, echoed.text);
  assert.match(echoed.text, /via B/);
  const call = (url: string, id: string, ms = 0) => post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'charge', arguments: { tag: id, ms } } }, s.headers());
  // Completed on A, retried on B (which holds the session since before): answered from A's record.
  assert.match((await call(a.url, 'pay-2')).text, /charged pay-2/);
  const retry = await call(b.url, 'pay-2');
  assert.match(retry.text, /charged pay-2/, retry.text);
  // Still running on A (which heartbeats) when the retry reaches B: refused as in progress —
  // 503 + Retry-After, retryable, nothing run or recorded on B; after A finished, A's answer.
  const slow = call(a.url, 'pay-3', 1_500);
  await until('pay-3 running on A', async () => ((await readFile(log, 'utf8')).includes('charge pay-3') ? true : undefined));
  const early = await call(b.url, 'pay-3');
  assert.equal(early.status, 503, early.text);
  assert.ok(Number(early.headers.get('retry-after')) >= 1, `Retry-After: ${early.headers.get('retry-after')}`);
  assert.equal(early.response?.error?.code, -32001, early.text);
  assert.equal(early.response?.error?.data?.code, 'ANDON_IN_PROGRESS', early.text);
  assert.equal(early.response?.error?.data?.reason, 'in-progress', early.text);
  assert.match((await slow).text, /charged pay-3/);
  const later = await call(b.url, 'pay-3');
  assert.match(later.text, /charged pay-3/, later.text);
  // Killed (-9) while a call runs: in progress (or interrupted, if already seen down) right after;
  // once B sees A down, ANDON_INTERRUPTED. Never a second run.
  void call(a.url, 'pay-4', 60_000).catch(() => {});
  await until('pay-4 running on A', async () => ((await readFile(log, 'utf8')).includes('charge pay-4') ? true : undefined));
  a.child.kill('SIGKILL');
  await a.exited;
  const right = await call(b.url, 'pay-4');
  assert.match(String(right.response?.error?.data?.code), /^ANDON_(IN_PROGRESS|INTERRUPTED)$/, right.text);
  await until('A seen down by B', async () => ((await b.admin('GET', '/admin/nodes')).body.nodes as Array<{ pid: number; mcpUrl: string; status: string }>).some((n) => (n.pid === a.child.pid || n.mcpUrl === a.url) && n.status === 'down') || undefined, 30_000);
  const gone = await call(b.url, 'pay-4');
  assert.equal(gone.response?.error?.data?.code, 'ANDON_INTERRUPTED', gone.text);
  assert.equal(gone.response?.error?.data?.reason, 'interrupted', gone.text);
  // A's records still answer on B and on a node started afterwards.
  const c = await redisNode(prefix, { CORD_LOG: log });
  assert.match((await call(c.url, 'pay-2')).text, /charged pay-2/);
  assert.match((await call(c.url, 'pay-3')).text, /charged pay-3/);
  assert.equal((await call(c.url, 'pay-4')).response?.error?.data?.code, 'ANDON_INTERRUPTED');
  const executions = await readFile(log, 'utf8');
  for (const id of ['pay-2', 'pay-3', 'pay-4']) assert.equal(executions.match(new RegExp(`charge ${id}\\n`, 'g'))?.length, 1, executions);
  // An id no node ever issued is 404 (and a repeat of it is answered without another lookup).
  const ghost = { ...s.headers(), 'mcp-session-id': 'no-such-session-0123456789' };
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 2, method: 'ping' }, ghost)).status, 404);
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 3, method: 'ping' }, ghost)).status, 404);
  for (const n of [b, c]) n.child.kill('SIGTERM');
  await Promise.all([b.exited, c.exited]);
});

test('a halt on one running node applies on every node within 500 ms; a node halt stays on its node, across restarts', async () => {
  const prefix = `c-${randomUUID()}`;
  const a = await redisNode(prefix);
  const b = await redisNode(prefix);
  const s = new Session2025(b.url);
  await s.initialize();
  const toolsOnB = async () => (JSON.parse((await post(b.url, { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, s.headers())).text).result.tools as Array<{ name: string }>).map((t) => t.name);
  assert.ok((await toolsOnB()).includes('echo'));
  const t0 = Date.now();
  assert.equal((await a.admin('POST', '/admin/components/tool%3Aecho/halt', { reason: 'bad output' })).status, 200);
  while ((await toolsOnB()).includes('echo')) {
    assert.ok(Date.now() - t0 < 500, 'tool:echo hidden on B within 500 ms of the halt on A');
    await new Promise((r) => setTimeout(r, 10));
  }
  const onB = await b.admin('GET', '/admin/components/tool%3Aecho');
  assert.equal(onB.body.state, 'halted_manual');
  assert.match(onB.body.haltReason, /bad output/);
  // Resumed on B: back on A too.
  assert.equal((await b.admin('POST', '/admin/components/tool%3Aecho/resume')).status, 200);
  const t1 = Date.now();
  while ((await a.admin('GET', '/admin/components/tool%3Aecho')).body.state !== 'running') {
    assert.ok(Date.now() - t1 < 500, 'resumed on A within 500 ms');
    await new Promise((r) => setTimeout(r, 10));
  }
  // The node halt of A is A's alone.
  assert.equal((await a.admin('POST', '/admin/components/node/halt', { reason: 'maintenance of A' })).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status, 200, 'B still serves');
  assert.equal((await post(a.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status, 503, 'A is halted');
  // B restarted (same id: same host and port) comes back serving; A stays halted across its restart.
  for (const n of [a, b]) n.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});
