/**
 * `npm run bench`: andon-mcp side by side with the official SDKs, fastmcp and a bare node:http /
 * newline-JSON ceiling, in one run, on one machine, with the same load client. The servers run
 * pinned to CPU 0; this process (the load client) re-executes itself pinned to CPU 1.
 *
 *   npm run bench                 full run (~10 min): writes bench/results/<date>.json and .md
 *   npm run bench -- --quick      < 1 min: exits 1 when andon's server CPU per tools/call at C=64
 *                                 exceeds 3x the bare responder's (median of 5 paired reps)
 *   options: --reps N  --only http,stdio,sessions,streams,cold  --out DIR  --streams N
 */
import { spawn, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { BENCH_DIST, HAS_TASKSET, ROOT, freePort, pinned, sleep, spawnServer, type Child } from './lib/proc.js';
import { HttpLoad, createSessions, initializeBody, type LoadResult } from './lib/load-http.js';
import { StdioLoad } from './lib/load-stdio.js';
import { median, minMax } from './lib/stats.js';
import { cpuDelta, foreignCpuUs, idleBackground, machine, sampleCpu, sampleProcs } from './lib/sysstat.js';
import { renderMarkdown, renderReadme, type Results } from './report.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i !== -1 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};

const NCPU = cpus().length;
const SERVER_CPU = HAS_TASKSET ? 0 : undefined;
const CLIENT_CPU = HAS_TASKSET && NCPU > 1 ? 1 : undefined;

// Pin the load client (this process, all its threads) to its CPU by re-executing under taskset.
if (CLIENT_CPU !== undefined && !process.env.ANDON_BENCH_PINNED) {
  const r = spawnSync('taskset', ['-c', String(CLIENT_CPU), process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, ANDON_BENCH_PINNED: '1' },
  });
  process.exit(r.status ?? 1);
}

const QUICK = flag('quick');
const REPS = Number(opt('reps', QUICK ? '5' : '3'));
const ONLY = new Set(opt('only', 'http,stdio,sessions,streams,cold').split(','));
const OUT = resolve(opt('out', resolve(ROOT, 'bench/results')));
const STREAMS = Number(opt('streams', '15000'));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Every child we start, so that an error or ^C never leaves one behind. */
const children = new Set<Child>();
async function start(o: Parameters<typeof spawnServer>[0]): Promise<Child> {
  const c = await spawnServer({ cpu: SERVER_CPU, ...o });
  children.add(c);
  c.proc.once('exit', () => children.delete(c));
  return c;
}
function killAll(): void {
  for (const c of children) c.proc.kill('SIGKILL');
  rmSync(STATE_DIR, { recursive: true, force: true });
}
process.on('exit', killAll);
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

// ───────────────────────────── HTTP tools/call ─────────────────────────────

interface ServerSpec {
  script: string;
  config: Record<string, unknown>;
  /** Needs a port chosen up front. */
  fixedPort?: boolean;
  /** Command-line arguments instead of a JSON config (a child without the control channel). */
  argv?: (port: number) => string[];
}

const CLI = resolve(ROOT, 'dist/src/cli/andon.js');
const STATE_DIR = resolve(tmpdir(), `andon-bench-state-${process.pid}`);
let stateSeq = 0;
/** A fresh state directory per CLI child: the runtime restores persisted sessions at start. */
const stateDir = () => resolve(STATE_DIR, String(++stateSeq));
/**
 * The CLI's configuration: rate limits on (their cost is part of what is measured) but high enough
 * that the load generator's one session is never refused (the default is 50 tools/call per second).
 */
function cliConfig(): string {
  mkdirSync(STATE_DIR, { recursive: true });
  const file = resolve(STATE_DIR, 'andon.config.yaml');
  writeFileSync(file, 'rateLimits:\n  perClient: { messagesPerSec: 1000000000, toolCallsPerSec: 1000000000 }\n  global: { messagesPerSec: 1000000000 }\n');
  return file;
}

