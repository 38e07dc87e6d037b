/**
 * The alert manager's behaviour against real receivers: retry then success, retry exhaustion
 * then fallback, deduplication within the window and release after it (injected clock), force,
 * a caller never blocked by a slow receiver, ordering within an incident, the persisted history,
 * the admin routes, the secret-literal refusal, the runtime-event wiring and the metrics.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpsServer } from '../../src/admin/ops-server.js';
import { channels } from '../../src/runtime/events.js';
import {
  AlertConfigError,
  AlertManager,
  AndonMetrics,
  HealthMonitor,
  buildAlertChannels,
  loadAlertsConfig,
  mountObservability,
  readHistoryFile,
  wireAlerts,
} from '../../src/observability/index.js';
import { TestClock } from '../../src/util/clock.js';
import { startReceiver, validateSlack, validatePagerDuty, webhookValidator, slackOk, pagerDutyOk, webhookOk, type HttpReceiver } from './receivers.js';

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** A test clock: backoff and dedup windows move without real waiting. */
const fakeClock = (start = Date.parse('2026-01-01T00:00:00Z')) => new TestClock(start);

async function receiver(...args: Parameters<typeof startReceiver>): Promise<HttpReceiver> {
  const r = await startReceiver(...args);
  cleanup.push(() => r.close());
  return r;
}

function manager(env: Record<string, string>, config: Parameters<typeof buildAlertChannels>[0], extra: Partial<ConstructorParameters<typeof AlertManager>[0]> = {}): AlertManager {
  const built = buildAlertChannels(config, env);
  const m = new AlertManager({ channels: built.channels, routes: built.routes, fallbacks: built.fallbacks, random: () => 0.5, ...extra });
  cleanup.push(() => m.close(200));
  return m;
}

