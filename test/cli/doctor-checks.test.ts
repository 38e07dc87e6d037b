/**
 * The limits of `andon doctor`'s single checks, in-process against real files and sockets: the
 * thresholds (30 days of TLS, the open-file limit, Node versions) and the cases the process
 * tests in doctor.test.ts do not reach (key mismatch, a world-readable token, a port taken by
 * something else, promtool rejecting a file).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/schema.js';
import { checkAdminToken, checkNodeVersion, checkPorts, checkPromRules, checkTls, checkUlimit, checkExposure } from '../../src/cli/doctor-host.js';
import { checkHalts, checkSecrets } from '../../src/cli/doctor-config.js';
import { FileStore } from '../../src/store/file-store.js';
import type { DoctorContext } from '../../src/cli/doctor-types.js';
import { freePort } from '../helpers/node-process.js';

function ctx(raw: Record<string, unknown>, stateDir: string, env: NodeJS.ProcessEnv = {}): DoctorContext {
  const r = validateConfig({ stateDir, ...raw });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return { loaded: { config: r.config, file: undefined, sources: new Map() }, env, stateDir, running: undefined, send: false };
}

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('andon doctor checks', () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andon-doctor-unit-'));
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'soon.key', '-out', 'soon.crt', '-days', '10', '-subj', '/CN=soon']);
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '400', '-subj', '/CN=other']);
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => busy.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  test('TLS: a certificate expiring within 30 days warns; a key of another certificate fails', async () => {
    const soon = await checkTls(ctx({ tls: { enabled: true, certFile: join(dir, 'soon.crt'), keyFile: join(dir, 'soon.key') } }, dir));
    assert.equal(soon.status, 'warn', soon.detail);
    assert.match(soon.detail, /expires in (9|10) day\(s\)/);
    const mismatch = await checkTls(ctx({ tls: { enabled: true, certFile: join(dir, 'soon.crt'), keyFile: join(dir, 'other.key') } }, dir));
    assert.equal(mismatch.status, 'fail');
    assert.match(mismatch.detail, /is not the key of the certificate/);
    const missing = await checkTls(ctx({ tls: { enabled: true, certFile: join(dir, 'nope.crt'), keyFile: join(dir, 'other.key') } }, dir));
    assert.equal(missing.status, 'fail');
    assert.match(missing.detail, /ENOENT/);
    assert.equal((await checkTls(ctx({}, dir))).status, 'skip');
  });

  test('admin token: group/world readable fails, 0600 passes, ANDON_ADMIN_TOKEN passes', async () => {
    const sd = await mkdtemp(join(dir, 'state-'));
    await writeFile(join(sd, 'admin-token'), 'abc\n', { mode: 0o644 });
    await chmod(join(sd, 'admin-token'), 0o644);
    const open = await checkAdminToken(ctx({}, sd));
    assert.equal(open.status, 'fail');
    assert.match(open.detail, /mode 0644/);
    assert.match(open.fix!, /chmod 600/);
    await chmod(join(sd, 'admin-token'), 0o600);
    assert.equal((await checkAdminToken(ctx({}, sd))).status, 'pass');
    assert.equal((await checkAdminToken(ctx({}, join(dir, 'none'), { ANDON_ADMIN_TOKEN: 't' }))).status, 'pass');
  });

  test('ports: a port held by another process fails (no andon node answering); two listeners on one port fail', async () => {
    const taken = await checkPorts(ctx({ http: { port: busyPort } }, dir));
    assert.equal(taken.status, 'fail');
    assert.match(taken.detail, new RegExp(`http \\(MCP\\) 127.0.0.1:${busyPort} is in use by another process`));
    const port = await freePort();
    const same = await checkPorts(ctx({ http: { port }, ops: { port } }, dir));
    assert.equal(same.status, 'fail');
    assert.match(same.detail, new RegExp(`ops and http \\(MCP\\) both use port ${port}`));
    assert.equal((await checkPorts(ctx({ http: { port: 0 }, ops: { port: 0 } }, dir))).status, 'pass');
  });

  test('listeners: MCP or ops on 0.0.0.0 without auth and TLS warns', () => {
    const w = checkExposure(ctx({ http: { host: '0.0.0.0' }, ops: { host: '0.0.0.0' } }, dir));
    assert.equal(w.status, 'warn');
    assert.match(w.detail, /http \(MCP\) on 0\.0\.0\.0:3000 without auth and TLS/);
    assert.match(w.detail, /ops on 0\.0\.0\.0:9464/);
    assert.equal(checkExposure(ctx({}, dir)).status, 'pass');
  });

  test('ulimit: below connections.max fails, within the margin warns, above passes', () => {
    const c = ctx({ connections: { max: 1000 }, tcp: { enabled: true, maxConnections: 100 } }, dir);
    const low = checkUlimit(c, 1024);
    assert.equal(low.status, 'fail');
    assert.match(low.detail, /soft limit 1024 is below the 1100 connections/);
    assert.match(low.fix!, /LimitNOFILE=1356/);
    assert.equal(checkUlimit(c, 1200).status, 'warn');
    assert.equal(checkUlimit(c, 4096).status, 'pass');
    assert.equal(checkUlimit(c, 'unlimited').status, 'pass');
    assert.equal(checkUlimit(c, null).status, 'warn');
  });

  test('Node: 18 fails, 20 warns (end of life), 23 warns (odd line), 22 and 24 pass', () => {
    assert.equal(checkNodeVersion('18.20.0').status, 'fail');
    assert.equal(checkNodeVersion('20.19.0').status, 'warn');
    assert.equal(checkNodeVersion('23.1.0').status, 'warn');
    assert.equal(checkNodeVersion('22.12.0').status, 'pass');
    assert.equal(checkNodeVersion('24.0.0').status, 'pass');
  });

  test('secrets: an unset introspection variable fails; an unset Redis URL variable warns', () => {
    const auth = checkSecrets(ctx({ auth: { enabled: true, issuer: 'https://id.example', introspection: { url: 'https://id.example/introspect', clientIdEnv: 'DOC_ID', clientSecretEnv: 'DOC_SECRET' } } }, dir, { DOC_ID: 'x' }));
    assert.equal(auth.status, 'fail');
    assert.match(auth.detail, /DOC_SECRET is not set/);
    const redis = checkSecrets(ctx({ store: { kind: 'redis', urlEnv: 'DOC_REDIS_URL' } }, dir));
    assert.equal(redis.status, 'warn');
    assert.match(redis.detail, /DOC_REDIS_URL is not set/);
    assert.equal(checkSecrets(ctx({ store: { kind: 'redis', urlEnv: 'DOC_REDIS_URL' } }, dir, { DOC_REDIS_URL: 'redis://r:6379' })).status, 'pass');
  });

  test('halts without a node: a halted record and a corrupt one fail; the corrupt one stays where the node will find it', async () => {
    const sd = await mkdtemp(join(dir, 'halts-'));
    assert.equal((await checkHalts(ctx({}, sd))).status, 'pass');
    const store = new FileStore({ dir: sd });
    await store.set('halt', 'tool:a', { id: 'tool:a', state: 'halted_manual', reason: 'INC-1', since: 1, by: 'test' });
    await store.set('halt', 'tool:b', { id: 'tool:b', state: 'normal', reason: '', since: 1, by: 'test' });
    await writeFile(join(sd, 'halt', 'tool%3Ac.json'), '{"torn":');
    const r = await checkHalts(ctx({}, sd));
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /tool:a halted_manual \(INC-1\)/);
    assert.match(r.detail, /tool:c: unreadable record \(not valid JSON/);
    assert.doesNotMatch(r.detail, /tool:b/);
    assert.equal(await readFile(join(sd, 'halt', 'tool%3Ac.json'), 'utf8'), '{"torn":');
    assert.ok(!(await readdir(sd)).includes('quarantine'));
  });

  test('Prometheus rules: promtool rejects a broken file (or warns that it is not installed); a missing file fails', async () => {
    const bad = join(dir, 'bad-rules.yml');
    await writeFile(bad, 'groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(\n');
    const r = await checkPromRules(bad);
    if (hasPromtool()) {
      assert.equal(r.status, 'fail', r.detail);
      assert.match(r.detail, /promtool check rules/);
    } else {
      assert.equal(r.status, 'warn');
      assert.match(r.detail, /promtool not installed/);
    }
    assert.equal((await checkPromRules(join(dir, 'absent.yml'))).status, 'fail');
  });
});