const HTTP_SERVERS: Record<string, ServerSpec> = {
  bare: { script: 'bare-http.js', config: {} },
  // The production entry point: the runtime (supervision, journal, ops listener) around the same server.
  'andon-cli': { script: CLI, config: {}, fixedPort: true, argv: (p) => ['example', 'simple', '--port', String(p), '--ops-port', '0', '--state-dir', stateDir(), '--config', cliConfig()] },
  andon: { script: 'andon.js', config: { responseMode: 'auto' } },
  'andon-sse': { script: 'andon.js', config: { responseMode: 'sse' } },
  sdk: { script: 'sdk.js', config: { json: true } },
  'sdk-sse': { script: 'sdk.js', config: { json: false } },
  'sdk-stateless': { script: 'sdk.js', config: { stateless: true, json: true } },
  v2: { script: 'v2.js', config: {} },
  fastmcp: { script: 'fastmcp.js', config: { json: true }, fixedPort: true },
  'fastmcp-sse': { script: 'fastmcp.js', config: { json: false }, fixedPort: true },
};

export interface Scenario {
  key: string;
  group: 'ceiling' | 'json' | 'sse' | '2026';
  label: string;
  server: keyof typeof HTTP_SERVERS;
  era: '2025' | '2026';
  session: boolean;
}

const SCENARIOS: Scenario[] = [
  { key: 'bare', group: 'ceiling', label: 'bare node:http JSON-RPC responder (ceiling)', server: 'bare', era: '2025', session: true },
  // The same responder fed the 2026-shaped requests (three routing headers, `_meta`): the ceiling
  // for the 2026 rows, so that the client does the same work on both sides of the ratio.
  { key: 'bare-2026', group: 'ceiling', label: 'bare node:http JSON-RPC responder, 2026-shaped requests (ceiling for 2026)', server: 'bare', era: '2026', session: false },
  { key: 'andon-json', group: 'json', label: '**andon-mcp**', server: 'andon', era: '2025', session: true },
  { key: 'andon-cli-json', group: 'json', label: '**andon-mcp** CLI (`andon example simple`: runtime, journal, ops listener)', server: 'andon-cli', era: '2025', session: true },
  { key: 'sdk-json', group: 'json', label: 'SDK 1.32 stateful', server: 'sdk', era: '2025', session: true },
  { key: 'sdk-stateless-json', group: 'json', label: 'SDK 1.32 stateless', server: 'sdk-stateless', era: '2025', session: false },
  { key: 'fastmcp-json', group: 'json', label: 'fastmcp 4.20', server: 'fastmcp', era: '2025', session: true },
  { key: 'andon-sse', group: 'sse', label: '**andon-mcp** (responseMode sse)', server: 'andon-sse', era: '2025', session: true },
  { key: 'sdk-sse', group: 'sse', label: 'SDK 1.32 stateful', server: 'sdk-sse', era: '2025', session: true },
  { key: 'fastmcp-sse', group: 'sse', label: 'fastmcp 4.20', server: 'fastmcp-sse', era: '2025', session: true },
  { key: 'v2-legacy-sse', group: 'sse', label: 'v2 createMcpHandler (2025 via stateless fallback)', server: 'v2', era: '2025', session: false },
  { key: 'andon-2026', group: '2026', label: '**andon-mcp**', server: 'andon', era: '2026', session: false },
  { key: 'v2-2026', group: '2026', label: 'v2 createMcpHandler 2.4', server: 'v2', era: '2026', session: false },
];

export interface HttpCell {
  key: string;
  c: number;
  rep: number;
  calls: number;
  errors: number;
  firstError?: string;
  rps: number;
  p50: number;
  p99: number;
  serverCpuPerCallUs: number;
  clientCpuPerCallUs: number;
  /** Machine CPU not accounted to the server or the client during the window, % of all CPUs. */
  otherCpuPct: number;
  /** CPU used by other processes (other engineers' jobs, daemons, kernel threads) during the window, % of all CPUs. */
  foreignCpuPct: number;
  stealPct: number;
}

