/**
 * `andon doctor` as a real process: a good configuration (TLS certificate valid a year, a webhook
 * channel pointing at a real receiver in this test) passes and the receiver gets the test alert; a
 * bad one (expired certificate, a state directory under a regular file, a webhook on a closed port,
 * an unset secret variable) exits 1 naming each failing check in both output forms; a running node
 * holding its ports is recognised, and its halted component is reported live and, after it is
 * killed, from the state directory's halt records.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { freePort, startNode } from '../helpers/node-process.js';
import { runCli } from '../helpers/run-cli.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');

interface Check {
  id: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A certificate valid for a year, and one that expired in 2020 (`openssl ca` takes explicit dates). */
function makeCerts(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'good.key', '-out', 'good.crt', '-days', '365', '-subj', '/CN=localhost']);
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=expired.example']);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca = d\n[d]\ndatabase = ./index.txt\nnew_certs_dir = .\ndefault_md = sha256\npolicy = p\nrand_serial = yes\n[p]\ncommonName = supplied\n');
  openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'old.key', '-in', 'old.csr', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-notext', '-out', 'old.crt']);
}

function byId(checks: Check[]): Map<string, Check> {
  return new Map(checks.map((c) => [c.id, c]));
}

describe('andon doctor', () => {
  let dir: string;
  let receiver: Server;
  let hookUrl: string;
  const received: Array<Record<string, unknown>> = [];
  const env = { ANDON_WEBHOOK_SECRET: 'doctor-test-secret' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andon-doctor-'));
    makeCerts(dir);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ ...(JSON.parse(body) as Record<string, unknown>), signature: req.headers['x-andon-signature'] });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
  });
  after(async () => {
    await new Promise<void>((r) => receiver.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  test('passes on a good configuration; the webhook receiver gets the test alert', async () => {
    const file = join(dir, 'good.yaml');
    const [port, opsPort] = [await freePort(), await freePort()];
    await writeFile(
      file,
      [
        `http: { port: ${port}, host: 127.0.0.1 }`,
        `ops: { port: ${opsPort} }`,
        `stateDir: ${join(dir, 'state-good')}`,
        'connections: { max: 256 }',
        `tls: { enabled: true, certFile: ${join(dir, 'good.crt')}, keyFile: ${join(dir, 'good.key')} }`,
        `alerts: { channels: { hook: { type: webhook, url: "${hookUrl}" } } }`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['doctor', '--config', file, '--json'], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[]; counts: Record<string, number> };
    assert.equal(report.ok, true);
    assert.equal(report.counts.fail, 0);
    const c = byId(report.checks);
    for (const id of ['config', 'log-level', 'secrets', 'state-dir', 'listeners', 'ports', 'tls', 'alert-channel:hook', 'limits', 'halts']) assert.equal(c.get(id)?.status, 'pass', `${id}: ${JSON.stringify(c.get(id))}`);
    assert.match(c.get('tls')!.detail, /valid 36[45] more days.*key matches/);
    assert.match(c.get('ports')!.detail, new RegExp(`free: http \\(MCP\\) ${port}, ops ${opsPort}`));
    // A first start: no token yet (the node generates one), a warning that does not fail the run.
    assert.equal(c.get('admin-token')?.status, 'warn');
    assert.ok(['pass', 'warn'].includes(c.get('prometheus-rules')!.status));
    const alert = received.find((a) => a.title === 'Test alert from andon doctor');
    assert.ok(alert, `receiver got: ${JSON.stringify(received)}`);
    assert.equal(alert.test, true);
    assert.match(String(alert.signature), /^sha256=[0-9a-f]{64}$/);

    // --no-send: the channel is skipped, nothing more reaches the receiver.
    const before = received.length;
    const q = await runCli(['doctor', '--config', file, '--no-send'], env);
    assert.equal(q.code, 0, q.stdout);
    assert.match(q.stdout, /^SKIP\s+alert-channel:hook\s.*--no-send$/m);
    assert.match(q.stdout, /ready to deploy/);
    assert.equal(received.length, before);
  });

  test('names each failing check of a bad configuration, exit code 1, in both forms', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a directory\n');
    const file = join(dir, 'bad.yaml');
    const closed = await freePort();
    await writeFile(
      file,
      [
        `http: { port: ${await freePort()} }`,
        `ops: { port: ${await freePort()} }`,
        `stateDir: ${join(blocker, 'state')}`,
        'logging: { level: debug }',
        'rateLimits: { enabled: false }',
        `tls: { enabled: true, certFile: ${join(dir, 'old.crt')}, keyFile: ${join(dir, 'old.key')} }`,
        'alerts:',
        '  channels:',
        `    hook: { type: webhook, url: "http://127.0.0.1:${closed}/alerts" }`,
        `    other: { type: webhook, url: "${hookUrl}", secretEnv: DOCTOR_TEST_UNSET_SECRET }`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['doctor', '--config', file, '--json'], env);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
    assert.equal(report.ok, false);
    const c = byId(report.checks);
    assert.equal(c.get('config')?.status, 'pass');
    assert.equal(c.get('tls')?.status, 'fail');
    assert.match(c.get('tls')!.detail, /expired on Feb +1 00:00:00 2020 GMT/);
    assert.equal(c.get('state-dir')?.status, 'fail');
    assert.match(c.get('state-dir')!.detail, /ENOTDIR/);
    assert.equal(c.get('alert-channel:hook')?.status, 'fail');
    assert.match(c.get('alert-channel:hook')!.detail, /not delivered after 2 attempt\(s\)/);
    assert.equal(c.get('secrets')?.status, 'fail');
    assert.match(c.get('secrets')!.detail, /DOCTOR_TEST_UNSET_SECRET is not set/);
    assert.equal(c.get('alert-channel:other')?.status, 'fail');
    assert.equal(c.get('log-level')?.status, 'warn');
    assert.equal(c.get('limits')?.status, 'warn');
    for (const id of ['tls', 'state-dir', 'alert-channel:hook', 'secrets', 'log-level']) assert.ok(c.get(id)!.fix, `${id} has a fix`);

    const h = await runCli(['doctor', '--config', file], env);
    assert.equal(h.code, 1);
    for (const id of ['tls', 'state-dir', 'alert-channel:hook', 'secrets']) assert.match(h.stdout, new RegExp(`^FAIL\\s+${id}\\s`, 'm'), h.stdout);
    assert.match(h.stdout, /^WARN\s+log-level\s/m);
    assert.match(h.stdout, /^\s+fix: renew the certificate/m);
    assert.match(h.stdout, /NOT ready to deploy/);
  });

  test('an invalid configuration is one failing check, not a crash', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'http: { port: "eighty", hostt: x }\n');
    const r = await runCli(['doctor', '--config', file, '--json'], env);
    assert.equal(r.code, 1, r.stderr);
    const c = byId((JSON.parse(r.stdout) as { checks: Check[] }).checks);
    assert.equal(c.get('config')?.status, 'fail');
    assert.match(c.get('config')!.detail, /http\.port/);
    assert.match(c.get('config')!.detail, /http\.hostt: unknown key/);
    assert.equal(c.get('state-dir')?.status, 'skip');
    assert.ok(c.get('node-version'));
  });

  test('a running node: its ports count as in use by it, its halted component fails the check, then read from the state directory once it is gone', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'andon-doctor-node-'));
    const [port, opsPort] = [await freePort(), await freePort()];
    const node = await startNode(MODULE, { stateDir, port, opsPort });
    try {
      const file = join(dir, 'running.yaml');
      await writeFile(file, `http: { port: ${port} }\nops: { port: ${opsPort} }\nstateDir: ${stateDir}\n`);
      assert.equal((await node.admin('POST', '/admin/components/tool:echo/halt', { reason: 'wrong answers, INC-9' })).status, 200);
      const r = await runCli(['doctor', '--config', file, '--json'], env);
      assert.equal(r.code, 1, r.stdout);
      const c = byId((JSON.parse(r.stdout) as { checks: Check[] }).checks);
      assert.equal(c.get('ports')?.status, 'pass');
      assert.match(c.get('ports')!.detail, new RegExp(`in use by a running andon node \\(ops at http://127.0.0.1:${opsPort}\\): http \\(MCP\\) ${port}, ops ${opsPort}`));
      assert.equal(c.get('admin-token')?.status, 'pass');
      assert.equal(c.get('halts')?.status, 'fail');
      assert.match(c.get('halts')!.detail, /running node: tool:echo halted_manual \(wrong answers, INC-9\)/);

      node.child.kill('SIGKILL');
      await node.exited;
      const off = await runCli(['doctor', '--config', file, '--json', '--no-send'], env);
      assert.equal(off.code, 1, off.stdout);
      const o = byId((JSON.parse(off.stdout) as { checks: Check[] }).checks);
      assert.equal(o.get('ports')?.status, 'pass');
      assert.match(o.get('ports')!.detail, /^free: /);
      assert.equal(o.get('halts')?.status, 'fail');
      assert.match(o.get('halts')!.detail, /no running node.*tool:echo halted_manual \(wrong answers, INC-9\)/);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
