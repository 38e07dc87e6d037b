/**
 * Membership and remote drain on one real redis-server with three real `andon serve` nodes:
 * each node heartbeats its record; `GET /admin/nodes`, `andon nodes` and `andon status` list all
 * three; `andon drain --node B` run against A drains B through the store (B exits 0, the others
 * keep running) and a session created on B continues on C; a node killed with SIGKILL is shown
 * down after three missed heartbeats; malformed drain messages are dropped.
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
import { until as poll } from '../helpers/until.js';

const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 5_000) => poll(what, fn, ms);
import { runCli } from '../helpers/run-cli.js';
import { RedisStore } from '../../src/store/redis-store.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-members-');
const redis = await startRedis();
const HEARTBEAT = 250;

async function redisNode(prefix: string, nodeId: string) {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 2000\n  nodeId: ${nodeId}\n  heartbeatMs: ${HEARTBEAT}\n`);
  const p = await f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url });
  return { ...p, stateDir: f.stateDir };
}

type Node = { id: string; status: string; phase: string; sessions: number; mcpUrl: string; opsUrl: string; pid: number; self: boolean; ageMs: number };

test('three nodes list each other; andon drain --node B through A drains B only; B\'s session continues on C; a killed node is shown down', async () => {
  const prefix = `m-${randomUUID()}`;
  const [a, b, c] = await Promise.all([redisNode(prefix, 'node-a'), redisNode(prefix, 'node-b'), redisNode(prefix, 'node-c')]);
  const s = new Session2025(b.url);
  await s.initialize();

  // Every node sees all three up, with their URLs and pids.
  const listed = await until('three nodes up on A', async () => {
    const r = await a.admin('GET', '/admin/nodes');
    assert.equal(r.status, 200);
    const nodes = r.body.nodes as Node[];
    return nodes.length === 3 && nodes.every((n) => n.status === 'up') && nodes.find((n) => n.id === 'node-b')!.sessions === 1 ? nodes : undefined;
  });
  assert.deepEqual(listed.map((n) => n.id), ['node-a', 'node-b', 'node-c']);
  assert.equal(listed.find((n) => n.self)!.id, 'node-a');
  const nb = listed.find((n) => n.id === 'node-b')!;
  assert.ok(b.url.startsWith(nb.mcpUrl), `${nb.mcpUrl} is B's MCP endpoint ${b.url}`);
  assert.equal(nb.opsUrl, b.opsUrl);
  assert.equal(nb.pid, b.child.pid);
  assert.equal(nb.phase, 'running');

  // The CLI: `andon nodes --json`, `andon nodes`, and `andon status` with the node list.
  const cli = ['--ops-url', a.opsUrl, '--token', a.token()];
  const j = await runCli(['nodes', '--json', ...cli]);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual((JSON.parse(j.stdout).nodes as Node[]).map((n) => n.id), ['node-a', 'node-b', 'node-c']);
  const t = await runCli(['nodes', ...cli]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^NODE\s+STATUS/m);
  assert.match(t.stdout, /^\*node-a\s+up/m);
  assert.match(t.stdout, /^ node-b\s+up\s+1/m);
  const st = await runCli(['status', ...cli]);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /node-c\s+up/);
  assert.match(st.stdout, /COMPONENT/);

  // An unknown node is refused; malformed messages on the drain channel are dropped by every node.
  const unknown = await a.admin('POST', '/admin/nodes/node-x/drain', {});
  assert.equal(unknown.status, 404);
  const raw = new RedisStore({ url: redis.url, prefix });
  await raw.open();
  for (const m of ['not json', '{"op":"drain"}', JSON.stringify({ op: 'halt', node: 'node-b', reason: '', by: 'x', from: 'y' }), 'x'.repeat(10_000)]) await raw.publish('drain', m);

  // Drain B through A's CLI: B exits 0; A and C keep serving.
  const d = await runCli(['drain', '--node', 'node-b', '-r', 'maintenance', ...cli]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /drain of node node-b requested \(maintenance\)/);
  const exit = await Promise.race([b.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 8_000))]);
  assert.deepEqual(exit, { code: 0, signal: null }, b.stderr());
  assert.match(b.stderr(), /dropped a malformed drain request/);
  assert.match(b.stderr(), /draining: requested by another node/);
  assert.equal(a.child.exitCode, null);
  assert.equal(c.child.exitCode, null);

  // B's session continues on C.
  const echoed = await post(c.url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'after drain' } } }, s.headers());
  assert.equal(echoed.status, 200, echoed.text);
  assert.match(echoed.text, /after drain/);

  // B is listed as stopped; a node killed with SIGKILL is shown down after three missed heartbeats.
  const stopped = (await a.admin('GET', '/admin/nodes')).body.nodes as Node[];
  assert.equal(stopped.find((n) => n.id === 'node-b')!.status, 'stopped');
  const refused = await a.admin('POST', '/admin/nodes/node-b/drain', {});
  assert.equal(refused.status, 409);
  c.child.kill('SIGKILL');
  await c.exited;
  const killedAt = Date.now();
  await until('C shown down on A', async () => {
    const nodes = (await a.admin('GET', '/admin/nodes')).body.nodes as Node[];
    return nodes.find((n) => n.id === 'node-c')!.status === 'down' ? true : undefined;
  });
  const downAfter = Date.now() - killedAt;
  // Three missed heartbeats, plus slack for a loaded CI machine (the bound is about not staying up forever).
  assert.ok(downAfter <= 3 * HEARTBEAT + 4_000, `down after ${downAfter} ms`);
  await raw.close();
  a.child.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null });
});

test('a node on a file store lists no cluster and refuses a remote drain', async () => {
  const f = await fresh();
  const n = await f.start();
  const r = await n.admin('GET', '/admin/nodes');
  assert.equal(r.status, 200);
  assert.equal(r.body.shared, false);
  assert.deepEqual(r.body.nodes, []);
  const d = await n.admin('POST', '/admin/nodes/other/drain', {});
  assert.equal(d.status, 409);
  const cli = await runCli(['nodes', '--ops-url', n.opsUrl, '--token', n.token()]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /not on a shared store/);
  n.child.kill('SIGTERM');
  await n.exited;
});
