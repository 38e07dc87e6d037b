/**
 * deploy/cluster/systemd: the three-node example's systemd template. `systemd-analyze verify`
 * accepts an instance of it (ExecStart pointed at this checkout) without a warning; the per-node
 * configs pass the real validator and differ in nodeId and ports only; TimeoutStopSec covers each
 * node's drain budget; and ExecStart's command line, run for a, b and c with their env files on a
 * real redis-server (ports moved to free ones by flags), makes a working cluster: every node ready,
 * a session created on node-a served by node-b and node-c, `GET /admin/nodes` listing all three,
 * and SIGTERM draining a node to exit 0.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';
import { CLUSTER, drainBudgetMs, nodeConfig, parseUnit, systemdSpanMs } from './cluster-helpers.js';

const DIR = join(CLUSTER, 'systemd');
const UNIT = readFileSync(join(DIR, 'andon@.service'), 'utf8');
const service = parseUnit(UNIT).get('Service')!;
const NODES = ['a', 'b', 'c'];
const tmp = mkdtempSync(join(tmpdir(), 's4-cluster-bench-systemd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const redis = await startRedis();

function one(k: string): string {
  const v = service.get(k);
  assert.ok(v && v.length === 1, `[Service] ${k}= is set once (got ${JSON.stringify(v)})`);
  return v[0]!;
}

/** The template with its installed paths replaced by this machine's: node and the checkout. */
function localUnit(): string {
  const exec = one('ExecStart').split(/\s+/);
  assert.equal(exec[0], '/usr/bin/node');
  assert.equal(exec[1], '/opt/andon/dist/src/cli/andon.js', 'ExecStart runs the CLI from /opt/andon (as the unit documents)');
  return UNIT.replace(/^ExecStart=\/usr\/bin\/node \/opt\/andon\//m, `ExecStart=${process.execPath} ${ROOT}/`);
}

function systemdAnalyze(): string {
  const r = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) assert.fail('systemd-analyze is not installed: the Debian package `systemd` must be installed (.ci/run) to verify deploy/cluster/systemd/andon@.service');
  return r.stdout.trim();
}

test('systemd-analyze verify accepts an instance of andon@.service without a warning, and the check is real', () => {
  const bin = systemdAnalyze();
  const file = join(tmp, 'andon@.service');
  writeFileSync(file, localUnit());
  for (const n of NODES) {
    const r = spawnSync(bin, ['verify', '--man=no', join(tmp, `andon@${n}.service`)], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `systemd-analyze verify andon@${n}.service failed:\n${r.stderr}${r.stdout}`);
    assert.equal(`${r.stderr}${r.stdout}`.trim(), '', `systemd-analyze verify warned:\n${r.stderr}${r.stdout}`);
  }
  writeFileSync(file, localUnit().replace('Restart=on-failure', 'Restart=on-failur').replace(process.execPath, '/nonexistent/node'));
  const bad = spawnSync(bin, ['verify', '--man=no', join(tmp, 'andon@a.service')], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /restart specifier/);
  assert.match(bad.stderr, /not executable/);
});

test('the node configs are valid, on Redis, with distinct node ids and ports; TimeoutStopSec covers every drain budget', () => {
  const configs = NODES.map((n) => nodeConfig(join(DIR, `node-${n}.yaml`)));
  const ids = configs.map((c) => c.store.nodeId);
  assert.deepEqual(ids, ['node-a', 'node-b', 'node-c']);
  const ports = configs.flatMap((c) => [c.http.port, c.ops.port]);
  assert.equal(new Set(ports).size, ports.length, `every listener has its own port: ${ports.join(', ')}`);
  for (const c of configs) {
    assert.equal(c.store.kind, 'redis');
    assert.equal(c.store.url, undefined, 'the URL is not in the file (it may carry a password)');
    assert.equal(c.store.urlEnv, 'ANDON_REDIS_URL');
    assert.equal(c.store.prefix, configs[0]!.store.prefix, 'one cluster: one prefix');
    assert.ok(systemdSpanMs(one('TimeoutStopSec')) > drainBudgetMs(c), `TimeoutStopSec=${one('TimeoutStopSec')} must exceed the drain budget ${drainBudgetMs(c)} ms`);
  }
  assert.match(one('ExecStart'), / --config \/etc\/andon\/cluster\/node-%i\.yaml$/);
  assert.equal(one('EnvironmentFile'), '/etc/andon/cluster/node-%i.env');
  for (const n of NODES) {
    const env = readFileSync(join(DIR, `node-${n}.env`), 'utf8');
    assert.match(env, /^ANDON_REDIS_URL=redis:\/\/\S+$/m, `node-${n}.env names the Redis`);
  }
  assert.equal(one('KillSignal'), 'SIGTERM');
});