const CALLS: Record<number, { warm: number; calls: number; maxS: number }> = {
  1: { warm: 500, calls: 2_000, maxS: 4 },
  16: { warm: 1_000, calls: 8_000, maxS: 5 },
  64: { warm: 2_000, calls: 10_000, maxS: 6 },
};

async function httpCell(server: Child, s: Scenario, c: number, rep: number, sizes = CALLS[c]!): Promise<HttpCell> {
  const load = new HttpLoad({ origin: `http://127.0.0.1:${server.port}`, path: '/mcp', era: s.era, session: s.session }, c);
  try {
    await load.open();
    await load.run(sizes.warm, 3);
    const cpu0 = await server.cpuUs();
    const ours = new Set([process.pid, server.pid]);
    const p0 = sampleProcs(ours);
    const m0 = sampleCpu();
    const r: LoadResult = await load.run(sizes.calls, sizes.maxS);
    const m1 = sampleCpu();
    const p1 = sampleProcs(ours);
    const cpu1 = await server.cpuUs();
    const d = cpuDelta(m0, m1);
    const serverUs = cpu1 - cpu0;
    const other = d.wallUs ? (100 * Math.max(0, d.busyUs - serverUs - r.clientCpuUs)) / (d.wallUs * NCPU) : NaN;
    return {
      key: s.key,
      c,
      rep,
      calls: r.calls,
      errors: r.errors,
      firstError: r.firstError,
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      serverCpuPerCallUs: serverUs / r.calls,
      clientCpuPerCallUs: r.clientCpuUs / r.calls,
      otherCpuPct: other,
      foreignCpuPct: d.wallUs ? (100 * foreignCpuUs(p0, p1)) / (d.wallUs * NCPU) : NaN,
      stealPct: d.stealPct,
    };
  } finally {
    await load.close();
  }
}

async function startHttpServers(keys: string[]): Promise<Map<string, Child>> {
  const out = new Map<string, Child>();
  for (const k of keys) {
    const spec = HTTP_SERVERS[k]!;
    const port = spec.fixedPort ? await freePort() : 0;
    if (spec.argv) out.set(k, await start({ script: spec.script, argv: spec.argv(port), nodeArgs: [], noIpc: true, readyPort: port }));
    else out.set(k, await start({ script: spec.script, config: { ...spec.config, port } }));
  }
  return out;
}

function rotate<T>(xs: T[], by: number): T[] {
  const n = xs.length;
  return xs.map((_, i) => xs[(i + by) % n]!);
}

async function benchHttp(): Promise<HttpCell[]> {
  const servers = await startHttpServers([...new Set(SCENARIOS.map((s) => s.server))]);
  const cells: HttpCell[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of [1, 16, 64]) {
      // Interleaved: every scenario once per (rep, C), the order rotated from rep to rep.
      for (const s of rotate(SCENARIOS, rep * 3 + c)) {
        try {
          const cell = await httpCell(servers.get(s.server)!, s, c, rep);
          cells.push(cell);
          log(`http rep ${rep + 1}/${REPS} C=${c} ${s.key}: ${cell.rps.toFixed(0)} req/s p99 ${cell.p99.toFixed(1)} ms, ${cell.serverCpuPerCallUs.toFixed(1)} µs/call${cell.errors ? ` ERRORS ${cell.errors}: ${cell.firstError}` : ''}`);
        } catch (err) {
          log(`http rep ${rep + 1} C=${c} ${s.key}: FAILED ${String(err)}`);
          cells.push({ key: s.key, c, rep, calls: 0, errors: 1, firstError: String(err), rps: NaN, p50: NaN, p99: NaN, serverCpuPerCallUs: NaN, clientCpuPerCallUs: NaN, otherCpuPct: NaN, foreignCpuPct: NaN, stealPct: NaN });
        }
      }
    }
  }
  for (const s of servers.values()) await s.kill();
  return cells;
}