describe('retries, fallback, dedup, force, never blocking', () => {
  test('retry then success: 503, 503, then 200 — three attempts with exponential backoff', async () => {
    const slack = await receiver(validateSlack, (_r, n) => (n < 3 ? { status: 503, body: 'service_unavailable' } : { status: 200, body: 'ok' }));
    const clock = fakeClock();
    const m = manager({ U: `${slack.url}/hook` }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } }, { clock, retry: { baseMs: 1000 } });
    const rec = await clock.runUntil(m.alert('warning', 'flaky receiver', {}).delivered);
    assert.equal(rec?.status, 'sent');
    assert.equal(rec?.deliveries[0]?.attempts, 3);
    assert.equal(slack.received.length, 3);
    assert.deepEqual(clock.scheduled, [1000, 2000], 'backoff doubles (jitter centred by random=0.5)');
    assert.equal(clock.now() - Date.parse('2026-01-01T00:00:00Z'), 3000, 'only the clock moved for the backoff');
  });

  test('Retry-After from a 429 is honoured', async () => {
    const slack = await receiver(validateSlack, (_r, n) => (n === 1 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } } : { status: 200, body: 'ok' }));
    const clock = fakeClock();
    const m = manager({ U: slack.url }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } }, { clock, retry: { baseMs: 100 } });
    assert.equal((await clock.runUntil(m.alert('info', 'rate limited', {}).delivered))?.status, 'sent');
    assert.deepEqual(clock.scheduled, [7000]);
  });

  test('retry exhaustion then fallback: Slack fails 3 times, the webhook fallback delivers', async () => {
    const slack = await receiver(validateSlack, () => ({ status: 500, body: 'internal_error' }));
    const hook = await receiver(webhookValidator('fallback-secret-1'), webhookOk);
    const clock = fakeClock();
    const m = manager(
      { U: slack.url, S: 'fallback-secret-1' },
      { routes: { critical: ['slack'] }, channels: { slack: { type: 'slack', webhookUrlEnv: 'U', fallback: 'hook' }, hook: { type: 'webhook', url: hook.url, secretEnv: 'S' } } },
      { clock },
    );
    const rec = await clock.runUntil(m.alert('critical', 'primary down', { n: 1 }).delivered);
    assert.equal(slack.received.length, 3, 'three attempts on the primary');
    assert.equal(hook.received.length, 1);
    assert.deepEqual(hook.received[0]!.problems, []);
    assert.equal(rec?.status, 'sent');
    assert.deepEqual(
      rec?.deliveries.map((d) => [d.channel, d.ok, d.attempts, d.fallbackOf]),
      [
        ['slack', false, 3, undefined],
        ['hook', true, 1, 'slack'],
      ],
    );
    assert.match(rec!.deliveries[0]!.error!, /HTTP 500/);
  });

  test('a fallback chain that fails everywhere ends failed, and loops are cut', async () => {
    const a = await receiver(validateSlack, () => ({ status: 502 }));
    const clock = fakeClock();
    const m = manager({ U: a.url, P: 'K'.repeat(32) }, { channels: { a: { type: 'slack', webhookUrlEnv: 'U', fallback: 'b' }, b: { type: 'pagerduty', routingKeyEnv: 'P', url: a.url, fallback: 'a' } } }, { clock, retry: { attempts: 2 } });
    const rec = await clock.runUntil(m.alert('critical', 'everything is down', {}, { channels: ['a'] }).delivered);
    assert.equal(rec?.status, 'failed');
    assert.deepEqual(rec?.deliveries.map((d) => d.channel), ['a', 'b']);
  });

  test('deduplication within the window, release after it, and force-send', async () => {
    const slack = await receiver(validateSlack, slackOk);
    const clock = fakeClock();
    const m = manager({ U: slack.url }, { dedupWindowMs: 300_000, channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } }, { clock });
    const first = m.alert('warning', 'disk filling', { disk: '/var', pct: 91 });
    assert.equal(first.status, 'queued');
    await first.delivered;
    await clock.advance(60_000);
    const dup = m.alert('warning', 'disk filling', { pct: 91, disk: '/var' });
    assert.equal(dup.status, 'suppressed', 'same severity, title and context (key order irrelevant)');
    assert.equal(dup.id, first.id);
    assert.equal(m.alert('warning', 'disk filling', { disk: '/var', pct: 92 }).status, 'queued', 'different context is a different alert');
    assert.equal(m.alert('critical', 'disk filling', { disk: '/var', pct: 91 }).status, 'queued', 'different severity too');
    const forced = m.alert('warning', 'disk filling', { disk: '/var', pct: 91 }, { force: true });
    assert.equal(forced.status, 'queued', 'force sends inside the window');
    await forced.delivered;
    // The window runs from the last alert sent (here the forced one).
    await clock.advance(299_000);
    assert.equal(m.alert('warning', 'disk filling', { disk: '/var', pct: 91 }).status, 'suppressed');
    await clock.advance(1_001);
    const released = m.alert('warning', 'disk filling', { disk: '/var', pct: 91 });
    assert.equal(released.status, 'queued', 'released after the window');
    await released.delivered;
    await m.idle();
    assert.equal(slack.received.length, 5);
    assert.equal(m.history().find((r) => r.id === first.id)?.suppressed, 1);
    assert.equal(m.history().find((r) => r.id === forced.id)?.suppressed, 1);
  });

  test('a caller is never blocked by a slow receiver; other alerts keep flowing', async () => {
    const slow = await receiver(validateSlack, () => 'hang');
    const fast = await receiver(validatePagerDuty, pagerDutyOk);
    const m = manager({ U: slow.url, P: 'K'.repeat(32) }, { channels: { slow: { type: 'slack', webhookUrlEnv: 'U' }, fast: { type: 'pagerduty', routingKeyEnv: 'P', url: `${fast.url}/v2/enqueue` } } }, { timeoutMs: 1500, retry: { attempts: 1 } });
    // Event-loop responsiveness while the slow delivery is pending.
    let maxLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    try {
      const t0 = performance.now();
      const receipts = [];
      for (let i = 0; i < 50; i++) receipts.push(m.alert('warning', `slow ${i}`, { i }, { channels: ['slow'] }));
      const elapsed = performance.now() - t0;
      assert.ok(elapsed < 50, `50 alerts took ${elapsed.toFixed(1)} ms to raise`);
      assert.ok(receipts.every((r) => r.status === 'queued'));
      await slow.waitFor(1);
      // The slow receiver holds its connection; a critical alert on another channel still goes out.
      const crit = m.alert('critical', 'meanwhile', {}, { channels: ['fast'] });
      const t1 = performance.now();
      const rec = await crit.delivered;
      assert.equal(rec?.status, 'sent');
      assert.ok(performance.now() - t1 < 1400, 'not stuck behind the slow one');
      assert.ok(maxLag < 200, `event loop stayed responsive (max lag ${maxLag.toFixed(0)} ms)`);
      const stuck = await receipts[0]!.delivered;
      assert.equal(stuck?.status, 'failed');
      assert.match(stuck!.deliveries[0]!.error!, /timed out/);
    } finally {
      clearInterval(ticker);
    }
  });

  test('alerts of one incident are delivered in order: a resolve never overtakes its trigger', async () => {
    const pd = await receiver(validatePagerDuty, (r) => (r.json.event_action === 'trigger' ? { status: 202, body: '{}', delayMs: 150 } : { status: 202, body: '{}' }));
    const m = manager({ P: 'K'.repeat(32) }, { channels: { pd: { type: 'pagerduty', routingKeyEnv: 'P', url: `${pd.url}/v2/enqueue` } } });
    m.alert('critical', 'flap', {}, { incident: 'inc-1' });
    const res = m.resolve('inc-1');
    await res.delivered;
    assert.deepEqual(pd.received.map((r) => r.json.event_action), ['trigger', 'resolve']);
  });
});