/** The variables an EnvironmentFile sets (KEY=value lines; comments skipped). */
function envFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

test('ExecStart for a, b and c with their env files makes a cluster: any node serves a session, all three are listed, SIGTERM drains to exit 0', { timeout: 120_000 }, async () => {
  const exec = localUnit().match(/^ExecStart=(.*)$/m)![1]!.split(/\s+/);
  const token = 'cluster-example-token';
  const nodes: Array<{ n: string; child: ChildProcess; url: string; ops: string; err: () => string }> = [];
  after(() => {
    for (const x of nodes) if (x.child.exitCode === null) x.child.kill('SIGKILL');
  });
  for (const n of NODES) {
    const state = mkdtempSync(join(tmp, `state-${n}-`));
    const [port, opsPort] = [await freePort(), await freePort()];
    const env = { ...envFile(join(DIR, `node-${n}.env`)), ANDON_REDIS_URL: redis.url, ANDON_ADMIN_TOKEN: token, ANDON_STATE_DIR: state, NODE_ENV: 'production', PATH: process.env.PATH ?? '' };
    const args = exec.slice(1).map((a) => a.replace('/etc/andon/cluster/node-%i.yaml', join(DIR, `node-${n}.yaml`)));
    // Flags beat the file: the example's ports (3001…, 9465…) may be taken on a shared machine.
    const child = spawn(exec[0]!, [...args, '--port', String(port), '--ops-port', String(opsPort)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    nodes.push({ n, child, url: `http://127.0.0.1:${port}/mcp`, ops: `http://127.0.0.1:${opsPort}`, err: () => err });
  }
  for (const x of nodes) {
    const end = Date.now() + 30_000;
    for (;;) {
      const r = await fetch(`${x.ops}/health/ready`).catch(() => undefined);
      if (r?.status === 200) break;
      assert.ok(x.child.exitCode === null && Date.now() < end, `node-${x.n} not ready:\n${x.err()}`);
      await new Promise((r2) => setTimeout(r2, 100));
    }
  }
  const s = new Session2025(nodes[0]!.url);
  await s.initialize();
  for (const x of nodes.slice(1)) {
    const r = await post(x.url, { jsonrpc: '2.0', id: `p-${x.n}`, method: 'ping' }, s.headers());
    assert.equal(r.status, 200, `node-${x.n} serves the session created on node-a: ${r.text}`);
  }
  const end = Date.now() + 20_000;
  let listed: string[] = [];
  while (Date.now() < end) {
    const r = await fetch(`${nodes[0]!.ops}/admin/nodes`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as { nodes: Array<{ id?: string; nodeId?: string; state?: string }> };
    listed = body.nodes.map((x) => x.id ?? x.nodeId ?? '').sort();
    if (['node-a', 'node-b', 'node-c'].every((id) => listed.includes(id))) break;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  assert.deepEqual(listed.filter((id) => id.startsWith('node-')), ['node-a', 'node-b', 'node-c']);
  const b = nodes[1]!;
  const exited = new Promise<number | null>((r) => b.child.once('exit', (code) => r(code)));
  b.child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), systemdSpanMs(one('TimeoutStopSec'))))]);
  assert.equal(code, 0, `node-b drains and exits 0 within TimeoutStopSec:\n${b.err()}`);
  const again = await post(nodes[2]!.url, { jsonrpc: '2.0', id: 'after', method: 'ping' }, s.headers());
  assert.equal(again.status, 200, 'node-c still serves the session after node-b stopped');
});