// ───────────────────────────── stdio ─────────────────────────────

interface StdioSpec {
  key: string;
  label: string;
  script: string;
  config: Record<string, unknown>;
}

const STDIO: StdioSpec[] = [
  { key: 'bare-stdio', label: 'bare newline-JSON echo, batched writes (ceiling)', script: 'bare-stdio.js', config: { batch: true } },
  { key: 'bare-stdio-line', label: 'bare newline-JSON echo, one write per line', script: 'bare-stdio.js', config: { batch: false } },
  { key: 'andon-stdio', label: '**andon-mcp**', script: 'andon.js', config: { transport: 'stdio' } },
  { key: 'sdk-stdio', label: 'SDK 1.32 StdioServerTransport', script: 'sdk.js', config: { transport: 'stdio' } },
  { key: 'v2-stdio', label: 'v2 serveStdio 2.4', script: 'v2.js', config: { transport: 'stdio' } },
  { key: 'fastmcp-stdio', label: 'fastmcp 4.20 stdio', script: 'fastmcp.js', config: { transport: 'stdio' } },
];

export interface StdioCell {
  key: string;
  rep: number;
  calls: number;
  errors: number;
  firstError?: string;
  rps: number;
  p50: number;
  p99: number;
  serverCpuPerCallUs: number;
  clientCpuPerCallUs: number;
}

async function stdioCell(spec: StdioSpec, rep: number, warm: number, calls: number, maxS: number): Promise<StdioCell> {
  const child = await start({ script: spec.script, config: spec.config, stdio: true });
  try {
    const load = new StdioLoad(child.proc);
    await load.initialize();
    await load.run(warm, 64, 3);
    const cpu0 = await child.cpuUs();
    const r = await load.run(calls, 64, maxS);
    const cpu1 = await child.cpuUs();
    return {
      key: spec.key,
      rep,
      calls: r.calls,
      errors: r.errors,
      firstError: r.firstError,
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      serverCpuPerCallUs: (cpu1 - cpu0) / r.calls,
      clientCpuPerCallUs: r.clientCpuUs / r.calls,
    };
  } finally {
    await child.kill();
  }
}

async function benchStdio(): Promise<StdioCell[]> {
  const cells: StdioCell[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const spec of rotate(STDIO, rep)) {
      try {
        const cell = await stdioCell(spec, rep, 10_000, 40_000, 5);
        cells.push(cell);
        log(`stdio rep ${rep + 1}/${REPS} ${spec.key}: ${cell.rps.toFixed(0)} req/s p99 ${cell.p99.toFixed(2)} ms, ${cell.serverCpuPerCallUs.toFixed(1)} µs/call${cell.errors ? ` ERRORS ${cell.errors}: ${cell.firstError}` : ''}`);
      } catch (err) {
        log(`stdio rep ${rep + 1} ${spec.key}: FAILED ${String(err)}`);
        cells.push({ key: spec.key, rep, calls: 0, errors: 1, firstError: String(err), rps: NaN, p50: NaN, p99: NaN, serverCpuPerCallUs: NaN, clientCpuPerCallUs: NaN });
      }
    }
  }
  return cells;
}

// ───────────────────────────── sessions ─────────────────────────────

export interface SessionCell {
  key: string;
  rep: number;
  target: number;
  created: number;
  errors: number;
  firstError?: string;
  perSecond: number;
  rssKiBPerSession: number;
  heapKiBPerSession: number;
}

const SESSION_SERVERS: Array<{ key: string; label: string; server: string }> = [
  { key: 'andon', label: '**andon-mcp**', server: 'andon' },
  { key: 'sdk', label: 'SDK 1.32 stateful', server: 'sdk' },
  { key: 'fastmcp', label: 'fastmcp 4.20', server: 'fastmcp' },
];

type Mem = { rss: number; heapUsed: number };