describe('history, admin API, configuration', () => {
  test('history is persisted (temp + fsync + rename) and read back by a new manager', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-alerts-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const slack = await receiver(validateSlack, slackOk);
    const m = manager({ U: slack.url }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } }, { stateDir: dir, historySize: 3 });
    for (let i = 0; i < 5; i++) await m.alert('info', `event ${i}`, {}).delivered;
    await m.close(100);
    const onDisk = readHistoryFile(dir);
    assert.deepEqual(onDisk.map((r) => r.title), ['event 4', 'event 3', 'event 2'], 'newest first, last N');
    assert.ok(onDisk.every((r) => r.status === 'sent'));
    const again = manager({ U: slack.url }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } }, { stateDir: dir, historySize: 3 });
    assert.equal(again.history()[0]?.title, 'event 4');
  });

  test('GET /admin/alerts and POST /admin/alerts/test on the ops listener', async () => {
    const slack = await receiver(validateSlack, slackOk);
    const m = manager({ U: slack.url }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } });
    const ops = new OpsServer({ token: 'ops-token-123456', port: 0 });
    mountObservability(ops, { alerts: m });
    const url = await ops.listen();
    cleanup.push(() => ops.close());
    const auth = { authorization: 'Bearer ops-token-123456' };
    assert.equal((await fetch(`${url}/admin/alerts`)).status, 401, 'needs the admin token');
    const t = await fetch(`${url}/admin/alerts/test`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'slack' }) });
    assert.equal(t.status, 200);
    const rec = (await t.json()) as { status: string; test: boolean };
    assert.equal(rec.status, 'sent');
    assert.equal(rec.test, true);
    assert.match(slack.received[0]!.json.text, /\[TEST\]/);
    const bad = await fetch(`${url}/admin/alerts/test`, { method: 'POST', headers: auth, body: JSON.stringify({ channel: 'nope' }) });
    assert.equal(bad.status, 400);
    const list = (await (await fetch(`${url}/admin/alerts?limit=5`, { headers: auth })).json()) as { alerts: Array<{ title: string }>; channels: string[] };
    assert.equal(list.alerts[0]?.title, 'Test alert from andon-mcp');
    assert.deepEqual(list.channels, ['slack']);
  });

  test('a config with a secret literal is refused with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-cfg-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cases: Array<[unknown, RegExp]> = [
      [{ channels: { pd: { type: 'pagerduty', routingKey: 'abcdef0123456789abcdef0123456789' } } }, /alerts\.channels\.pd\.routingKey is a secret literal.*"routingKeyEnv"/],
      [{ channels: { s: { type: 'slack', webhookUrlEnv: 'X', note: 'https://hooks.slack.com/services/T0/B0/abc' } } }, /alerts\.channels\.s\.note holds a Slack webhook URL/],
      [{ channels: { e: { type: 'email', host: 'h', from: 'a@b', to: ['c@d'], password: 'hunter22' } } }, /password is a secret literal.*"passwordEnv"/],
      [{ channels: { w: { type: 'webhook', url: 'https://example.com/hook?token=abc123', secretEnv: 'S' } } }, /credential in its query/],
      [{ channels: { w: { type: 'webhook', url: 'https://user:pw@example.com/hook', secretEnv: 'S' } } }, /URL with credentials/],
      [{ channels: { t: { type: 'twilio', enabled: true, authToken: 'tok-123456', from: '+1', to: ['+1'] } } }, /authToken is a secret literal/],
    ];
    for (const [cfg, re] of cases) {
      const file = join(dir, 'andon.json');
      writeFileSync(file, JSON.stringify({ alerts: cfg }));
      assert.throws(() => loadAlertsConfig(file), (e: unknown) => e instanceof AlertConfigError && re.test((e as Error).message), `refused: ${JSON.stringify(cfg)}`);
      assert.throws(() => buildAlertChannels(cfg as never, {}), AlertConfigError);
    }
    assert.throws(() => buildAlertChannels({ channels: { s: { type: 'slack' } } }, {}), /environment variable SLACK_WEBHOOK_URL is not set/);
    assert.throws(() => buildAlertChannels({ routes: { critical: ['nope'] }, channels: {} }, {}), /unknown channel: "nope"/);
  });
});

