/**
 * The load run behind `npm run load` and test/load: one `andon serve` node (child process, its
 * limits raised to fit the run), load-generator worker processes that ramp to N held clients
 * (Streamable HTTP sessions with a GET SSE stream, WebSockets, plain POST clients), a few steady
 * callers measuring tools/call latency per ramp step, a notifier calling the `notify` tool, and a
 * sampler reading the node (GET /metrics, GET /admin/guardian, /proc/<pid>/status). Everything is
 * bounded: the run ends by itself and every child is killed by PID.
 *
 * Scenario `heap`: the node runs with a small `--max-old-space-size` and the guardian thresholds
 * of the config below; the ramp would exhaust the heap, the guardian must refuse new sessions
 * first, and after the clients leave the node must leave degradation without exiting.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { openSession, V2025 } from '../lib/load-http.js';
import { percentile } from '../lib/stats.js';
import type { Kind, WorkerStatus } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, '../..');
const CLI = resolve(DIST, 'src/cli/andon.js');
const MODULE = resolve(DIST, 'bench/servers/load-node.js');
const WORKER = resolve(here, 'worker.js');
const TICK_URI = 'load://tick';
const MCP_PATH = '/mcp';
const WS_PATH = '/ws';

export interface LoadOptions {
  clients: number;
  rampSeconds: number;
  holdSeconds: number;
  steps: number;
  /** Shares of sse, ws, post (normalised). */
  mix: Record<Kind, number>;
  /** Steady callers measuring tools/call latency, and the pause between one's calls. */
  callers: number;
  callIntervalMs: number;
  /** How often the notifier calls `notify` (0: never during the ramp). */
  notifyMs: number;
  /** The tool the steady callers and POST clients call: `echo` (journaled) or `echo_ro` (read-only, not journaled). */
  tool: 'echo' | 'echo_ro';
  /** Pause between one POST client's tools/call, ms (jittered ±50 %). */
  postIntervalMs: number;
  /** Clients per worker process at most (keeps each under its fd limit). */
  perWorker: number;
  scenario: 'normal' | 'heap';
  /** --max-old-space-size of the node in the heap scenario, MB. */
  heapMb: number;
  /** The resource guardian on (false: the heap scenario shows what happens without it). */
  guardian: boolean;
  /** How long to wait for recovery after the clients leave, s. */
  recoverSeconds: number;
  log: (line: string) => void;
}

export const DEFAULTS: LoadOptions = {
  clients: 15_000,
  rampSeconds: 150,
  holdSeconds: 30,
  steps: 10,
  mix: { sse: 60, ws: 20, post: 20 },
  callers: 8,
  callIntervalMs: 50,
  notifyMs: 5000,
  postIntervalMs: 20_000,
  tool: 'echo',
  perWorker: 4000,
  scenario: 'normal',
  heapMb: 96,
  guardian: true,
  recoverSeconds: 120,
  log: (l) => process.stdout.write(`${l}\n`),
};

export interface StepRow {
  step: string;
  atSeconds: number;
  targetClients: number;
  held: Record<Kind, number> & { total: number };
  serverConnections: number;
  serverSessions: number;
  rssMiB: number;
  heapUsedMiB: number;
  eventLoopP99Ms: number;
  guardianMode: string;
  calls: number;
  callErrors: number;
  /** tools/call of `echo` (journaled), ms. */
  p50: number;
  p99: number;
  /** tools/call of `echo_ro` (read-only, not journaled), ms. */
  p50ReadOnly: number;
  p99ReadOnly: number;
  errors: number;
}