async function sessionCell(key: string, server: string, rep: number, n: number, maxS: number): Promise<SessionCell> {
  const spec = HTTP_SERVERS[server]!;
  const child = await start({ script: spec.script, config: { ...spec.config, port: spec.fixedPort ? await freePort() : 0 } });
  try {
    const origin = `http://127.0.0.1:${child.port}`;
    await createSessions(origin, '/mcp', 500, 64, 10); // warm-up, part of the baseline
    const m0 = await child.ask<Mem>('mem');
    const r = await createSessions(origin, '/mcp', n, 64, maxS);
    const m1 = await child.ask<Mem>('mem');
    return {
      key,
      rep,
      target: n,
      created: r.created,
      errors: r.errors,
      firstError: r.firstError,
      perSecond: r.perSecond,
      rssKiBPerSession: (m1.rss - m0.rss) / 1024 / r.created,
      heapKiBPerSession: (m1.heapUsed - m0.heapUsed) / 1024 / r.created,
    };
  } finally {
    await child.kill();
  }
}

async function benchSessions(): Promise<SessionCell[]> {
  const cells: SessionCell[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of rotate(SESSION_SERVERS, rep)) {
      try {
        const cell = await sessionCell(s.key, s.server, rep, 10_000, 15);
        cells.push(cell);
        log(`sessions rep ${rep + 1}/${REPS} ${s.key}: ${cell.created} in ${(cell.created / cell.perSecond).toFixed(1)} s = ${cell.perSecond.toFixed(0)}/s, ${cell.rssKiBPerSession.toFixed(2)} KiB RSS/session, ${cell.heapKiBPerSession.toFixed(2)} KiB heap/session${cell.errors ? ` ERRORS ${cell.errors}: ${cell.firstError}` : ''}`);
      } catch (err) {
        log(`sessions rep ${rep + 1} ${s.key}: FAILED ${String(err)}`);
        cells.push({ key: s.key, rep, target: 10_000, created: 0, errors: 1, firstError: String(err), perSecond: NaN, rssKiBPerSession: NaN, heapKiBPerSession: NaN });
      }
    }
  }
  return cells;
}

// ───────────────────────────── many SSE streams ─────────────────────────────

export interface StreamsResult {
  key: string;
  target: number;
  sessions: number;
  opened: number;
  sessionsPerSecond: number;
  openSeconds: number;
  rssBaselineMiB: number;
  rssMiB: number;
  kibPerStream: number;
  broadcasts: Array<{ ms: number; received: number; sent: number; syncMs: number }>;
  error?: string;
}