describe('wiring runtime events to alerts, and alert metrics', () => {
  test('halt → critical, resume → resolve; restart intensity is the halt\'s one alert; drain forced; health transitions', async () => {
    const hook = await receiver(webhookValidator('wiring-secret-1'), webhookOk);
    const m = manager({ S: 'wiring-secret-1' }, { channels: { hook: { type: 'webhook', url: hook.url, secretEnv: 'S' } } });
    const metrics = new AndonMetrics({ defaultMetrics: false }).start();
    const unwire = wireAlerts(m);
    const health = new HealthMonitor({ failureThreshold: 2 });
    try {
      channels.component.publish({ id: 'tool:search', kind: 'tool', from: 'normal', to: 'halted_fatal', reason: 'restart intensity exceeded' });
      channels.component.publish({ id: 'tool:search', kind: 'tool', from: 'halted_fatal', to: 'normal', reason: 'resumed by admin-api' });
      channels.component.publish({ id: 'tool:export', kind: 'tool', from: 'normal', to: 'halted_manual', reason: 'operator' });
      channels.restart.publish({ id: 'tool:search', restarts: 6, intensityExceeded: true, error: 'boom' });
      channels.restart.publish({ id: 'tool:search', restarts: 2, intensityExceeded: false, error: 'boom' });
      channels.drain.publish({ phase: 'halting', durationMs: 30_000, inflight: 2, drained: 5, forced: 2 });
      let ok = false;
      health.register('store', () => ok);
      await health.checkNow();
      await health.checkNow();
      ok = true;
      await health.checkNow();
      await m.idle();
      const got = hook.received.map((r) => `${r.json.action} ${r.json.severity} ${r.json.title}`);
      // Critical alerts jump the queue; within an incident the order is kept.
      assert.deepEqual(got, [
        'trigger critical Component halted: tool:search',
        'resolve critical Component resumed: tool:search',
        'trigger critical Health check failing: store',
        'resolve critical Health check recovered: store',
        'trigger warning Component halted: tool:export',
        'trigger warning Drain timed out: requests were aborted',
      ]);
      assert.ok(hook.received.every((r) => r.problems.length === 0));
      assert.equal(hook.received.find((r) => r.json.title.startsWith('Drain'))!.json.context.forced, 2);
      assert.equal(hook.received[0]!.json.incident, 'component:tool:search:halted');
      const text = await metrics.metrics();
      assert.match(text, /andon_alerts_total\{channel="hook",severity="critical",outcome="sent"\} 4/);
      assert.match(text, /andon_alerts_total\{channel="hook",severity="warning",outcome="sent"\} 2/);
      // A duplicate is suppressed and counted.
      channels.drain.publish({ phase: 'halting', durationMs: 30_000, inflight: 2, drained: 5, forced: 2 });
      assert.match(await metrics.metrics(), /andon_alerts_total\{channel="hook",severity="warning",outcome="suppressed"\} 1/);
    } finally {
      unwire();
      metrics.stop();
      health.stop();
    }
  });

  test('the CLI: andon alerts test --config sends through the real path; andon alerts list reads the history', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/paths.js');
    const slack = await receiver(validateSlack, slackOk);
    const dir = mkdtempSync(join(tmpdir(), 'andon-cli-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = join(dir, 'andon.json');
    writeFileSync(cfg, JSON.stringify({ alerts: { channels: { slack: { type: 'slack', webhookUrlEnv: 'CLI_SLACK_URL' } } } }));
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CLI_SLACK_URL: `${slack.url}/x`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (c: Buffer) => (stdout += c));
        p.stderr.on('data', (c: Buffer) => (stderr += c));
        const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.on('close', (code) => {
          clearTimeout(t);
          resolve({ code, stdout, stderr });
        });
      });
    const r = await run(['alerts', 'test', '--config', cfg, '--channel', 'slack', '--state-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /slack: sent/);
    assert.equal(slack.received.length, 1);
    assert.deepEqual(slack.received[0]!.problems, []);
    const l = await run(['alerts', 'list', '--state-dir', dir, '--json']);
    assert.equal(l.code, 0, l.stderr);
    const list = JSON.parse(l.stdout) as Array<{ title: string; status: string }>;
    assert.equal(list[0]?.title, 'Test alert from andon-mcp');
    assert.equal(list[0]?.status, 'sent');
    writeFileSync(cfg, JSON.stringify({ alerts: { channels: { pd: { type: 'pagerduty', routingKey: 'abcdef0123456789abcdef0123456789' } } } }));
    const refused = await run(['alerts', 'test', '--config', cfg]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /secret literal/);
    assert.doesNotMatch(refused.stderr, /abcdef0123456789abcdef0123456789/, 'the error does not echo the secret');
    assert.ok(readFileSync(cfg, 'utf8').length > 0);

    // Against a running node: the admin API of its ops listener.
    const m = manager({ U: `${slack.url}/node` }, { channels: { slack: { type: 'slack', webhookUrlEnv: 'U' } } });
    const ops = new OpsServer({ token: 'cli-ops-token-1', port: 0 });
    mountObservability(ops, { alerts: m });
    const opsUrl = await ops.listen();
    cleanup.push(() => ops.close());
    const env = { ANDON_OPS_URL: opsUrl, ANDON_ADMIN_TOKEN: 'cli-ops-token-1' };
    const viaNode = await run(['alerts', 'test', '--channel', 'slack', '--severity', 'warning'], env);
    assert.equal(viaNode.code, 0, viaNode.stderr);
    assert.match(viaNode.stdout, /slack: sent/);
    assert.equal(slack.received.at(-1)!.path, '/node');
    const listed = await run(['alerts'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^TIME\s+SEVERITY\s+ACTION\s+STATUS/m);
    assert.match(listed.stdout, /warning\s+trigger\s+sent\s+0\s+slack\s+\[test\] Test alert from andon-mcp/);
  });
});
