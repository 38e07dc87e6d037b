/**
 * Redis stalls (SIGSTOP, 5 s) under load on two andon nodes: no node crashes; every call in flight
 * is answered within the command budget — served from what the node holds (ping, tools/list), or
 * refused with a clear error when it needs the store (a side-effecting call's id claim) — never
 * hung; each node alerts "store unhealthy" (a critical alert at a real webhook) and resolves it
 * after SIGCONT; afterwards new calls work, and a call refused during the stall can be retried
 * under the same id and runs exactly once.
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
import { startReceiver, webhookOk, webhookValidator } from '../observability/receivers.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-stall-');
const redis = await startRedis();
const SECRET = 'stall-secret';
const BUDGET_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGSTOP Redis for 5 s under load: no crash, no hang, an alert per node, and everything works again after SIGCONT', async (t) => {
  const hook = await startReceiver(webhookValidator(SECRET), webhookOk);
  t.after(() => hook.close());
  const prefix = `s-${randomUUID()}`;
  const f0 = await fresh();
  const log = join(f0.stateDir, 'executions.log');
  await writeFile(log, '');
  const nodeAt = async () => {
    const f = await fresh();
    const file = join(f.stateDir, 'andon.json');
    await writeFile(file, JSON.stringify({ store: { kind: 'redis', prefix, commandTimeoutMs: BUDGET_MS }, alerts: { channels: { hook: { type: 'webhook', url: `${hook.url}/hook`, secretEnv: 'STALL_SECRET' } }, retry: { attempts: 2, baseMs: 50 } } }));
    return f.start({ ANDON_CONFIG: file, ANDON_REDIS_URL: redis.url, STALL_SECRET: SECRET, CORD_LOG: log });
  };
  const [a, b] = [await nodeAt(), await nodeAt()];
  const s = new Session2025(a.url);
  await s.initialize();
  // B holds the session too (adopted before the stall: a stalled store cannot be read).
  assert.equal((await post(b.url, { jsonrpc: '2.0', id: 'p0', method: 'ping' }, s.headers())).status, 200);

  interface Outcome {
    what: string;
    ms: number;
    status: number;
    text: string;
  }
  const outcomes: Outcome[] = [];
  let stop = false;
  let n = 0;
  const worker = async (w: number) => {
    while (!stop) {
      const url = (n + w) % 2 ? a.url : b.url;
      const k = ++n;
      const body =
        k % 3 === 0
          ? { jsonrpc: '2.0', id: `c${k}`, method: 'tools/call', params: { name: 'charge', arguments: { tag: `c${k}` } } }
          : k % 3 === 1
            ? { jsonrpc: '2.0', id: `p${k}`, method: 'ping' }
            : { jsonrpc: '2.0', id: `l${k}`, method: 'tools/list' };
      const t0 = Date.now();
      const r = await post(url, body, s.headers()).catch((err: Error) => ({ status: 0, text: String(err) }));
      outcomes.push({ what: body.method === 'tools/call' ? 'charge' : body.method, ms: Date.now() - t0, status: r.status, text: r.text });
      await sleep(20);
    }
  };
  const load = [0, 1, 2, 3].map(worker);
  t.after(async () => {
    stop = true;
    await Promise.all(load);
  });
  await sleep(500);
  const before = outcomes.length;
  redis.pause();
  const stalledAt = Date.now();
  let alerted: string[] = [];
  // A subscription during the stall cannot be made durable: refused, retryable, named.
  const subscribed = post(a.url, { jsonrpc: '2.0', id: 'sub-stalled', method: 'resources/subscribe', params: { uri: 'test://watched' } }, s.headers());
  try {
    // Each node alerts while Redis is still stopped.
    while (Date.now() - stalledAt < 5_000) {
      await sleep(100);
      assert.equal(a.child.exitCode, null, 'node A alive');
      assert.equal(b.child.exitCode, null, 'node B alive');
    }
    alerted = hook.received.map((r) => `${r.json?.title} ${r.json?.severity}`);
  } finally {
    redis.resume();
  }
  const during = outcomes.slice(before);
  const sub = await subscribed;
  const subError = (JSON.parse(sub.text) as { error?: { code: number; message: string; data?: { code?: string; retryAfterMs?: number } } }).error;
  assert.equal(subError?.code, -32001, sub.text);
  assert.equal(subError?.data?.code, 'ANDON_SESSION_NOT_SAVED');
  assert.match(subError?.message ?? '', /Subscription change not saved: the session record could not be written to the store .*; retry/);
  assert.equal(subError?.data?.retryAfterMs, 1000);
  // Recovery: each node resolves its alert.
  const deadline = Date.now() + 6_000;
  while (hook.received.filter((r) => /recovered: store/.test(r.json?.title ?? '')).length < 2) {
    assert.ok(Date.now() < deadline, `both nodes resolve the store alert; got ${JSON.stringify(hook.received.map((r) => r.json?.title))}`);
    await sleep(50);
  }
  stop = true;
  await Promise.all(load);

  assert.equal(alerted.filter((t) => /Health check failing: store critical/.test(t)).length, 2, `one critical store alert per node during the stall: ${JSON.stringify(alerted)}`);
  // No hang: every call made during the stall was answered within the budget (plus slack for 2 cores).
  assert.ok(during.length > 10, `load kept running: ${during.length} calls`);
  const slowest = Math.max(...during.map((o) => o.ms));
  assert.ok(slowest < BUDGET_MS + 1_500, `slowest answer during the stall: ${slowest} ms`);
  // What the nodes hold is served; a call that needs the store is refused, clearly (503 + retry later).
  const local = during.filter((o) => o.what !== 'charge');
  assert.ok(local.length > 0 && local.every((o) => o.status === 200 && !/"error"/.test(o.text)), `ping and tools/list served from the node: ${JSON.stringify(local.find((o) => o.status !== 200))}`);
  const charges = during.filter((o) => o.what === 'charge');
  const refused = charges.filter((o) => o.status === 503 && /ANDON_JOURNAL_FAILED/.test(o.text) && /shared store|durable/.test(o.text) && /retry later/.test(o.text));
  assert.ok(refused.length > 0, 'charges during the stall are refused');
  assert.ok(charges.every((o) => refused.includes(o) || (o.status === 200 && /charged/.test(o.text))), `every charge either ran or was refused clearly: ${JSON.stringify(charges.filter((o) => !refused.includes(o)).slice(0, 2))}`);

  // Afterwards: new calls work on both nodes, and new sessions.
  for (const url of [a.url, b.url]) {
    const id = `after-${randomUUID()}`;
    const r = await post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'charge', arguments: { tag: id } } }, s.headers());
    assert.match(r.text, new RegExp(`charged ${id}`), r.text);
  }
  const s2 = new Session2025(b.url);
  await s2.initialize();
  assert.equal((await post(a.url, { jsonrpc: '2.0', id: 'x', method: 'ping' }, s2.headers())).status, 200, 'a session made on B after the stall is served on A');
  // A charge refused during the stall is retried under its id: it runs (its lost claim was given back), once.
  const retried = JSON.parse(refused[0]!.text).id as string;
  const node = a.url;
  let answer = '';
  const until = Date.now() + 8_000;
  while (!answer.includes(`charged ${retried}`)) {
    assert.ok(Date.now() < until, `retry of ${retried} runs after the stall; last answer ${answer}`);
    answer = (await post(node, { jsonrpc: '2.0', id: retried, method: 'tools/call', params: { name: 'charge', arguments: { tag: retried } } }, s.headers())).text;
    if (!answer.includes('charged')) await sleep(250);
  }
  const again = await post(b.url, { jsonrpc: '2.0', id: retried, method: 'tools/call', params: { name: 'charge', arguments: { tag: retried } } }, s.headers());
  assert.match(again.text, new RegExp(`charged ${retried}`), 'answered from the record on the other node');
  const executions = await readFile(log, 'utf8');
  assert.equal(executions.split('\n').filter((l) => l === `charge ${retried}`).length, 1, 'ran exactly once');
  for (const r of refused.slice(1)) assert.ok(!executions.includes(`charge ${JSON.parse(r.text).id as string}\n`), `refused ${r.text} did not run`);
  for (const x of [a, b]) x.child.kill('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});
