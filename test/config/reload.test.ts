/**
 * ConfigReloader: what a reload applies, what it reports as needing a restart, and that a bad
 * configuration changes nothing. And AlertManager.reconfigure, which a reload of `alerts` calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigReloader, diffConfig, isReloadable, type ReloadTarget } from '../../src/config/reload.js';
import type { AlertsSection } from '../../src/config/schema.js';
import { AlertManager } from '../../src/observability/alerts/manager.js';
import type { Alert, AlertChannel } from '../../src/observability/alerts/types.js';
import { createLogger } from '../../src/util/logger.js';
import { Writable } from 'node:stream';

function setup(initial: string) {
  const dir = mkdtempSync(join(tmpdir(), 'andon-reload-'));
  const file = join(dir, 'andon.config.yaml');
  writeFileSync(file, initial);
  const calls: string[] = [];
  let alerts: AlertsSection | undefined;
  let failAlerts: string | undefined;
  const target: ReloadTarget = {
    setLogLevel: (l) => calls.push(`level=${l}`),
    setDrain: (d) => calls.push(`drain=${d.graceMs}/${d.haltMs}`),
    prepareAlerts: (a) => {
      if (failAlerts) throw new Error(failAlerts);
      return () => {
        alerts = a;
        calls.push('alerts');
      };
    },
  };
  const load = () => loadConfig({ file, env: {} });
  const reloader = new ConfigReloader({ load, current: load().config, target });
  return {
    reloader,
    calls,
    write: (t: string) => writeFileSync(file, t),
    alerts: () => alerts,
    failAlertsWith: (m: string) => (failAlerts = m),
  };
}

const BASE = 'http:\n  port: 3000\nlogging:\n  level: info\nalerts:\n  channels:\n    a: { type: webhook, url: "https://example.com/a" }\n';

test('a reload applies alerts, log level and drain budgets, and reports restart-only changes', () => {
  const s = setup(BASE);
  assert.deepEqual(s.reloader.reload(), { ok: true, file: s.reloader.reload().file, applied: [], needsRestart: [], errors: [] });
  s.write('http:\n  port: 3001\nlogging:\n  level: debug\ndrain:\n  graceMs: 5\nalerts:\n  channels:\n    a: { type: webhook, url: "https://example.com/a" }\n    b: { type: webhook, url: "https://example.com/b" }\n  routes: { critical: [b] }\n');
  const r = s.reloader.reload();
  assert.equal(r.ok, true);
  assert.deepEqual(r.applied.sort(), ['alerts', 'drain.graceMs', 'logging.level']);
  assert.deepEqual(r.needsRestart, ['http.port']);
  assert.deepEqual(s.calls.sort(), ['alerts', 'drain=5/10000', 'level=debug']);
  assert.deepEqual(Object.keys(s.alerts()!.channels), ['a', 'b']);
  assert.equal(s.reloader.current.logging.level, 'debug');
  assert.equal(s.reloader.current.http.port, 3000, 'current shows what runs: the port needs a restart');
  // Same file again: nothing to apply, the port still differs from what runs.
  s.calls.length = 0;
  const again = s.reloader.reload();
  assert.deepEqual(again.applied, []);
  assert.deepEqual(again.needsRestart, ['http.port']);
  assert.deepEqual(s.calls, []);
});

test('an invalid configuration is rejected whole and the previous one stays in effect', () => {
  const s = setup(BASE);
  s.write('logging:\n  level: debug\nhttp:\n  port: abc\n');
  const r = s.reloader.reload();
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, ['http.port: expected integer 0-65535, got "abc"']);
  assert.deepEqual(s.calls, [], 'nothing applied, not even the valid log level');
  assert.equal(s.reloader.current.logging.level, 'info');
});

test('alerts that cannot be built (unset secret) reject the whole reload', () => {
  const s = setup(BASE);
  s.failAlertsWith('alerts.channels.a: environment variable HOOK_SECRET is not set');
  s.write(BASE.replace('level: info', 'level: warn').replace('/a"', '/a2"'));
  const r = s.reloader.reload();
  assert.equal(r.ok, false);
  assert.match(r.errors[0]!, /HOOK_SECRET is not set/);
  assert.deepEqual(s.calls, []);
  assert.equal(s.reloader.current.logging.level, 'info');
});

test('a target without a part reports its change as needing a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-reload-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'logging: { level: info }\n');
  const load = () => loadConfig({ file, env: {} });
  const reloader = new ConfigReloader({ load, current: load().config, target: {} });
  writeFileSync(file, 'logging: { level: warn }\nalerts:\n  channels:\n    a: { type: webhook, url: "https://example.com/a" }\n');
  const r = reloader.reload();
  assert.deepEqual(r.applied, []);
  assert.deepEqual(r.needsRestart.sort(), ['alerts', 'logging.level']);
});

test('diffConfig and isReloadable', () => {
  assert.deepEqual(diffConfig({ a: { b: 1, c: [1] } }, { a: { b: 2, c: [1] } }), ['a.b']);
  assert.deepEqual(diffConfig({ alerts: { x: 1 } }, { alerts: { x: 2 } }), ['alerts']);
  assert.ok(isReloadable('alerts'));
  assert.ok(isReloadable('drain.graceMs'));
  assert.ok(!isReloadable('drain'));
  assert.ok(!isReloadable('http.port'));
  assert.ok(!isReloadable('logging.file'));
});

class Recorder implements AlertChannel {
  readonly type = 'test';
  readonly sent: string[] = [];
  closed = false;
  constructor(readonly name: string) {}
  send(alert: Alert): Promise<void> {
    this.sent.push(alert.title);
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
}

test('AlertManager.reconfigure swaps channels and routes, keeps dedup memory, closes replaced channels', async () => {
  const a = new Recorder('a');
  const m = new AlertManager({ channels: [a], dedupWindowMs: 60_000 });
  await m.alert('critical', 'disk full').delivered;
  assert.deepEqual(a.sent, ['disk full']);
  const b = new Recorder('b');
  const c = new Recorder('c');
  assert.throws(() => m.reconfigure({ channels: [b], routes: { critical: ['nope'] } }), /unknown channel "nope"/);
  assert.deepEqual(m.channelNames(), ['a'], 'a rejected reconfigure changes nothing');
  m.reconfigure({ channels: [b, c], routes: { critical: ['c'], warning: ['b'] }, dedupWindowMs: 60_000 });
  assert.deepEqual(m.channelNames(), ['b', 'c']);
  assert.deepEqual(m.route('critical'), ['c']);
  assert.equal(m.alert('critical', 'disk full').status, 'suppressed', 'dedup memory survives a reload');
  await m.alert('critical', 'cpu hot').delivered;
  await m.alert('warning', 'slow').delivered;
  assert.deepEqual(c.sent, ['cpu hot']);
  assert.deepEqual(b.sent, ['slow']);
  await m.idle();
  await new Promise((r) => setImmediate(r));
  assert.equal(a.closed, true, 'the replaced channel is released');
  assert.equal(b.closed, false);
  await m.close();
});

test('logger.setLevel reaches children made before the change (the alerts logger is one)', async () => {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const log = createLogger({ level: 'info', destination });
  const child = log.child({ component: 'alerts' });
  child.debug({}, 'hidden');
  log.setLevel('debug');
  child.debug({}, 'shown');
  log.debug({}, 'root shown');
  log.setLevel('warn');
  child.info({}, 'hidden again');
  await new Promise((r) => setImmediate(r));
  const msgs = lines.join('').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.deepEqual(msgs, ['shown', 'root shown']);
});
