/** The configuration loader: schema errors, layers and their precedence, YAML and JSON files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { runtimeOptionsFromConfig } from '../../src/config/runtime-options.js';
import { printConfig, redactConfig } from '../../src/config/print.js';
import { isError } from '../../src/errors/catalogue.js';
import { ConfigErrors } from '../../src/errors/config.js';

function dir(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'andon-config-'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `ConfigError, got ${String(err)}`);
    assert.ok(isError(err, ConfigErrors.Invalid) || isError(err, ConfigErrors.NotFound));
    return err.errors;
  }
  assert.fail('expected a ConfigError');
}

test('no file, no environment: every default', () => {
  const { config, file } = loadConfig({ cwd: dir(), env: {} });
  assert.equal(file, undefined);
  assert.equal(config.http.port, 3000);
  assert.equal(config.http.host, '127.0.0.1');
  assert.equal(config.ops.port, 9464);
  assert.equal(config.drain.graceMs, 30_000);
  assert.equal(config.drain.haltMs, 10_000);
  assert.equal(config.logging.level, 'info');
  assert.equal(config.stateDir, './.andon');
  assert.equal(config.alerts, undefined);
});

test('an unknown key is refused with its path and the known keys', () => {
  const cwd = dir({ 'andon.config.yaml': 'http:\n  prot: 8080\n' });
  const [e] = errorsOf(() => loadConfig({ cwd, env: {} }));
  assert.match(e!, /^http\.prot: unknown key \(known: enabled, port, host/);
  const [top] = errorsOf(() => loadConfig({ cwd: dir({ 'andon.config.yaml': 'htp: {}\n' }), env: {} }));
  assert.match(top!, /^htp: unknown key/);
});

test('a wrong type is refused with path, expectation and the value given', () => {
  const cwd = dir({ 'andon.config.yaml': 'http:\n  port: abc\ndrain:\n  graceMs: -1\nlogging:\n  level: loud\n' });
  const errors = errorsOf(() => loadConfig({ cwd, env: {} }));
  assert.ok(errors.includes('http.port: expected integer 0-65535, got "abc"'), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('drain.graceMs: expected a non-negative integer (ms), got -1')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('logging.level: expected one of trace')), errors.join('\n'));
  try {
    loadConfig({ cwd, env: {} });
  } catch (err) {
    assert.match((err as Error).message, /^config error: http\.port: expected integer 0-65535, got "abc"/);
  }
});

test('missing required keys, wrong sections and unknown channel types read plainly', () => {
  const cwd = dir({ 'andon.config.yaml': 'stdio: "yes"\nobservability:\n  metrics: 5\nalerts:\n  channels:\n    x: { type: sms }\n    m: { type: email, from: a@b }\n' });
  const errors = errorsOf(() => loadConfig({ cwd, env: {} }));
  for (const e of [
    'stdio: expected a boolean, got "yes"',
    'observability.metrics: expected a mapping, got 5',
    'alerts.channels.x.type: expected "type" to be one of slack, pagerduty, email, webhook, twilio, got "sms"',
    'alerts.channels.m.host: required (expected a non-empty string)',
    'alerts.channels.m.to: required (expected a recipient or a non-empty list of recipients)',
  ]) {
    assert.ok(errors.includes(e), `${e}\nin:\n${errors.join('\n')}`);
  }
});

test('an environment override is validated and named in the error', () => {
  const errors = errorsOf(() => loadConfig({ cwd: dir(), env: { PORT: 'abc' } }));
  assert.deepEqual(errors, ['http.port: expected integer 0-65535, got "abc" (from PORT)']);
  const bad = errorsOf(() => loadConfig({ cwd: dir(), env: { ANDON_TRACE_PROPAGATION: 'maybe' } }));
  assert.match(bad[0]!, /^observability\.tracing\.propagate: .*got "maybe" \(from ANDON_TRACE_PROPAGATION\)/);
});

test('precedence: defaults < file < environment < flags', () => {
  const cwd = dir({ 'andon.config.yaml': 'http:\n  port: 4000\n  host: 0.0.0.0\ndrain:\n  graceMs: 1000\n  haltMs: 2000\n' });
  const file = loadConfig({ cwd, env: {} }).config;
  assert.equal(file.http.port, 4000);
  assert.equal(file.drain.graceMs, 1000);
  assert.equal(file.ops.port, 9464, 'untouched keys keep their default');
  const env = loadConfig({ cwd, env: { PORT: '5000', ANDON_DRAIN_GRACE_MS: '7' } });
  assert.equal(env.config.http.port, 5000);
  assert.equal(env.config.http.host, '0.0.0.0', 'env overrides one key, not the section');
  assert.equal(env.config.drain.graceMs, 7);
  assert.equal(env.config.drain.haltMs, 2000);
  assert.equal(env.sources.get('http.port'), 'PORT');
  assert.equal(env.sources.get('http.host'), 'file');
  const flags = loadConfig({ cwd, env: { PORT: '5000' }, overrides: { 'http.port': 6000 }, overrideNames: { 'http.port': '--port' } });
  assert.equal(flags.config.http.port, 6000);
  assert.equal(flags.sources.get('http.port'), '--port');
  const [e] = errorsOf(() => loadConfig({ cwd, env: {}, overrides: { 'http.port': 'x' }, overrideNames: { 'http.port': '--port' } }));
  assert.equal(e, 'http.port: expected integer 0-65535, got "x" (from --port)');
});

test('YAML and JSON files, ANDON_CONFIG and --config, and their errors', () => {
  const yaml = dir({ 'andon.config.yaml': '# comment\nops:\n  port: 9999\n' });
  assert.equal(loadConfig({ cwd: yaml, env: {} }).config.ops.port, 9999);
  const json = dir({ 'andon.config.json': '{"ops": {"port": 9998}}' });
  assert.equal(loadConfig({ cwd: json, env: {} }).config.ops.port, 9998);
  const named = dir({ 'mine.json': '{"stateDir": "/tmp/x"}', 'other.yml': 'stateDir: /tmp/y\n' });
  assert.equal(loadConfig({ cwd: named, env: { ANDON_CONFIG: 'mine.json' } }).config.stateDir, '/tmp/x');
  assert.equal(loadConfig({ cwd: named, env: { ANDON_CONFIG: 'mine.json' }, file: 'other.yml' }).config.stateDir, '/tmp/y', '--config wins over ANDON_CONFIG');
  assert.match(errorsOf(() => loadConfig({ cwd: named, env: {}, file: 'missing.yaml' }))[0]!, /cannot read config file .*missing\.yaml: no such file/);
  assert.match(errorsOf(() => loadConfig({ cwd: dir({ 'andon.config.yaml': '', 'andon.config.json': '{}' }), env: {} }))[0]!, /more than one config file/);
  assert.match(errorsOf(() => loadConfig({ cwd: dir({ 'andon.config.json': '{"http": ' }), env: {} }))[0]!, /andon\.config\.json: /);
  assert.match(errorsOf(() => loadConfig({ cwd: dir({ 'andon.config.yaml': 'http: [1, 2\n' }), env: {} }))[0]!, /andon\.config\.yaml: /);
  assert.match(errorsOf(() => loadConfig({ cwd: dir({ 'andon.config.yaml': '- a\n- b\n' }), env: {} }))[0]!, /top level must be a mapping/);
  assert.equal(loadConfig({ cwd: dir({ 'andon.config.yaml': '' }), env: {} }).config.http.port, 3000, 'an empty file is an empty config');
});

test('alerts: same shape as ANDON_ALERTS_CONFIG, secret literals refused, references checked', () => {
  const ok = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    pd: { type: pagerduty, routingKeyEnv: PD_KEY }\n  routes: { critical: [pd] }\n' });
  const a = loadConfig({ cwd: ok, env: {} }).config.alerts!;
  assert.equal(a.channels.pd!.type, 'pagerduty');
  assert.equal(a.dedupWindowMs, 300_000);
  const literal = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    pd: { type: pagerduty, routingKey: abc123 }\n' });
  assert.match(errorsOf(() => loadConfig({ cwd: literal, env: {} }))[0]!, /alerts\.channels\.pd\.routingKey is a secret literal.*routingKeyEnv/);
  const slackUrl = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    w: { type: webhook, url: "https://hooks.slack.com/services/T/B/x" }\n' });
  assert.match(errorsOf(() => loadConfig({ cwd: slackUrl, env: {} }))[0]!, /Slack webhook URL/);
  const refs = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    s: { type: slack, fallback: nope }\n  routes: { warning: [ghost] }\n' });
  const errors = errorsOf(() => loadConfig({ cwd: refs, env: {} }));
  assert.ok(errors.includes('alerts.channels.s.fallback: names an unknown channel "nope"'), errors.join('\n'));
  assert.ok(errors.includes('alerts.routes.warning: names an unknown channel "ghost"'), errors.join('\n'));
  const unknown = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    s: { type: slack, colour: red }\n' });
  assert.match(errorsOf(() => loadConfig({ cwd: unknown, env: {} }))[0]!, /^alerts\.channels\.s\.colour: unknown key/);
  // ANDON_ALERTS_CONFIG replaces the file's section whole.
  const envFile = join(dir({ 'alerts.json': JSON.stringify({ alerts: { channels: { hook: { type: 'webhook', url: 'https://example.com/h' } } } }) }), 'alerts.json');
  const replaced = loadConfig({ cwd: ok, env: { ANDON_ALERTS_CONFIG: envFile } });
  assert.deepEqual(Object.keys(replaced.config.alerts!.channels), ['hook']);
  assert.equal(replaced.sources.get('alerts'), 'ANDON_ALERTS_CONFIG');
  assert.match(errorsOf(() => loadConfig({ cwd: ok, env: { ANDON_ALERTS_CONFIG: '/nonexistent.json' } }))[0]!, /^ANDON_ALERTS_CONFIG=\/nonexistent\.json: cannot read/);
});

test('runtimeOptionsFromConfig maps every section onto RuntimeOptions', () => {
  const cwd = dir({ 'andon.config.yaml': 'http:\n  port: 0\n  host: 0.0.0.0\nops:\n  port: 0\n  metricsAuth: true\ndrain: { graceMs: 5, haltMs: 6 }\nobservability:\n  metrics: { enabled: false }\n' });
  const o = runtimeOptionsFromConfig(loadConfig({ cwd, env: {} }).config);
  assert.ok(o.http);
  assert.equal(o.http.port, 0);
  assert.equal(o.http.allowedHosts, '*', 'bound beyond loopback: any Host accepted unless listed');
  assert.deepEqual(o.ops, { port: 0, host: '127.0.0.1', dashboard: { sessionTtlMs: 8 * 60 * 60 * 1000 } });
  assert.deepEqual(o.drain, { graceMs: 5, haltMs: 6 });
  assert.ok(o.observability);
  assert.equal(o.observability.metrics, false);
  assert.equal(o.observability.metricsAuth, true);
  assert.equal(o.observability.alerts, undefined);
  // Over stdio the ops listener is opt-in (several stdio servers may run at once)…
  const stdio = runtimeOptionsFromConfig(loadConfig({ cwd: dir(), env: {}, overrides: { stdio: true, 'http.enabled': false } }).config);
  assert.equal(stdio.http, false);
  assert.equal(stdio.ops, false);
  // …and OPS_PORT asks for it.
  const withOps = runtimeOptionsFromConfig(loadConfig({ cwd: dir(), env: { OPS_PORT: '0' }, overrides: { stdio: true, 'http.enabled': false } }).config);
  assert.deepEqual(withOps.ops, { port: 0, host: '127.0.0.1', dashboard: { sessionTtlMs: 8 * 60 * 60 * 1000 } });
  // The dashboard section: on by default on the ops listener, or off.
  const noDash = runtimeOptionsFromConfig(loadConfig({ cwd: dir({ 'andon.config.yaml': 'dashboard:\n  enabled: false\n' }), env: {} }).config);
  assert.deepEqual(noDash.ops, { port: 9464, host: '127.0.0.1', dashboard: false });
  const ttl = runtimeOptionsFromConfig(loadConfig({ cwd: dir({ 'andon.config.yaml': 'dashboard: { sessionTtlMs: 60000 }\n' }), env: {} }).config);
  assert.deepEqual(ttl.ops && ttl.ops.dashboard, { sessionTtlMs: 60_000 });
});

test('print redacts secrets and shows env references as ${NAME}', () => {
  const cwd = dir({ 'andon.config.yaml': 'alerts:\n  channels:\n    pd: { type: pagerduty, routingKeyEnv: PD_KEY }\n    w: { type: webhook, url: "https://example.com/h", secretEnv: HOOK_SECRET, headers: { authorization-x: abc, x-team: ops } }\n' });
  const { config, file, sources } = loadConfig({ cwd, env: { PD_KEY: 'super-secret-value', PORT: '3100' } });
  const json = printConfig(config, { json: true });
  const parsed = JSON.parse(json) as { alerts: { channels: Record<string, Record<string, unknown>> } };
  assert.equal(parsed.alerts.channels.pd!.routingKeyEnv, '${PD_KEY}');
  assert.equal(parsed.alerts.channels.w!.secretEnv, '${HOOK_SECRET}');
  assert.deepEqual(parsed.alerts.channels.w!.headers, { 'authorization-x': '[REDACTED]', 'x-team': 'ops' });
  assert.ok(!json.includes('super-secret-value'));
  const yaml = printConfig(config, { file, sources });
  assert.match(yaml, /^# effective andon configuration/);
  assert.match(yaml, /# overridden: http\.port from PORT/);
  assert.match(yaml, /port: 3100/);
  assert.deepEqual(redactConfig({ token: 'x', apiKey: 'y', nested: { password: 'z', ok: 1 } }), { token: '[REDACTED]', apiKey: '[REDACTED]', nested: { password: '[REDACTED]', ok: 1 } });
});