async function streamsCell(key: string, server: string, n: number, maxS: number): Promise<StreamsResult> {
  const spec = HTTP_SERVERS[server]!;
  const child = await start({ script: spec.script, config: { ...spec.config, port: spec.fixedPort ? await freePort() : 0 } });
  const [cmd, args] = pinned(CLIENT_CPU, process.execPath, [resolve(BENCH_DIST, 'sse-client.js')]);
  const client = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const events: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  client.on('message', (m: Record<string, unknown>) => {
    events.push(m);
    wake?.();
  });
  const next = async (event: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> => {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const i = events.findIndex((e) => e.event === event || e.event === 'error');
      if (i !== -1) {
        const e = events.splice(i, 1)[0]!;
        if (e.event === 'error') throw new Error(String(e.error));
        return e;
      }
      const left = end - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  const result: StreamsResult = { key, target: n, sessions: 0, opened: 0, sessionsPerSecond: NaN, openSeconds: NaN, rssBaselineMiB: NaN, rssMiB: NaN, kibPerStream: NaN, broadcasts: [] };
  try {
    await new Promise<void>((r) => client.once('message', () => r()));
    const m0 = await child.ask<Mem>('mem');
    result.rssBaselineMiB = m0.rss / 2 ** 20;
    client.send({ cmd: 'open', port: child.port, path: '/mcp', n, uri: 'bench://counter', maxSeconds: maxS });
    const opened = await next('opened', (maxS + 120) * 1000);
    if (!opened) throw new Error('streams did not open in time');
    result.sessions = opened.sessions as number;
    result.opened = opened.opened as number;
    result.sessionsPerSecond = opened.sessionsPerSecond as number;
    result.openSeconds = opened.openSeconds as number;
    if (opened.sessionErrors) log(`streams ${key}: ${String(opened.sessionErrors)} session errors: ${String(opened.firstError)}`);
    await sleep(1000);
    const m1 = await child.ask<Mem>('mem', {}, 60_000);
    result.rssMiB = m1.rss / 2 ** 20;
    result.kibPerStream = (m1.rss - m0.rss) / 1024 / Math.max(1, result.opened);
    for (let b = 0; b < 3; b++) {
      client.send({ cmd: 'arm' });
      const armed = await next('armed', 10_000);
      const streams = (armed?.streams as number) ?? 0;
      const sent = await child.ask<{ t0: number; sent: number; syncMs: number }>('broadcast', { uri: 'bench://counter' }, 60_000);
      let all = await next('all', 10_000);
      if (!all) {
        client.send({ cmd: 'status' });
        all = await next('status', 5_000);
      }
      const received = (all?.received as number) ?? 0;
      const lastAt = (all?.lastAt as number) ?? NaN;
      const ms = received === streams && streams > 0 ? lastAt - sent.t0 : NaN;
      result.broadcasts.push({ ms, received, sent: sent.sent, syncMs: sent.syncMs });
      log(`streams ${key} broadcast ${b + 1}: ${received}/${streams} received in ${ms.toFixed(0)} ms (server loop ${sent.syncMs.toFixed(0)} ms)`);
      await sleep(500);
    }
  } catch (err) {
    result.error = String(err);
  } finally {
    client.send({ cmd: 'close' });
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        client.kill('SIGKILL');
        r();
      }, 5000);
      client.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    await child.kill();
  }
  log(`streams ${key}: ${result.opened}/${result.target} streams, RSS ${result.rssMiB.toFixed(0)} MiB (${result.kibPerStream.toFixed(1)} KiB/stream), sessions ${result.sessionsPerSecond.toFixed(0)}/s${result.error ? ` ERROR ${result.error}` : ''}`);
  return result;
}

async function benchStreams(): Promise<StreamsResult[]> {
  return [await streamsCell('andon', 'andon', STREAMS, 60), await streamsCell('sdk', 'sdk', STREAMS, 40)];
}

// ───────────────────────────── cold start ─────────────────────────────

interface ColdSpec {
  key: string;
  label: string;
  script: string;
  config?: Record<string, unknown>;
  argv?: (port: number) => string[];
  stdio?: boolean;
}

const COLD: ColdSpec[] = [
  { key: 'bare', label: 'bare node:http responder', script: 'bare-http.js', config: {} },
  { key: 'andon', label: '**andon-mcp** (`serveHttp`)', script: 'andon.js', config: {} },
  { key: 'andon-cli', label: '**andon-mcp** CLI (`andon example simple`)', script: CLI, argv: (p) => ['example', 'simple', '--port', String(p), '--ops-port', '0', '--state-dir', stateDir()] },
  { key: 'sdk', label: 'SDK 1.32 stateful', script: 'sdk.js', config: {} },
  { key: 'v2', label: 'v2 createMcpHandler 2.4', script: 'v2.js', config: {} },
  { key: 'fastmcp', label: 'fastmcp 4.20', script: 'fastmcp.js', config: {} },
  { key: 'bare-stdio', label: 'bare stdio echo', script: 'bare-stdio.js', config: {}, stdio: true },
  { key: 'andon-stdio', label: '**andon-mcp** stdio', script: 'andon.js', config: { transport: 'stdio' }, stdio: true },
  { key: 'sdk-stdio', label: 'SDK 1.32 stdio', script: 'sdk.js', config: { transport: 'stdio' }, stdio: true },
  { key: 'v2-stdio', label: 'v2 serveStdio 2.4', script: 'v2.js', config: { transport: 'stdio' }, stdio: true },
];