export interface LoadSummary {
  options: Omit<LoadOptions, 'log'>;
  date: string;
  machine: { cpus: number; model: string; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  nodePid: number;
  heapLimitMiB: number;
  steps: StepRow[];
  peak: { held: number; serverConnections: number; serverSessions: number; rssMiB: number; heapUsedMiB: number };
  calls: { total: number; errors: number; p50: number; p99: number; p50ReadOnly: number; p99ReadOnly: number; firstError?: string };
  postClients: { calls: number; errors: number };
  notifications: { sent: number; notifyCalls: number; received: number; deliveries: Record<string, Record<string, number>>; checkRounds: number; allStreamsGotAll: boolean; streamsChecked: number; deliverySeconds: number };
  errors: Record<string, number>;
  firstErrors: Record<string, string>;
  guardian: { sequence: Array<{ atSeconds: number; mode: string; reason: string | null; heapUsedMiB: number; sessions: number }>; degradedAt?: number; recoveredAt?: number };
  nodeAlive: boolean;
  nodeExit?: { code: number | null; signal: string | null };
  after: { serverSessions: number; serverConnections: number; rssMiB: number; heapUsedMiB: number; mode: string; liveHeapMiBAfterForcedGc?: number };
  /**
   * Memory per 1,000 held clients: RSS and heap used (not collected) peak minus before the ramp,
   * and the live heap and RSS after a full GC at the end of the hold minus before the ramp.
   */
  perThousand: { rssMiB: number; heapMiB: number; liveHeapMiB: number; rssAfterGcMiB: number };
  live: { before: { heapMiB: number; rssMiB: number }; peak: { heapMiB: number; rssMiB: number }; held: number };
  baseline: { rssMiB: number; heapUsedMiB: number };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise<number>((res, rej) => {
        const s = createServer();
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => res(p));
        });
      }),
  );
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The node's config: every limit raised above the run's client count; rate limits raised. */
export function nodeConfig(o: Pick<LoadOptions, 'clients' | 'scenario' | 'guardian'>): Record<string, unknown> {
  const room = Math.max(2000, Math.ceil(o.clients * 1.2));
  const guardian = !o.guardian
    ? { enabled: false }
    : o.scenario === 'heap'
      ? // The node starts at about 27 MiB of a 96 MB old generation and holds ~9 KiB of live heap
        // per client, so the ramp would need several times the limit. V8 aborts once the old
        // generation is above ~80 % and collection cannot keep up (test/resilience/guardian-node.ts);
        // without load the heap used stays near 35 % (garbage V8 has no reason to collect): degrade
        // at 45 %, recover under 38 %, emergency stop only at 90 %.
        { intervalMs: 500, warning: 0.4, degrade: 0.45, hard: 0.9, recover: 0.38, recoverSamples: 3, eventLoopDelayMs: 60_000 }
      : { intervalMs: 1000, eventLoopDelayMs: 60_000 };
  return {
    http: { sessionIdleMs: 1_800_000 },
    connections: { max: room, maxPerClient: room, headersTimeoutMs: 30_000, requestTimeoutMs: 60_000, idleSocketMs: 120_000 },
    limits: { maxSessions: room, maxSessionsPerClient: room, maxSseStreams: room },
    websocket: { enabled: true, maxConnections: room },
    rateLimits: { perClient: { messagesPerSec: 1_000_000, toolCallsPerSec: 1_000_000 }, global: { messagesPerSec: 1_000_000 } },
    guardian,
    logging: { level: 'warn' },
  };
}

interface NodeChild {
  proc: ChildProcess;
  pid: number;
  port: number;
  opsUrl: string;
  token: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  exit?: { code: number | null; signal: string | null };
}

