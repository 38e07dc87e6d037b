/**
 * deploy/systemd: `systemd-analyze verify` accepts the unit (with ExecStart pointed at this checkout),
 * its exposure score stays low, its stop timeout covers the drain of the config it ships (read by the
 * real loader), the sysusers file creates its user, and ExecStart's command line really serves with
 * that config: health answers, SIGTERM drains, exit 0 within TimeoutStopSec.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';
import { DEPLOY, cleanEnv, parseUnit, run, startOnFreePorts, systemdSpanMs } from './deploy-helpers.js';

const UNIT_FILE = join(DEPLOY, 'systemd/andon.service');
const CONFIG_FILE = join(DEPLOY, 'systemd/andon.yaml');
const SYSUSERS_FILE = join(DEPLOY, 'systemd/andon.sysusers');
const unitText = readFileSync(UNIT_FILE, 'utf8');
const unit = parseUnit(unitText);
const service = unit.get('Service')!;
const one = (k: string): string => {
  const v = service.get(k);
  assert.ok(v && v.length === 1, `[Service] ${k}= is set once (got ${JSON.stringify(v)})`);
  return v[0]!;
};
// The shipped config through the real loader and schema, with no environment overrides.
const config = loadConfig({ file: CONFIG_FILE, env: {} }).config;

const tmp = mkdtempSync(join(tmpdir(), 's4-deploy-systemd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function systemdAnalyze(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim();
  } catch {
    assert.fail('systemd-analyze is not installed: the Debian package `systemd` must be installed (.ci/run) to verify deploy/systemd/andon.service');
  }
}

/** The unit with its installed paths replaced by this machine's: node, the checkout's dist/. */
function localUnit(): string {
  const [, ...rest] = one('ExecStart').split(/\s+/);
  assert.equal(rest[0], '/opt/andon/dist/src/cli/andon.js', 'ExecStart runs the CLI from /opt/andon (as documented in the unit)');
  return unitText.replace(/^ExecStart=\S+ \/opt\/andon\//m, `ExecStart=${process.execPath} ${ROOT}/`);
}

test('systemd-analyze verify accepts the unit (ExecStart pointed at this checkout), without a single warning', async () => {
  const bin = systemdAnalyze();
  const file = join(tmp, 'andon.service');
  writeFileSync(file, localUnit());
  const r = await run(bin, ['verify', '--man=no', file]);
  assert.equal(r.code, 0, `systemd-analyze verify failed:\n${r.stderr}${r.stdout}`);
  assert.equal(r.stderr.trim() + r.stdout.trim(), '', `systemd-analyze verify warned:\n${r.stderr}${r.stdout}`);
  // The check is real: a typo in a key and a missing executable are reported.
  writeFileSync(file, localUnit().replace('Restart=on-failure', 'Restart=on-failur').replace(process.execPath, '/nonexistent/node'));
  const bad = await run(bin, ['verify', '--man=no', file]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /restart specifier/);
  assert.match(bad.stderr, /not executable/);
});

test('systemd-analyze security --offline: overall exposure of the unit at most 2.0 ("OK")', async () => {
  const r = await run(systemdAnalyze(), ['security', '--offline=true', '--no-pager', UNIT_FILE]);
  const m = /Overall exposure level for andon\.service: ([\d.]+)/.exec(r.stdout + r.stderr);
  assert.ok(m, `no exposure level in:\n${r.stdout}${r.stderr}`);
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} > 2.0:\n${r.stdout}`);
});

test('the unit restarts on failure, stops with SIGTERM and waits longer than the drain of its config', () => {
  assert.equal(one('Type'), 'simple', 'the node does not speak sd_notify');
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.equal(one('KillMode'), 'mixed', 'SIGTERM to the node only; tool processes run on while it drains');
  assert.equal(service.get('RestartPreventExitStatus'), undefined, 'exit 75 (emergency stop) and 2 must restart');
  // Worst case of the drain: the grace, up to 2 s for aborted requests to settle, the halting budget.
  const drainBudgetMs = config.drain.graceMs + Math.min(config.drain.haltMs, 2000) + config.drain.haltMs;
  const stopMs = systemdSpanMs(one('TimeoutStopSec'));
  assert.ok(stopMs > config.drain.graceMs, 'TimeoutStopSec > drain.graceMs');
  assert.ok(stopMs > drainBudgetMs, `TimeoutStopSec ${stopMs} ms > drain budget ${drainBudgetMs} ms (grace ${config.drain.graceMs} + halt ${config.drain.haltMs} + 2000)`);
  // The config in ExecStart is the one checked here.
  assert.match(one('ExecStart'), / --config \/etc\/andon\/andon\.yaml$/);
});

test('the state directory is the unit\'s StateDirectory, writable under ProtectSystem=strict, and the config agrees', () => {
  assert.equal(one('StateDirectory'), 'andon');
  assert.equal(config.stateDir, '/var/lib/andon');
  assert.ok(service.get('Environment')!.includes('ANDON_STATE_DIR=/var/lib/andon'));
  assert.equal(one('ReadWritePaths'), '/var/lib/andon');
  for (const [k, v] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['PrivateTmp', 'yes'],
    ['ProtectHome', 'yes'],
    ['CapabilityBoundingSet', ''],
  ] as const)
    assert.equal(one(k), v, `${k}=${v}`);
  assert.ok(Number(one('LimitNOFILE')) >= 65536, 'LimitNOFILE raised');
  assert.equal(service.get('MemoryDenyWriteExecute'), undefined, "V8's JIT needs W+X pages");
  assert.equal(one('User'), 'andon');
});

test('the sysusers file creates the unit\'s user and group (systemd-sysusers --root into a temp dir)', async () => {
  const bin = execFileSync('sh', ['-c', 'command -v systemd-sysusers || true'], { encoding: 'utf8' }).trim();
  assert.ok(bin, 'systemd-sysusers is not installed: the Debian package `systemd` must be installed (.ci/run)');
  const root = join(tmp, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  const r = await run(bin, [`--root=${root}`, SYSUSERS_FILE]);
  assert.equal(r.code, 0, r.stderr);
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  assert.match(passwd, new RegExp(`^${one('User')}:x:\\d+:\\d+:[^:]*:/var/lib/andon:/usr/sbin/nologin$`, 'm'));
  assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), new RegExp(`^${one('Group')}:x:\\d+:`, 'm'));
});

test('ExecStart with the shipped config serves: /health/live and /health/ready 200, SIGTERM exits 0 within TimeoutStopSec', async () => {
  const state = join(tmp, 'state');
  mkdirSync(state);
  const argv = localUnit()
    .match(/^ExecStart=(.*)$/m)![1]!
    .split(/\s+/)
    .map((a) => (a === '/etc/andon/andon.yaml' ? CONFIG_FILE : a));
  // The unit's Environment= lines, the state directory moved to a temp dir, the ports to free ones.
  const env: Record<string, string> = {};
  for (const e of service.get('Environment') ?? []) {
    const [k, ...v] = e.split('=');
    env[k!] = v.join('=');
  }
  const node = await startOnFreePorts((port, opsPort) => ({ argv, cwd: state, env: cleanEnv(tmp, { ...env, ANDON_STATE_DIR: state, PORT: String(port), OPS_PORT: String(opsPort) }) }));
  const { opsPort } = node;
  try {
    for (const path of ['/health/live', '/health/ready']) {
      const res = await fetch(`http://127.0.0.1:${opsPort}${path}`);
      assert.equal(res.status, 200, `${path}: ${await res.text()}`);
    }
    assert.ok(existsSync(join(state, 'admin-token')), 'the admin token was generated into the state directory');
    node.child.kill(one('KillSignal') as NodeJS.Signals);
    const r = await withTimeout(node.exited, systemdSpanMs(one('TimeoutStopSec')), 'the node to drain and exit');
    assert.deepEqual(r, { code: 0, signal: null }, node.stderr());
    assert.match(node.stderr(), /drain: stopped/);
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
  }
});