function initOnce(port: number): Promise<boolean> {
  return new Promise((resolveInit) => {
    const body = initializeBody(1);
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolveInit(res.statusCode === 200 && text.includes('"result"')));
        res.on('error', () => resolveInit(false));
      },
    );
    req.on('error', () => resolveInit(false));
    req.end(body);
  });
}

async function coldOnce(spec: ColdSpec): Promise<number> {
  const port = await freePort();
  const config = spec.config ? { ...spec.config, port } : undefined;
  const t0 = performance.now();
  const child = await start({ script: spec.script, config, argv: spec.argv?.(port), nodeArgs: [], noReady: true, stdio: spec.stdio });
  try {
    if (spec.stdio) {
      await new StdioLoad(child.proc).initialize();
      return performance.now() - t0;
    }
    const deadline = t0 + 20_000;
    while (performance.now() < deadline) {
      if (await initOnce(port)) return performance.now() - t0;
      await sleep(2);
    }
    throw new Error('no initialize response within 20 s');
  } finally {
    await child.kill();
  }
}

export interface ColdCell {
  key: string;
  rep: number;
  ms: number;
}

async function benchCold(): Promise<ColdCell[]> {
  const cells: ColdCell[] = [];
  const reps = Math.max(5, REPS);
  for (let rep = 0; rep < reps; rep++) {
    for (const spec of rotate(COLD, rep)) {
      try {
        cells.push({ key: spec.key, rep, ms: await coldOnce(spec) });
      } catch (err) {
        log(`cold ${spec.key}: FAILED ${String(err)}`);
        cells.push({ key: spec.key, rep, ms: NaN });
      }
    }
    log(`cold rep ${rep + 1}/${reps}: ${cells.filter((c) => c.rep === rep).map((c) => `${c.key} ${c.ms.toFixed(0)} ms`).join(', ')}`);
  }
  return cells;
}

// ───────────────────────────── quick mode ─────────────────────────────

async function quick(): Promise<number> {
  const t0 = performance.now();
  const bg = await idleBackground(500);
  const servers = await startHttpServers(['bare', 'andon']);
  const bare = SCENARIOS.find((s) => s.key === 'bare')!;
  const andon = SCENARIOS.find((s) => s.key === 'andon-json')!;
  const sizes = { warm: 2_000, calls: 8_000, maxS: 5 };
  const rows: Array<{ rep: number; bare: HttpCell; andon: HttpCell; ratio: number }> = [];
  let errors = 0;
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 ? [andon, bare] : [bare, andon];
    const got: Record<string, HttpCell> = {};
    for (const s of order) got[s.key] = await httpCell(servers.get(s.server)!, s, 64, rep, sizes);
    const b = got.bare!;
    const a = got['andon-json']!;
    errors += a.errors + b.errors;
    if (a.errors || b.errors) log(`errors: ${a.firstError ?? b.firstError}`);
    rows.push({ rep, bare: b, andon: a, ratio: a.serverCpuPerCallUs / b.serverCpuPerCallUs });
    log(`quick rep ${rep + 1}/${REPS}: bare ${b.serverCpuPerCallUs.toFixed(1)} µs/call ${b.rps.toFixed(0)} req/s | andon ${a.serverCpuPerCallUs.toFixed(1)} µs/call ${a.rps.toFixed(0)} req/s | CPU ratio ${(a.serverCpuPerCallUs / b.serverCpuPerCallUs).toFixed(2)} | other processes ${Math.max(a.foreignCpuPct, b.foreignCpuPct).toFixed(1)}% CPU`);
  }
  for (const s of servers.values()) await s.kill();
  const ratio = median(rows.map((r) => r.ratio));
  const rpsRatio = median(rows.map((r) => r.andon.rps / r.bare.rps));
  const limit = 3;
  const ok = ratio <= limit && errors === 0;
  console.log(`andon-mcp quick bench (tools/call, 2025 JSON, C=64, ${REPS} paired reps, ${((performance.now() - t0) / 1000).toFixed(1)} s, background CPU ${bg.busyPct.toFixed(1)}%)`);
  console.log(`  server CPU per call: andon ${median(rows.map((r) => r.andon.serverCpuPerCallUs)).toFixed(1)} µs, bare ${median(rows.map((r) => r.bare.serverCpuPerCallUs)).toFixed(1)} µs, ratio ${ratio.toFixed(2)} (limit ${limit})`);
  console.log(`  throughput: andon ${median(rows.map((r) => r.andon.rps)).toFixed(0)} req/s = ${rpsRatio.toFixed(2)} of the ceiling`);
  console.log(ok ? 'quick bench: PASS' : `quick bench: FAIL (${errors ? `${errors} errors` : `CPU ratio ${ratio.toFixed(2)} > ${limit}`})`);
  return ok ? 0 : 1;
}