async function startNode(dir: string, o: LoadOptions): Promise<NodeChild> {
  const cfg = join(dir, 'andon.config.json');
  await writeFile(cfg, JSON.stringify(nodeConfig(o)));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const opsPort = await freePort();
    // ANDON_LOAD_NODE_ARGS: extra node flags for the node (e.g. --cpu-prof --cpu-prof-dir=DIR; the
    // node is then stopped with SIGTERM so that the profile is written).
    const extra = (process.env.ANDON_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const nodeArgs = [...(o.scenario === 'heap' ? [`--max-old-space-size=${o.heapMb}`] : []), ...extra];
    const proc = spawn(process.execPath, [...nodeArgs, CLI, 'serve', MODULE, '--port', String(port), '--ops-port', String(opsPort), '--state-dir', join(dir, 'state'), '--config', cfg], {
      env: { ...process.env, ANDON_ADMIN_TOKEN: '', NODE_OPTIONS: '', NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      if (err.length < 64_000) err += d.toString();
    });
    const n: NodeChild = {
      proc,
      pid: proc.pid!,
      port,
      opsUrl: `http://127.0.0.1:${opsPort}`,
      token: '',
      stderr: () => err,
      exited: new Promise((r) =>
        proc.once('exit', (code, signal) => {
          n.exit = { code, signal };
          r(n.exit);
        }),
      ),
    };
    const deadline = Date.now() + 20_000;
    while (!err.includes('listening on') && proc.exitCode === null && Date.now() < deadline) await sleep(20);
    if (err.includes('listening on')) {
      n.token = (await readFile(join(dir, 'state', 'admin-token'), 'utf8')).trim();
      return n;
    }
    proc.kill('SIGKILL');
    if (attempt < 3 && /EADDRINUSE/.test(err)) continue;
    throw new Error(`the node did not start:\n${err}`);
  }
}

interface Worker {
  proc: ChildProcess;
  pid: number;
  status?: WorkerStatus;
  opened: boolean;
  waiters: Map<string, (m: Record<string, unknown>) => void>;
}

function forkWorker(): Promise<Worker> {
  return new Promise((res, rej) => {
    const proc = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    const w: Worker = { proc, pid: proc.pid!, opened: false, waiters: new Map() };
    proc.stderr?.resume();
    proc.on('message', (m: Record<string, unknown>) => {
      if (m.ready) return res(w);
      const ev = String(m.event);
      if (ev === 'status') w.status = m as unknown as WorkerStatus;
      if (ev === 'opened') w.opened = true;
      const f = w.waiters.get(ev);
      if (f) {
        w.waiters.delete(ev);
        f(m);
      }
    });
    proc.once('exit', (code) => rej(new Error(`worker exited (${code}) before ready`)));
  });
}

function ask(w: Worker, cmd: string, event: string, extra: Record<string, unknown> = {}, ms = 30_000): Promise<Record<string, unknown> | undefined> {
  return new Promise((res) => {
    if (!w.proc.connected) return res(undefined);
    const t = setTimeout(() => {
      w.waiters.delete(event);
      res(undefined);
    }, ms);
    w.waiters.set(event, (m) => {
      clearTimeout(t);
      res(m);
    });
    w.proc.send({ cmd, ...extra });
  });
}

/** Sum of a metric's samples in a Prometheus text body (all label sets). */
function metricSum(body: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : NaN;
}

interface ServerSample {
  connections: number;
  sessions: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapLimitMiB: number;
  loopP99: number;
  mode: string;
  reason: string | null;
}

async function sampleNode(n: NodeChild): Promise<ServerSample> {
  const s: ServerSample = { connections: NaN, sessions: NaN, rssMiB: rssOf(n.pid), heapUsedMiB: NaN, heapLimitMiB: NaN, loopP99: NaN, mode: n.exit ? 'exited' : '?', reason: null };
  if (n.exit) return s;
  const timeout = AbortSignal.timeout(5000);
  try {
    const m = await (await fetch(`${n.opsUrl}/metrics`, { signal: timeout })).text();
    s.connections = metricSum(m, 'andon_connections_open');
    s.sessions = metricSum(m, 'andon_sessions_active');
  } catch {
    // the node is too busy to answer in 5 s: the sample says so (NaN)
  }
  try {
    const res = await fetch(`${n.opsUrl}/admin/guardian`, { headers: { authorization: `Bearer ${n.token}` }, signal: timeout });
    const g = (res.status === 404 ? { mode: 'off', reason: null } : await res.json()) as {
      mode: string;
      reason: string | null;
      sample?: { heapUsedBytes: number; heapLimitBytes: number; eventLoopDelayMs: number };
    };
    s.mode = g.mode;
    s.reason = g.reason;
    if (g.sample) {
      s.heapUsedMiB = g.sample.heapUsedBytes / 1048576;
      s.heapLimitMiB = g.sample.heapLimitBytes / 1048576;
      s.loopP99 = g.sample.eventLoopDelayMs;
    }
  } catch {
    // as above
  }
  return s;
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** One steady caller: a session on its own connection, a tools/call, a pause, again. */
async function caller(origin: string, tool: string, stop: () => boolean, intervalMs: number, rec: Array<[number, number, boolean, boolean]>, errs: { first?: string }, t0: number): Promise<void> {
  const pool = new Pool(origin, { connections: 1, pipelining: 1, keepAliveTimeout: 120_000 });
  let sid = '';
  for (let attempt = 0; !sid && !stop(); attempt++) {
    try {
      sid = await openSession(pool, MCP_PATH, 0);
    } catch (err) {
      errs.first ??= `caller initialize: ${String(err)}`;
      await sleep(1000);
    }
  }
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V2025, 'mcp-session-id': sid };
  let id = 1;
  while (!stop()) {
    const start = performance.now();
    let ok = false;
    try {
      const r = await pool.request({ path: MCP_PATH, method: 'POST', headers, body: `{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":{"name":"${tool}","arguments":{"text":"steady"}}}`, headersTimeout: 60_000, bodyTimeout: 60_000 });
      const text = await r.body.text();
      ok = r.statusCode === 200 && text.includes('"steady"') && !text.includes('"isError":true');
      if (!ok) errs.first ??= `${r.statusCode} ${text.slice(0, 300)}`;
    } catch (err) {
      errs.first ??= String(err);
    }
    const end = performance.now();
    rec.push([(end - t0) / 1000, end - start, ok, tool === 'echo_ro']);
    await sleep(intervalMs);
  }
  try {
    const r = await pool.request({ path: MCP_PATH, method: 'DELETE', headers });
    await r.body.text();
  } catch {
    // best effort
  }
  await pool.destroy();
}

/** Calls the `notify` tool once; returns how many subscribers it reached (NaN on failure). */
async function notifyOnce(pool: Pool, sid: string, id: number): Promise<number> {
  try {
    const r = await pool.request({
      path: MCP_PATH,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V2025, 'mcp-session-id': sid },
      body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"notify","arguments":{}}}`,
    });
    const text = await r.body.text();
    const m = /"text":"(\d+)"/.exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Calls the `heap` tool (full GC first): live heap and RSS in MiB. */
async function liveHeap(pool: Pool, sid: string, id: number): Promise<{ heapMiB: number; rssMiB: number }> {
  try {
    const r = await pool.request({
      path: MCP_PATH,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V2025, 'mcp-session-id': sid },
      body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"heap","arguments":{}}}`,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await r.body.text();
    const m = /"text":"(.*?)"}/.exec(text);
    const v = JSON.parse(m![1]!.replace(/\\"/g, '"')) as { heapUsed: number; rss: number };
    return { heapMiB: v.heapUsed / 1048576, rssMiB: v.rss / 1048576 };
  } catch {
    return { heapMiB: NaN, rssMiB: NaN };
  }
}

/** Runs one load; resolves with the summary. Every child it started is killed before it returns. */
export async function runLoad(opts: Partial<LoadOptions> = {}): Promise<LoadSummary> {
  const o: LoadOptions = { ...DEFAULTS, ...opts, mix: { ...DEFAULTS.mix, ...opts.mix } };
  const log = o.log;
  const dir = await mkdtemp(join(tmpdir(), 's4-load-'));
  const workers: Worker[] = [];
  let node: NodeChild | undefined;
  const loadavgStart = loadavg();
  try {
    node = await startNode(dir, o);
    const n = node;
    const origin = `http://127.0.0.1:${n.port}`;
    log(`node pid ${n.pid} on ${origin} (ops ${n.opsUrl})${o.scenario === 'heap' ? `, --max-old-space-size=${o.heapMb}` : ''}; load average ${loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);

    // Shares → counts per kind → per worker.
    const totalShare = o.mix.sse + o.mix.ws + o.mix.post;
    const counts: Record<Kind, number> = { sse: Math.round((o.clients * o.mix.sse) / totalShare), ws: Math.round((o.clients * o.mix.ws) / totalShare), post: 0 };
    counts.post = Math.max(0, o.clients - counts.sse - counts.ws);
    const nWorkers = Math.max(1, Math.ceil(o.clients / o.perWorker));
    for (let i = 0; i < nWorkers; i++) workers.push(await forkWorker());
    log(`${nWorkers} worker process(es), pids ${workers.map((w) => w.pid).join(' ')}; clients: ${counts.sse} Streamable HTTP + GET SSE, ${counts.ws} WebSocket, ${counts.post} POST`);

    await sleep(1500);
    const base = await sampleNode(n);
    const heapLimitMiB = base.heapLimitMiB;
    // The notifier's own session (it also reads the live heap, outside the heap scenario).
    const notifyPool = new Pool(origin, { connections: 1, pipelining: 1, keepAliveTimeout: 120_000 });
    const notifySid = await openSession(notifyPool, MCP_PATH, 0);
    let notifyId = 1;
    const live0 = o.scenario === 'heap' ? { heapMiB: NaN, rssMiB: NaN } : await liveHeap(notifyPool, notifySid, notifyId++);
    let livePeak = { heapMiB: NaN, rssMiB: NaN };
    let heldAtLive = 0;

    const t0 = performance.now();
    const now = () => (performance.now() - t0) / 1000;
    let stopCallers = false;
    const rec: Array<[number, number, boolean, boolean]> = [];
    const callErr: { first?: string } = {};
    // Half the steady callers call `echo` (journaled), half `echo_ro` (read-only: not journaled).
    const callers = Array.from({ length: o.callers }, (_, i) => caller(origin, i % 2 ? 'echo_ro' : 'echo', () => stopCallers, o.callIntervalMs, rec, callErr, t0));

    let notifyCalls = 0;
    let notifySent = 0;
    let stopNotify = false;
    const notifier = (async () => {
      if (o.notifyMs <= 0) return;
      while (!stopNotify) {
        await sleep(o.notifyMs);
        if (stopNotify) break;
        const k = await notifyOnce(notifyPool, notifySid, notifyId++);
        notifyCalls++;
        if (Number.isFinite(k)) notifySent += k;
      }
    })();

    // Ramp.
    for (let i = 0; i < workers.length; i++) {
      const share = (k: Kind) => Math.floor(counts[k] / workers.length) + (i < counts[k] % workers.length ? 1 : 0);
      workers[i]!.proc.send({ cmd: 'open', port: n.port, path: MCP_PATH, wsPath: WS_PATH, uri: TICK_URI, counts: { sse: share('sse'), ws: share('ws'), post: share('post') }, seconds: o.rampSeconds, postIntervalMs: o.postIntervalMs, tool: o.tool });
    }

    const steps: StepRow[] = [];
    const seq: LoadSummary['guardian']['sequence'] = [];
    let lastMode = base.mode;
    seq.push({ atSeconds: 0, mode: base.mode, reason: base.reason, heapUsedMiB: base.heapUsedMiB, sessions: base.sessions });
    const peak = { held: 0, serverConnections: 0, serverSessions: 0, rssMiB: base.rssMiB, heapUsedMiB: base.heapUsedMiB };
    let degradedAt: number | undefined;
    let recoveredAt: number | undefined;
    let lastRec = 0;

    const collect = async (): Promise<{ held: Record<Kind, number>; errors: Record<string, number>; firstErrors: Record<string, string>; notifications: number; postCalls: number; postErrors: number }> => {
      await Promise.all(workers.map((w) => ask(w, 'status', 'status', {}, 10_000)));
      const held: Record<Kind, number> = { sse: 0, ws: 0, post: 0 };
      const errors: Record<string, number> = {};
      const firstErrors: Record<string, string> = {};
      let notifications = 0;
      let postCalls = 0;
      let postErrors = 0;
      for (const w of workers) {
        const s = w.status;
        if (!s) continue;
        for (const k of ['sse', 'ws', 'post'] as Kind[]) held[k] += s.held[k];
        for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
        for (const [k, v] of Object.entries(s.firstErrors)) firstErrors[k] ??= v;
        notifications += s.notifications;
        postCalls += s.postCalls;
        postErrors += s.postErrors;
      }
      return { held, errors, firstErrors, notifications, postCalls, postErrors };
    };

    const sampleRow = async (label: string, targetClients: number): Promise<StepRow> => {
      const [c, s] = await Promise.all([collect(), sampleNode(n)]);
      const slice = rec.slice(lastRec);
      lastRec = rec.length;
      const lat = Float64Array.from(slice.filter((r) => !r[3]).map((r) => r[1])).sort();
      const latRo = Float64Array.from(slice.filter((r) => r[3]).map((r) => r[1])).sort();
      const total = c.held.sse + c.held.ws + c.held.post;
      const row: StepRow = {
        step: label,
        atSeconds: Math.round(now()),
        targetClients,
        held: { ...c.held, total },
        serverConnections: s.connections,
        serverSessions: s.sessions,
        rssMiB: s.rssMiB,
        heapUsedMiB: s.heapUsedMiB,
        eventLoopP99Ms: s.loopP99,
        guardianMode: s.mode,
        calls: slice.length,
        callErrors: slice.filter((r) => !r[2]).length,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        p50ReadOnly: percentile(latRo, 50),
        p99ReadOnly: percentile(latRo, 99),
        errors: Object.values(c.errors).reduce((a, b) => a + b, 0),
      };
      peak.held = Math.max(peak.held, total);
      if (Number.isFinite(s.connections)) peak.serverConnections = Math.max(peak.serverConnections, s.connections);
      if (Number.isFinite(s.sessions)) peak.serverSessions = Math.max(peak.serverSessions, s.sessions);
      if (Number.isFinite(s.rssMiB)) peak.rssMiB = Math.max(peak.rssMiB, s.rssMiB);
      if (Number.isFinite(s.heapUsedMiB)) peak.heapUsedMiB = Math.max(peak.heapUsedMiB, s.heapUsedMiB);
      return row;
    };

    const header = 'step      t(s)  target  held(sse/ws/post)        srv-conn  srv-sess  RSS MiB  heap MiB  loop p99  mode       calls  p50 ms  p99 ms  ro p50  ro p99  call-err  client-err';
    const line = (r: StepRow) =>
      `${r.step.padEnd(8)}  ${String(r.atSeconds).padStart(4)}  ${String(r.targetClients).padStart(6)}  ${`${r.held.total} (${r.held.sse}/${r.held.ws}/${r.held.post})`.padEnd(23)}  ${fmt(r.serverConnections).padStart(8)}  ${fmt(r.serverSessions).padStart(8)}  ${fmt(r.rssMiB).padStart(7)}  ${fmt(r.heapUsedMiB).padStart(8)}  ${fmt(r.eventLoopP99Ms).padStart(8)}  ${r.guardianMode.padEnd(9)}  ${String(r.calls).padStart(5)}  ${fmt(r.p50, 1).padStart(6)}  ${fmt(r.p99, 1).padStart(6)}  ${fmt(r.p50ReadOnly, 1).padStart(6)}  ${fmt(r.p99ReadOnly, 1).padStart(6)}  ${String(r.callErrors).padStart(8)}  ${String(r.errors).padStart(10)}`;
    log(header);

    // A guardian watcher: the mode sequence, sampled every 500 ms in the heap scenario.
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await sleep(o.scenario === 'heap' ? 500 : 2000);
        const s = await sampleNode(n);
        if (s.mode !== lastMode && s.mode !== '?') {
          seq.push({ atSeconds: Math.round(now() * 10) / 10, mode: s.mode, reason: s.reason, heapUsedMiB: Math.round(s.heapUsedMiB * 10) / 10, sessions: s.sessions });
          log(`  guardian: ${lastMode} → ${s.mode} at ${now().toFixed(1)} s${s.reason ? ` (${s.reason})` : ''}, heap ${fmt(s.heapUsedMiB, 1)} MiB, sessions ${fmt(s.sessions)}`);
          if (s.mode === 'degraded' && degradedAt === undefined) degradedAt = now();
          if (degradedAt !== undefined && s.mode === 'normal' && recoveredAt === undefined) recoveredAt = now();
          lastMode = s.mode;
        }
        if (n.exit) break;
      }
    })();

    for (let i = 1; i <= o.steps; i++) {
      const at = (o.rampSeconds * i) / o.steps;
      const wait = at * 1000 - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      const row = await sampleRow(`ramp ${i}`, Math.round((o.clients * i) / o.steps));
      steps.push(row);
      log(line(row));
      if (n.exit) break;
    }
    // Wait (bounded) for the workers to finish opening, then hold.
    const openDeadline = performance.now() + Math.max(60_000, o.rampSeconds * 1000);
    while (workers.some((w) => !w.opened) && performance.now() < openDeadline && !n.exit) await sleep(200);
    if (workers.some((w) => !w.opened)) log('  (the workers were still opening clients when the hold began)');
    const holdEnd = performance.now() + o.holdSeconds * 1000;
    let h = 0;
    while (!n.exit) {
      const left = holdEnd - performance.now();
      if (left <= 0) break;
      await sleep(Math.min(left, 10_000));
      h++;
      const row = await sampleRow(`hold ${h}`, o.clients);
      steps.push(row);
      log(line(row));
    }

    // Delivery check: reset the counters, three notifies a second apart, then count per stream.
    stopNotify = true;
    await notifier;
    if (o.scenario !== 'heap') {
      heldAtLive = steps.at(-1)?.held.total ?? 0;
      livePeak = await liveHeap(notifyPool, notifySid, notifyId++);
      log(`live heap after a full GC: ${fmt(live0.heapMiB, 1)} MiB before the ramp, ${fmt(livePeak.heapMiB, 1)} MiB with ${heldAtLive} clients held (RSS ${fmt(live0.rssMiB)} → ${fmt(livePeak.rssMiB)} MiB)`);
    }
    const checkRounds = 3;
    await Promise.all(workers.map((w) => ask(w, 'arm', 'armed')));
    for (let r = 0; r < checkRounds && !n.exit; r++) {
      const k = await notifyOnce(notifyPool, notifySid, notifyId++);
      notifyCalls++;
      if (Number.isFinite(k)) notifySent += k;
      await sleep(500);
    }
    // Deliveries are counted until every stream has all of them, or 30 s (an overloaded node
    // delivers late; a stream short of them then is reported as such).
    let deliveries: Record<string, Record<string, number>> = { sse: {}, ws: {} };
    const deliveryStart = performance.now();
    let deliverySeconds = NaN;
    for (;;) {
      await sleep(1000);
      deliveries = { sse: {}, ws: {} };
      for (const w of workers) {
        const d = (await ask(w, 'deliveries', 'deliveries'))?.deliveries as Record<string, Record<string, number>> | undefined;
        if (!d) continue;
        for (const kind of ['sse', 'ws']) for (const [c, v] of Object.entries(d[kind] ?? {})) deliveries[kind]![c] = (deliveries[kind]![c] ?? 0) + v;
      }
      const short = ['sse', 'ws'].some((kind) => Object.keys(deliveries[kind]!).some((c) => Number(c) < checkRounds));
      if (!short) {
        deliverySeconds = (performance.now() - deliveryStart) / 1000;
        break;
      }
      // Degraded, the node sheds notifications: the heap scenario does not wait for them.
      if (performance.now() - deliveryStart > (o.scenario === 'heap' ? 3000 : 30_000) || n.exit) break;
    }
    let streamsChecked = 0;
    let allGot = true;
    for (const kind of ['sse', 'ws'])
      for (const [c, v] of Object.entries(deliveries[kind]!)) {
        streamsChecked += v;
        if (Number(c) !== checkRounds) allGot = false;
      }
    log(`notifications: ${streamsChecked} streams/WebSockets by count received of ${checkRounds} notifies (${Number.isFinite(deliverySeconds) ? `all within ${deliverySeconds.toFixed(0)} s of the last` : 'some short after 30 s'}): ${JSON.stringify(deliveries)}`);

    stopCallers = true;
    await Promise.all(callers);
    const final = await collect();
    const lat = Float64Array.from(rec.filter((r) => !r[3]).map((r) => r[1])).sort();
    const latRo = Float64Array.from(rec.filter((r) => r[3]).map((r) => r[1])).sort();

    // The clients leave: DELETE / close, then the node should let go (and, degraded, recover).
    log('closing the clients (DELETE every HTTP session, close every WebSocket)');
    await Promise.all(workers.map((w) => ask(w, 'close', 'closed', {}, 150_000)));
    const recoverEnd = performance.now() + o.recoverSeconds * 1000;
    let after = await sampleNode(n);
    // Heap scenario: normal for three samples in a row. Right after the clients leave, heap used
    // (garbage included, until V8 collects it) can cross the threshold again for a moment.
    let normalStreak = 0;
    while (performance.now() < recoverEnd && !n.exit) {
      normalStreak = after.mode === 'normal' ? normalStreak + 1 : 0;
      const done = o.scenario === 'heap' ? normalStreak >= 3 && degradedAt !== undefined : after.sessions <= 1;
      if (done) break;
      await sleep(1000);
      after = await sampleNode(n);
    }
    if (o.scenario === 'heap') {
      // Give the watcher a last look.
      await sleep(1000);
    }
    watching = false;
    await watcher;
    after = await sampleNode(n);
    let liveAfter: { heapMiB: number; rssMiB: number } | undefined;
    if (o.scenario === 'heap' && recoveredAt === undefined && !n.exit) {
      // Not recovered in time: is the heap still in use, or garbage V8 has not collected? (This
      // forces a full GC, so it is done only after the recovery wait, and reported as such.)
      liveAfter = await liveHeap(notifyPool, notifySid, notifyId++);
      log(`  not recovered after ${o.recoverSeconds} s: heap used ${fmt(after.heapUsedMiB, 1)} MiB; after a forced full GC (diagnosis) ${fmt(liveAfter.heapMiB, 1)} MiB live`);
    }
    try {
      const r = await notifyPool.request({ path: MCP_PATH, method: 'DELETE', headers: { 'mcp-session-id': notifySid, 'mcp-protocol-version': V2025 } });
      await r.body.text();
    } catch {
      // best effort
    }
    await notifyPool.destroy();
    log(`after the clients left (${now().toFixed(0)} s): sessions ${fmt(after.sessions)}, connections ${fmt(after.connections)}, RSS ${fmt(after.rssMiB)} MiB, heap ${fmt(after.heapUsedMiB, 1)} MiB, guardian ${after.mode}`);

    const perK = peak.held > 0 ? 1000 / peak.held : NaN;
    const summary: LoadSummary = {
      options: { ...o, log: undefined } as unknown as Omit<LoadOptions, 'log'>,
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, loadavgStart, loadavgEnd: loadavg() },
      nodePid: n.pid,
      heapLimitMiB,
      steps,
      peak,
      calls: { total: rec.length, errors: rec.filter((r) => !r[2]).length, p50: percentile(lat, 50), p99: percentile(lat, 99), p50ReadOnly: percentile(latRo, 50), p99ReadOnly: percentile(latRo, 99), firstError: callErr.first },
      postClients: { calls: final.postCalls, errors: final.postErrors },
      notifications: { sent: notifySent, notifyCalls, received: final.notifications, deliveries, checkRounds, allStreamsGotAll: allGot && streamsChecked > 0, streamsChecked, deliverySeconds },
      errors: final.errors,
      firstErrors: final.firstErrors,
      guardian: { sequence: seq, degradedAt, recoveredAt },
      nodeAlive: !n.exit && n.proc.exitCode === null,
      nodeExit: n.exit,
      after: { serverSessions: after.sessions, serverConnections: after.connections, rssMiB: after.rssMiB, heapUsedMiB: after.heapUsedMiB, mode: after.mode, liveHeapMiBAfterForcedGc: liveAfter?.heapMiB },
      perThousand: { rssMiB: (peak.rssMiB - base.rssMiB) * perK, heapMiB: (peak.heapUsedMiB - base.heapUsedMiB) * perK, liveHeapMiB: heldAtLive > 0 ? ((livePeak.heapMiB - live0.heapMiB) * 1000) / heldAtLive : NaN, rssAfterGcMiB: heldAtLive > 0 ? ((livePeak.rssMiB - live0.rssMiB) * 1000) / heldAtLive : NaN },
      baseline: { rssMiB: base.rssMiB, heapUsedMiB: base.heapUsedMiB },
      live: { before: live0, peak: livePeak, held: heldAtLive },
    };
    if (!summary.nodeAlive) log(`the node exited: ${JSON.stringify(n.exit)}\n${n.stderr().slice(-3000)}`);
    return summary;
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    if (node && node.proc.exitCode === null && node.proc.signalCode === null) {
      if (process.env.ANDON_LOAD_NODE_ARGS) {
        node.proc.kill('SIGTERM');
        await Promise.race([node.exited, sleep(30_000)]);
      }
      if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
      await node.exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
