/**
 * Rate limits through real processes (`andon serve` on 127.0.0.1, a configuration file):
 * - 200 tools/call in about 1 s from one session against `perClient.toolCallsPerSec: 20` → about
 *   20 succeed, the rest are 429 with Retry-After and the JSON-RPC error naming the limit, while a
 *   second session calling at a low rate meanwhile is never refused;
 * - the global limit (set by a live reload of the file) refuses across sessions, shown by
 *   GET /admin/rate-limits, `andon limits` and /metrics;
 * - over stdio the same refusal is a JSON-RPC error with `data`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { Session2025, type Reply } from '../helpers/mcp-http.js';
import { withTimeout } from '../helpers/wait.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-rates-');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function yaml(globalPerSec: number): string {
  return ['rateLimits:', '  perClient:', '    messagesPerSec: 1000', '    toolCallsPerSec: 20', '  global:', `    messagesPerSec: ${globalPerSec}`, ''].join('\n');
}

const echo = (s: Session2025, text: string): Promise<Reply> => s.request('tools/call', { name: 'echo', arguments: { text } });

test('one session flooding tools/call gets 429 + Retry-After past 20/s while another session is unaffected; the global limit reloads live', async () => {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  writeFileSync(config, yaml(10_000));
  const node = await f.start({ ANDON_CONFIG: config });
  const flood = new Session2025(node.url);
  const calm = new Session2025(node.url);
  await flood.initialize();
  await calm.initialize();

  // The calm client: 5 calls per second, launched on a schedule during the flood.
  const calmCalls: Array<Promise<Reply>> = [];
  const calmLoop = (async () => {
    for (let i = 0; i < 6; i++) {
      calmCalls.push(echo(calm, `calm ${i}`));
      await sleep(200);
    }
  })();

  // The flood: 200 calls in about 1 s (10 waves of 20, 100 ms apart).
  const t0 = Date.now();
  const waves: Array<Promise<Reply[]>> = [];
  for (let w = 0; w < 10; w++) {
    waves.push(Promise.all(Array.from({ length: 20 }, (_, i) => echo(flood, `flood ${w}.${i}`))));
    if (w < 9) await sleep(100);
  }
  const replies = (await Promise.all(waves)).flat();
  const elapsedSec = (Date.now() - t0) / 1000;
  await calmLoop;
  const calmReplies = await Promise.all(calmCalls);

  assert.equal(replies.length, 200);
  const ok = replies.filter((r) => r.status === 200 && r.response?.result);
  const refused = replies.filter((r) => r.status === 429);
  assert.equal(ok.length + refused.length, 200, `every answer is a result or a 429: ${[...new Set(replies.map((r) => r.status))].join(',')}`);
  // Token bucket of 20 with 20/s refill: at most 20 + 20 × elapsed (plus one for rounding).
  assert.ok(ok.length >= 20 && ok.length <= 20 + Math.ceil(20 * elapsedSec) + 1, `about 20 succeed in ${elapsedSec.toFixed(2)} s: ${ok.length}`);
  for (const r of refused) {
    const after = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(after) && after >= 1, `Retry-After in whole seconds: ${r.headers.get('retry-after')}`);
    const err = r.response.error;
    assert.equal(err.data.code, 'ANDON_RATE_LIMITED');
    assert.equal(err.data.limit, 'client:tools/call');
    assert.equal(err.data.limitPerSec, 20);
    assert.ok(err.data.retryAfterMs > 0 && err.data.retryAfterMs <= 1000);
    assert.match(err.message, /Rate limit exceeded \(client:tools\/call\): more than 20 tools\/call per second from one client; retry in 1 s/);
  }
  for (const r of calmReplies) assert.equal(r.status, 200, `the calm session is never refused: ${r.text}`);

  const snap = await node.admin('GET', '/admin/rate-limits');
  assert.equal(snap.status, 200);
  assert.equal(snap.body.refusals.client, refused.length);
  assert.equal(snap.body.topThrottled[0].client, `session:${flood.sessionId}`);
  assert.equal(snap.body.topThrottled.length, 1, 'only the flooding session was throttled');

  // The global limit, lowered by a live reload: every session counts against it.
  writeFileSync(config, yaml(30));
  const reload = await node.admin('POST', '/admin/config/reload');
  assert.equal(reload.status, 200, JSON.stringify(reload.body));
  assert.deepEqual(reload.body.applied, ['rateLimits.global.messagesPerSec']);
  await sleep(1100); // the global bucket refills to its new burst
  const sessions = [flood, calm, new Session2025(node.url)];
  await sessions[2]!.initialize();
  const all = (await Promise.all(sessions.map((s) => Promise.all(Array.from({ length: 15 }, () => s.request('ping')))))).flat();
  const globalRefused = all.filter((r) => r.status === 429);
  assert.ok(globalRefused.length >= 10, `45 pings against 30/s: ${globalRefused.length} refused`);
  for (const r of globalRefused) assert.equal(r.response.error.data.limit, 'global');

  const cli = await run(process.execPath, [CLI, 'limits', '--json', '--ops-url', node.opsUrl, '--token', node.token()]);
  const fromCli = JSON.parse(cli.stdout);
  assert.equal(fromCli.refusals.global, globalRefused.length);
  assert.equal(fromCli.limits.find((l: { name: string }) => l.name === 'global').perSec, 30);
  const human = await run(process.execPath, [CLI, 'limits', '--ops-url', node.opsUrl, '--token', node.token()]);
  assert.match(human.stdout, /^rate limits: on \(store memory, factor 1, burst 1 s\)/);
  assert.match(human.stdout, /client:tools\/call\s+client\s+tools\/call\s+20\s+20\s+20\s+\d+/);
  assert.match(human.stdout, /most throttled clients:/);

  const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
  assert.match(metrics, new RegExp(`andon_rate_limited_total\\{limit="client"\\} ${refused.length}\\b`));
  assert.match(metrics, new RegExp(`andon_rate_limited_total\\{limit="global"\\} ${globalRefused.length}\\b`));
  assert.match(metrics, /andon_rate_limit_factor 1\b/);
  node.child.kill('SIGTERM');
  await withTimeout(node.exited, 10_000, 'node exit');
});

test('over stdio a refusal is the JSON-RPC error with data (code, limit, retryAfterMs)', async () => {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  writeFileSync(config, ['rateLimits:', '  perClient:', '    toolCallsPerSec: 2', ''].join('\n'));
  const child = spawn(process.execPath, [CLI, 'serve', MODULE, '--stdio', '--state-dir', f.stateDir], { env: { ...process.env, ANDON_CONFIG: config, ANDON_ADMIN_TOKEN: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', r));
  const answers = new Map<number, { result?: unknown; error?: { code: number; message: string; data: Record<string, unknown> } }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id?: number };
    if (typeof m.id === 'number') answers.set(m.id, m as never);
  });
  const send = (m: unknown) => child.stdin!.write(`${JSON.stringify(m)}\n`);
  send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rates', version: '1' } } });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let id = 1; id <= 5; id++) send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `s${id}` } } });
  const end = Date.now() + 10_000;
  while (answers.size < 6 && Date.now() < end) await sleep(20);
  assert.equal(answers.size, 6, 'every request answered');
  const results = [1, 2, 3, 4, 5].map((id) => answers.get(id)!);
  assert.equal(results.filter((a) => a.result).length, 2);
  const errors = results.filter((a) => a.error).map((a) => a.error!);
  assert.equal(errors.length, 3);
  for (const e of errors) {
    assert.equal(e.code, -32001);
    assert.equal(e.data.code, 'ANDON_RATE_LIMITED');
    assert.equal(e.data.limit, 'client:tools/call');
    assert.ok((e.data.retryAfterMs as number) > 0 && (e.data.retryAfterMs as number) <= 500);
    assert.match(e.message, /Rate limit exceeded \(client:tools\/call\): more than 2 tools\/call per second from one client/);
  }
  child.stdin!.end();
  await withTimeout(exited, 10_000, 'stdio node exit');
});
