/**
 * Rollouts through a real node (`andon serve` as a child process, real HTTP, the real CLI, a real
 * webhook receiver): `andon rollout start new-search --phases 20,50` then `advance --force` puts
 * the flag at 50 %; 60 distinct 2025 sessions split into the flag-on cohort (which calls the gated
 * `new-search`, failing 30 %) and the flag-off cohort (which calls the healthy `search`); the node
 * rolls the flag back to 20 % by itself within the evaluation interval, the webhook receives the
 * critical "Rollout rolled back: new-search" naming the metric `error_rate` and its values, and the
 * flag audit holds the record by `rollout`. Then a manual `andon rollout rollback --reason` turns
 * it off, and the admin API refuses what is not a plan.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { runCli } from '../helpers/run-cli.js';

const MODULE = resolve(DIST, 'test/flags/fixtures/rollout-server.js');
const fleet = nodeFleet(MODULE, 'andon-rollouts-');
const VERSION = '2025-11-25';
const EVAL_MS = 200;

let node: NodeProc;
let hook: Server;
const alerts: Array<{ title?: string; severity?: string; context?: Record<string, unknown>; at: number }> = [];

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const a = JSON.parse(body) as { alert?: Record<string, unknown> } & Record<string, unknown>;
        alerts.push({ ...((a.alert ?? a) as { title?: string }), at: Date.now() });
      } catch {
        alerts.push({ title: `unparsable: ${body.slice(0, 80)}`, at: Date.now() });
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const f = await fleet.fresh({ ANDON_WEBHOOK_SECRET: 'test-secret' });
  const config = join(f.stateDir, 'andon.config.json');
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  await writeFile(
    config,
    JSON.stringify({
      rollouts: { evaluationIntervalMs: EVAL_MS, windowMs: 30_000, minCalls: 20 },
      alerts: { channels: { hook: { type: 'webhook', url: hookUrl } }, routes: { critical: ['hook'], warning: ['hook'], info: ['hook'] }, retry: { attempts: 1 } },
    }),
  );
  node = await f.start({ ANDON_CONFIG: config });
});

after(async () => {
  await new Promise<void>((r) => hook.close(() => r()));
});

let nextId = 1;
async function rpc(sid: string, method: string, params?: Record<string, unknown>): Promise<any> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) }),
  });
  const text = await res.text();
  const json = text.startsWith('{') ? text : text.split('\n').find((l) => l.startsWith('data: {'))!.slice(6);
  return JSON.parse(json);
}

async function open(): Promise<string> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'rollout-test', version: '1.0.0' } } }),
  });
  await res.text();
  const sid = res.headers.get('mcp-session-id');
  assert.ok(sid, `initialize answered ${res.status}`);
  const n = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await n.text();
  return sid;
}

test('a gated tool failing 30 % in the on-cohort while the off-cohort is healthy is rolled back automatically, alerted to a webhook and audited', async () => {
  const auth = ['--ops-url', node.opsUrl, '--token', node.token()];
  const start = await runCli(['rollout', 'start', 'new-search', '--phases', '20,50', '--min-duration', '60s', '--by', 'alice', '--json', ...auth]);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(JSON.parse(start.stdout).state, 'running');
  // The minimum duration holds it at 20 %; --force skips it.
  const early = await runCli(['rollout', 'advance', 'new-search', ...auth]);
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /ms left/);
  const adv = await runCli(['rollout', 'advance', 'new-search', '--force', '--by', 'alice', '--json', ...auth]);
  assert.equal(adv.code, 0, adv.stderr);
  assert.equal(JSON.parse(adv.stdout).phase, 1);
  assert.equal((await node.admin('GET', '/admin/flags/new-search')).body.percent, 50);

  // 60 clients; each one's cohort is what its tools/list shows.
  const sessions = await Promise.all(Array.from({ length: 60 }, () => open()));
  const on: string[] = [];
  const off: string[] = [];
  for (const sid of sessions) {
    const r = await rpc(sid, 'tools/list');
    ((r.result.tools as Array<{ name: string }>).some((t) => t.name === 'new-search') ? on : off).push(sid);
  }
  assert.ok(on.length >= 10 && off.length >= 10, `cohorts: on ${on.length}, off ${off.length}`);

  // Traffic until the node rolls back by itself (bounded): the on-cohort calls the gated tool, the off-cohort the control.
  const began = Date.now();
  let round = 0;
  let rolledBackAt = 0;
  let failures = 0;
  while (Date.now() - began < 10_000) {
    const calls = [...on.map((sid) => rpc(sid, 'tools/call', { name: 'new-search', arguments: {} })), ...off.map((sid) => rpc(sid, 'tools/call', { name: 'search', arguments: {} }))];
    for (const r of await Promise.all(calls)) if (r.result?.isError === true) failures++;
    round++;
    const st = await node.admin('GET', '/admin/rollouts/new-search');
    if (st.body.state === 'rolled_back') {
      rolledBackAt = Date.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(rolledBackAt > 0, `not rolled back within 10 s (${round} rounds, ${failures} failures)`);
  const took = rolledBackAt - began;
  process.stderr.write(`rollout: on-cohort ${on.length}, off-cohort ${off.length}; rolled back ${took} ms after traffic began (${round} rounds, ${failures} tool failures; evaluation interval ${EVAL_MS} ms)\n`);
  assert.ok(failures > 0);
  assert.ok(took < 5000, `rolled back ${took} ms after traffic began`);

  const status = await runCli(['rollout', 'status', 'new-search', '--json', ...auth]);
  assert.equal(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout);
  assert.equal(st.state, 'rolled_back');
  assert.equal(st.phase, 0, 'back to the previous phase');
  assert.match(st.rollbackReason, /automatic rollback: error_rate on-cohort \d+\.\d % \(\d+\/\d+\) > 5\.0 % while off-cohort 0\.0 % \(0\/\d+\)/);
  const flag = (await node.admin('GET', '/admin/flags/new-search')).body;
  assert.equal(flag.percent, 20);
  assert.equal(flag.updatedBy, 'rollout');

  // The webhook got the critical alert naming the metric and values (bounded wait).
  for (let i = 0; i < 100 && !alerts.some((a) => a.title === 'Rollout rolled back: new-search'); i++) await new Promise((r) => setTimeout(r, 50));
  const alert = alerts.find((a) => a.title === 'Rollout rolled back: new-search');
  assert.ok(alert, `no rollback alert; got: ${alerts.map((a) => a.title).join(', ')}`);
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.context?.metric, 'error_rate');
  assert.equal(alert.context?.automatic, true);
  assert.match(String(alert.context?.reason), /error_rate on-cohort .* > 5\.0 % while off-cohort 0\.0 %/);
  assert.ok(alert.at - rolledBackAt < 5000);

  // The audit record, through the CLI.
  const audit = await runCli(['flags', 'audit', 'new-search', '--json', ...auth]);
  assert.equal(audit.code, 0, audit.stderr);
  const records = JSON.parse(audit.stdout).records as Array<{ by: string; reason?: string; from: { percent: number }; to: { percent: number } }>;
  const rec = records.at(-1)!;
  assert.equal(rec.by, 'rollout');
  assert.match(rec.reason!, /automatic rollback: error_rate/);
  assert.deepEqual([rec.from.percent, rec.to.percent], [50, 20]);
});

test('manual rollback from the CLI turns the flag off with the reason; the admin API refuses a bad plan and an unknown rollout', async () => {
  const auth = ['--ops-url', node.opsUrl, '--token', node.token()];
  const start = await runCli(['rollout', 'start', 'new-search', '--phases', '10,100', ...auth]);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /new-search: running, phase 1\/2 \(10%\)/);
  const rb = await runCli(['rollout', 'rollback', 'new-search', '--reason', 'customer complaints', '--by', 'bob', '--json', ...auth]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.equal(JSON.parse(rb.stdout).phase, -1);
  assert.equal((await node.admin('GET', '/admin/flags/new-search')).body.enabled, false);
  for (let i = 0; i < 100 && !alerts.some((a) => a.context?.metric === 'manual'); i++) await new Promise((r) => setTimeout(r, 50));
  const manual = alerts.find((a) => a.context?.metric === 'manual');
  assert.ok(manual, 'manual rollback alerted');
  assert.equal(manual.context?.reason, 'customer complaints');
  const audit = (await node.admin('GET', '/admin/flags/audit?flag=new-search&limit=1')).body.records[0];
  assert.deepEqual([audit.by, audit.reason], ['bob', 'customer complaints']);
  assert.equal((await node.admin('POST', '/admin/rollouts/x', { phases: [50, 10] })).status, 400);
  assert.equal((await node.admin('POST', '/admin/rollouts/x/advance', {})).status, 404);
  assert.equal((await node.admin('POST', '/admin/rollouts/new-search/rollback', {})).status, 409);
  const list = await runCli(['rollout', 'status', ...auth]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /new-search: rolled_back/);
});
