/**
 * A real Prometheus (Debian package `prometheus`, on PATH) scrapes the ops listener's /metrics
 * (behind the admin token) while MCP traffic runs, loads deploy/prometheus/alerts.yml, and is
 * queried; `promtool check rules` and `promtool test rules` validate the rules and prove they fire
 * on synthetic series. Missing binaries fail the test: CI installs the package.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpsServer } from '../../src/admin/ops-server.js';
import { channels } from '../../src/runtime/events.js';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { AndonMetrics, mountObservability } from '../../src/observability/index.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { ROOT } from '../helpers/paths.js';

const TOKEN = 'prometheus-scrape-token-1';
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/alerts_test.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/andon.json');

function which(bin: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  assert.ok(r.status === 0 && path, `${bin} is not on PATH: install it with "apt-get install -y prometheus" (CI does, in .ci/run)`);
  return path;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('promtool', () => {
  test('promtool check rules validates deploy/prometheus/alerts.yml', () => {
    const r = spawnSync(which('promtool'), ['check', 'rules', RULES], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: the halted-component, error-rate, restart-storm, drain and delivery rules fire on synthetic series', () => {
    const r = spawnSync(which('promtool'), ['test', 'rules', RULE_TESTS], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    const tests = readFileSync(RULE_TESTS, 'utf8');
    for (const name of ['AndonComponentHalted', 'AndonHighErrorRate']) assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${name} is proven to fire`);
  });
});

describe('promtool check metrics', () => {
  test('our exposition, default Node metrics included, passes promtool check metrics (no gauge ends in _total)', async () => {
    const m = new AndonMetrics().start();
    try {
      channels.request.publish({ method: 'tools/call', name: 'echo', era: '2025', outcome: 'ok', durationMs: 3 });
      const text = await m.metrics();
      assert.match(text, /^andon_nodejs_active_handles\{/m, 'the per-type handle counts stay');
      assert.doesNotMatch(text, /^andon_nodejs_active_(handles|requests|resources)_total/m);
      const r = spawnSync(which('promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      m.stop();
    }
  });
});

describe('a real Prometheus scrapes /metrics while traffic runs', () => {
  let ep: HttpEndpoint;
  let ops: OpsServer;
  let metrics: AndonMetrics;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';
  let promLog = '';

  before(async () => {
    const bin = which('prometheus');
    metrics = new AndonMetrics().start();
    const server = createServer({ name: 'prom-test', version: '1.0.0' });
    server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text: string }) => text);
    server.tool('fails', {}, () => {
      throw new Error('always');
    });
    ep = await serveHttp(server, { port: 0 });
    ops = new OpsServer({ token: TOKEN, port: 0 });
    mountObservability(ops, { metrics, metricsAuth: true });
    const opsUrl = new URL(await ops.listen());
    dir = mkdtempSync(join(tmpdir(), 'andon-prom-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(RULES)}`,
        'scrape_configs:',
        '  - job_name: andon',
        '    metrics_path: /metrics',
        '    authorization:',
        `      credentials: ${JSON.stringify(TOKEN)}`,
        '    static_configs:',
        `      - targets: [${JSON.stringify(opsUrl.host)}]`,
        '',
      ].join('\n'),
    );
    prom = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
    promUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (prom.exitCode !== null) throw new Error(`prometheus exited (${prom.exitCode}): ${promLog}`);
      try {
        if ((await fetch(`${promUrl}/-/ready`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus did not become ready: ${promLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    const p = prom;
    if (p && p.exitCode === null && p.pid !== undefined) {
      const exited = new Promise((r) => p.once('exit', r));
      process.kill(p.pid, 'SIGTERM');
      const t = setTimeout(() => p.pid !== undefined && p.exitCode === null && process.kill(p.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    metrics?.stop();
    await ep?.close();
    await ops?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
    assert.equal(body.status, 'success', body.error);
    return body.data.result;
  }

  async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; prometheus log: ${promLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  test('scrapes, stores and answers queries over our series; loads the rules; evaluates them', async () => {
    // Traffic runs in the background while Prometheus scrapes.
    let running = true;
    const traffic = (async () => {
      const s = new Session2025(ep.url);
      await s.initialize();
      let i = 0;
      while (running) {
        await s.call('tools/call', { name: i % 5 === 4 ? 'fails' : 'echo', arguments: { text: `t${i}` } });
        i++;
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      return i;
    })();
    try {
      const up = await eventually('target up', async () => {
        const r = await query('up{job="andon"}');
        return r[0]?.value[1] === '1' ? r : undefined;
      });
      assert.equal(up.length, 1);
      const rate = await eventually('a positive request rate', async () => {
        const r = await query('sum by (tool, outcome) (rate(andon_requests_total{method="tools/call"}[5s]))');
        const ok = r.find((x) => x.metric.tool === 'echo' && x.metric.outcome === 'ok');
        const bad = r.find((x) => x.metric.tool === 'fails' && x.metric.outcome === 'tool_error');
        return ok && bad && Number(ok.value[1]) > 0 && Number(bad.value[1]) > 0 ? { ok: Number(ok.value[1]), bad: Number(bad.value[1]) } : undefined;
      });
      assert.ok(rate.ok > rate.bad, `echo ${rate.ok}/s vs fails ${rate.bad}/s`);
      const p99 = await query('histogram_quantile(0.99, sum by (le) (rate(andon_request_duration_seconds_bucket{method="tools/call"}[10s])))');
      assert.ok(Number(p99[0]?.value[1]) > 0 && Number(p99[0]?.value[1]) < 5, `p99 ${p99[0]?.value[1]}`);
      const lag = await query('andon_nodejs_eventloop_lag_p99_seconds');
      assert.equal(lag.length, 1, 'Node defaults are scraped');
      // Rules from deploy/prometheus/alerts.yml are loaded and healthy.
      const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> } };
      const all = rules.data.groups.flatMap((g) => g.rules);
      assert.ok(all.length >= 10, `${all.length} rules loaded`);
      // A halted component shows up in the stored series and takes its alert to pending (for: 1m).
      channels.component.publish({ id: 'tool:echo', kind: 'tool', from: 'normal', to: 'halted_manual', reason: 'prometheus test' });
      await eventually('AndonComponentHalted pending', async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
        return r.data.alerts.find((a) => a.labels.alertname === 'AndonComponentHalted' && a.labels.component === 'tool:echo' && a.state === 'pending');
      });
      const halted = await query('andon_components_halted');
      assert.equal(halted[0]?.value[1], '1');
      const unhealthy = all.filter((r) => r.health !== 'ok' && r.health !== 'unknown');
      assert.deepEqual(unhealthy, [], 'every rule evaluates without error');
    } finally {
      running = false;
      await traffic;
      channels.component.publish({ id: 'tool:echo', kind: 'tool', from: 'halted_manual', to: 'normal', reason: 'done' });
    }
  });

  test('every metric named by the alert rules and the Grafana dashboard is exported', async () => {
    const text = await metrics.metrics();
    const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: unknown[] };
    assert.ok(dashboard.panels.length > 10);
    const used = new Set([...`${readFileSync(RULES, 'utf8')}\n${JSON.stringify(dashboard)}`.matchAll(/\bandon_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    const missing = [...used].filter((n) => !families.has(n));
    assert.deepEqual(missing, [], 'names in alerts.yml / andon.json that /metrics does not export');
  });
});