// ───────────────────────────── main ─────────────────────────────

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(resolve(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  if (QUICK) return quick();
  const startedAt = new Date();
  const t0 = performance.now();
  const results: Results = {
    date: startedAt.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { ...machine(), pinned: CLIENT_CPU !== undefined ? `server CPU ${SERVER_CPU}, client CPU ${CLIENT_CPU} (taskset)` : 'not pinned (no taskset or 1 CPU)' },
    versions: {
      'andon-mcp': (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      '@modelcontextprotocol/sdk': versionOf('@modelcontextprotocol/sdk'),
      '@modelcontextprotocol/server': versionOf('@modelcontextprotocol/server'),
      '@modelcontextprotocol/node': versionOf('@modelcontextprotocol/node'),
      fastmcp: versionOf('fastmcp'),
      undici: versionOf('undici'),
    },
    reps: REPS,
    background: [],
    scenarios: SCENARIOS,
    stdioSpecs: STDIO.map(({ key, label }) => ({ key, label })),
    sessionSpecs: SESSION_SERVERS.map(({ key, label }) => ({ key, label })),
    coldSpecs: COLD.map(({ key, label }) => ({ key, label })),
    http: [],
    stdio: [],
    sessions: [],
    streams: [],
    cold: [],
    seconds: 0,
  };
  const bg = async (when: string) => {
    const b = await idleBackground(1000);
    results.background.push({ when, ...b });
    log(`background (${when}): ${b.busyPct.toFixed(1)}% busy, steal ${b.stealPct.toFixed(1)}%, loadavg ${b.loadavg.map((x) => x.toFixed(2)).join(' ')}`);
  };
  await bg('start');
  if (ONLY.has('http')) {
    results.http = await benchHttp();
    await bg('after http');
  }
  if (ONLY.has('stdio')) {
    results.stdio = await benchStdio();
    await bg('after stdio');
  }
  if (ONLY.has('sessions')) {
    results.sessions = await benchSessions();
    await bg('after sessions');
  }
  if (ONLY.has('streams')) {
    results.streams = await benchStreams();
    await bg('after streams');
  }
  if (ONLY.has('cold')) {
    results.cold = await benchCold();
    await bg('end');
  }
  results.seconds = (performance.now() - t0) / 1000;
  mkdirSync(OUT, { recursive: true });
  const day = startedAt.toISOString().slice(0, 10);
  const md = renderMarkdown(results);
  writeFileSync(resolve(OUT, `${day}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resolve(OUT, `${day}.md`), md);
  writeFileSync(resolve(OUT, `${day}.readme.md`), renderReadme(results));
  console.log(md);
  log(`wrote ${resolve(OUT, `${day}.json`)} and .md in ${results.seconds.toFixed(0)} s`);
  const [lo, hi] = minMax(results.background.map((b) => b.busyPct));
  if (hi > 10) log(`note: background CPU reached ${hi.toFixed(1)}% (min ${lo.toFixed(1)}%): this run may be noisy`);
  return 0;
}

main().then(
  (code) => {
    killAll();
    process.exit(code);
  },
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    killAll();
    process.exit(2);
  },
);
