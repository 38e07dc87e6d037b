/**
 * The soak (issue 15): Redis + N `andon serve` nodes behind a round-robin TCP proxy, sessions
 * subscribed to a resource (some with GET streams), workers doing steady `tools/call` of a
 * non-idempotent tool, and a failure every interval, rotating: a tool crash, a short store stall
 * (Redis SIGSTOP within the command timeout), kill -9 of one node (restarted on the same port and
 * state directory), a Redis stall longer than the command timeout.
 *
 * Duplicate detection. Every logical operation has a unique id `op`, used both as the `op` argument
 * of the `count` tool (whose handler appends `op` to a log file shared by the nodes before it
 * answers) and as the JSON-RPC request id of every attempt of that operation in its one session.
 * An attempt that fails on the network or is refused as retryable (HTTP 503/429, e.g.
 * ANDON_JOURNAL_FAILED during a Redis stall) is retried with the SAME request id: the runtime's
 * exactly-once journal promises that one (session, request id) runs its handler at most once, and
 * that a retry of a completed id is answered from the record. An operation ends as:
 * - ok: answered `counted <op>` — its handler must have run exactly once;
 * - interrupted: ANDON_INTERRUPTED (the id was claimed by a node that died) — 0 or 1 runs;
 * - failed: any other final answer (an isError result while the tool restarts, …) — 0 or 1 runs;
 * - gave up: still no final answer after `giveUpMs` of retries — 0 or 1 runs.
 * So the invariant is: no operation ran more than once, every ok operation ran exactly once, and no
 * run in the log belongs to an operation the soak did not send. (The soak never retries an
 * interrupted or failed operation under a new id, so a second run of an `op` can only be a
 * duplicate execution by the runtime.)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AndonNode, freePort, startProxy, startRedis, writeNodeConfig, type Redis } from './proc.js';
import { Session, Stream } from './client.js';

export const FAILURE_KINDS = ['tool-crash', 'store-stall', 'node-kill', 'redis-stall'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface SoakOptions {
  /** Path of the compiled CLI (dist/src/cli/andon.js) and of the served module. */
  cli: string;
  module: string;
  durationSec: number;
  failureEverySec: number;
  nodes: number;
  sessions: number;
  /** Sessions with a GET stream (the first `streams` sessions). */
  streams: number;
  workers: number;
  /** Target tools/call per second over all workers. */
  rate: number;
  /** Milliseconds the `count` handler sleeps (so kills cut calls in flight). */
  callMs: number;
  commandTimeoutMs: number;
  storeStallMs: number;
  redisStallMs: number;
  restartDelayMs: number;
  sampleEverySec: number;
  /** Samples before this (and in each node lifetime's first `warmupSec`) are not in the trend. */
  warmupSec: number;
  /** RSS slope above this (MB/min) on a node lifetime of at least `trendMinSpanSec` is a growth trend. */
  slopeLimitMbPerMin: number;
  trendMinSpanSec: number;
  /** Assert the memory trend (false: report it only). */
  assertTrend: boolean;
  giveUpMs: number;
  requestTimeoutMs: number;
  /** Progress lines (per minute, failures); default none. */
  log?: (line: string) => void;
  /**
   * The nodes' guardian event-loop-delay threshold (ms; default the runtime's, 1 s). CI runs the
   * soak beside other heavy tests on 2 cores, where a 1 s delay, and load shedding, come from the
   * neighbours rather than from the failures the soak injects.
   */
  guardianEventLoopDelayMs?: number;
  /** Keep each node's stderr in `<nodeLogDir>/<node id>.log` (all lifetimes), at `nodeLogLevel` (default warn). */
  nodeLogDir?: string;
  nodeLogLevel?: string;
}

export const DEFAULTS: Omit<SoakOptions, 'cli' | 'module'> = {
  durationSec: 1800,
  failureEverySec: 60,
  nodes: 3,
  sessions: 100,
  streams: 20,
  workers: 16,
  rate: 50,
  callMs: 5,
  commandTimeoutMs: 2000,
  storeStallMs: 1000,
  redisStallMs: 5000,
  restartDelayMs: 3000,
  sampleEverySec: 5,
  warmupSec: 120,
  slopeLimitMbPerMin: 1,
  trendMinSpanSec: 600,
  assertTrend: true,
  giveUpMs: 60_000,
  requestTimeoutMs: 30_000,
};

type Outcome = 'ok' | 'interrupted' | 'failed' | 'gaveup' | 'lost';

interface MinuteRow {
  minute: number;
  failures: string[];
  ok: number;
  interrupted: number;
  failed: number;
  gaveup: number;
  /** Attempts refused as retryable (503/429) and retried under the same id. */
  retried: number;
  netErrors: number;
  latencies: number[];
  /** Last sample per node in this minute. */
  rssMb: Record<string, number>;
  heapMb: Record<string, number>;
  /** Longest event-loop delay seen on any node this minute. */
  lagMaxMs: number;
}

export interface Sample {
  t: number;
  node: string;
  lifetime: number;
  rssMb: number;
  heapMb: number;
  /** Longest event-loop delay since the previous scrape (prom-client resets it per scrape). */
  lagMaxMs: number;
}

export interface Trend {
  node: string;
  lifetime: number;
  fromSec: number;
  toSec: number;
  samples: number;
  rssSlopeMbPerMin: number;
  heapSlopeMbPerMin: number;
  rssStartMb: number;
  rssEndMb: number;
  /** Counted against the limit (the span is long enough). */
  judged: boolean;
}

export interface SoakSummary {
  options: Omit<SoakOptions, 'log'>;
  startedAt: string;
  /** Seconds from the start to the load (Redis, nodes, sessions, streams). */
  setupSec: number;
  durationSec: number;
  failures: Array<{ atSec: number; kind: FailureKind; detail: string }>;
  totals: { ops: number; ok: number; interrupted: number; failed: number; gaveup: number; lost: number; retried: number; netErrors: number; p50Ms: number; p99Ms: number; callsPerSec: number };
  minutes: Array<Omit<MinuteRow, 'latencies'> & { p50Ms: number; p99Ms: number }>;
  executions: { logged: number; duplicates: number; okNotOnce: number; unknown: number; notRunInterrupted: number; ranInterrupted: number; ranFailed: number };
  sessions: { total: number; lost: number; finalOk: number };
  subscriptions: { streams: number; fired: number; missed: number; duplicated: number; reopens: number };
  toolRestarts: Record<string, number | null>;
  /** Retryable refusals (retried under the same id) and final failures, by status and code. */
  refusals: Record<string, number>;
  failedBy: Record<string, number>;
  interruptedBy: Record<string, number>;
  trends: Trend[];
  maxJudgedRssSlopeMbPerMin: number | null;
  unexpectedExits: string[];
  failedSamples: string[];
  violations: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Memory trend per node lifetime (samples after the warm-up). */
export function trends(samples: Sample[], lifetimeStart: Map<string, number>, o: Pick<SoakOptions, 'warmupSec' | 'trendMinSpanSec'>): Trend[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${s.node}#${s.lifetime}`;
    const from = Math.max(o.warmupSec, (lifetimeStart.get(k) ?? 0) + (s.lifetime > 1 ? Math.min(60, o.warmupSec) : 0));
    if (s.t < from) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(s);
  }
  const out: Trend[] = [];
  for (const [, g] of groups) {
    if (g.length < 3) continue;
    const xs = g.map((s) => s.t / 60);
    const first = g[0]!;
    const last = g.at(-1)!;
    out.push({
      node: first.node,
      lifetime: first.lifetime,
      fromSec: Math.round(first.t),
      toSec: Math.round(last.t),
      samples: g.length,
      rssSlopeMbPerMin: slope(xs, g.map((s) => s.rssMb)),
      heapSlopeMbPerMin: slope(xs, g.map((s) => s.heapMb)),
      rssStartMb: first.rssMb,
      rssEndMb: last.rssMb,
      judged: last.t - first.t >= o.trendMinSpanSec,
    });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node) || a.lifetime - b.lifetime);
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Runs one soak; resolves with the summary (violations listed in it). */
export async function runSoak(opts: Partial<SoakOptions> & Pick<SoakOptions, 'cli' | 'module'>): Promise<SoakSummary> {
  const o: SoakOptions = { ...DEFAULTS, ...opts };
  const log = o.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'andon-soak-'));
  const execLog = join(dir, 'executions.log');
  await writeFile(execLog, '');
  const violations: string[] = [];
  const unexpectedExits: string[] = [];
  const failedSamples: string[] = [];
  const prefix = `soak-${randomUUID()}`;
  let redis: Redis | undefined;
  const nodes: AndonNode[] = [];
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  const streams: Stream[] = [];
  // Times are seconds since the load started (set again once the setup is done).
  let t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;
  const startedAt = new Date(t0).toISOString();
  let setupSec = 0;
  const lost = new Set<string>();
  const onLost = (why: string) => {
    if (lost.size < 50) violations.push(`session lost: ${why}`);
    lost.add(why.split(':')[0]!);
  };

  try {
    await mkdtemp(join(dir, 'redis-')).then(async (rd) => (redis = await startRedis(rd)));
    for (let i = 0; i < o.nodes; i++) {
      const id = `node-${String.fromCharCode(97 + i)}`;
      const stateDir = await mkdtemp(join(dir, `${id}-`));
      const config = join(stateDir, 'andon.config.yaml');
      await writeNodeConfig(config, { prefix, nodeId: id, commandTimeoutMs: o.commandTimeoutMs, guardianEventLoopDelayMs: o.guardianEventLoopDelayMs });
      const node = new AndonNode(id, o.cli, o.module, stateDir, await freePort(), await freePort(), { ANDON_CONFIG: config, ANDON_REDIS_URL: redis!.url, SOAK_LOG: execLog, ANDON_LOG_LEVEL: o.nodeLogLevel ?? 'warn' });
      if (o.nodeLogDir) node.logFile = join(o.nodeLogDir, `${id}.log`);
      node.onUnexpectedExit = (info) => {
        unexpectedExits.push(info);
        violations.push(`node crashed: ${info.slice(0, 300)}`);
      };
      node.onStartRetry = (info) => log(`[${now().toFixed(0)}s] ${id}: start attempt failed, retrying: ${info}`);
      nodes.push(node);
    }
    await Promise.all(nodes.map((n) => n.start()));
    proxy = await startProxy(nodes.map((n) => n.port));
    const url = proxy.url;

    // Sessions: initialized and subscribed through the proxy, whichever node it picks.
    const sessions: Session[] = [];
    for (let i = 0; i < o.sessions; i++) sessions.push(new Session(url));
    let k = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (k < sessions.length) {
          const s = sessions[k++]!;
          const init = await s.initialize(o.requestTimeoutMs);
          if (init.status !== 200 || !s.id) throw new Error(`initialize: ${init.status} ${init.text}`);
          const sub = await s.request('resources/subscribe', { uri: 'test://watched' }, o.requestTimeoutMs);
          if (sub.status !== 200 || sub.response?.error) throw new Error(`subscribe: ${sub.status} ${sub.text}`);
        }
      }),
    );
    for (const s of sessions.slice(0, o.streams)) {
      const st = new Stream(s, onLost);
      if (!(await st.start())) throw new Error(`GET stream of ${s.id} did not open: ${st.badStatuses.join(',')}`);
      streams.push(st);
    }
    setupSec = now();
    t0 = Date.now();
    const lifetimeStart = new Map<string, number>(nodes.map((n) => [`${n.id}#${n.lifetime}`, 0]));
    log(`[0s] setup took ${setupSec.toFixed(0)} s: ${o.nodes} nodes, ${o.sessions} sessions subscribed, ${streams.length} GET streams; load ${o.rate}/s over ${o.workers} workers; a failure every ${o.failureEverySec} s for ${o.durationSec} s`);

    // Per-minute accounting.
    const rows: MinuteRow[] = [];
    const row = (t = now()): MinuteRow => {
      const m = Math.floor(t / 60);
      while (rows.length <= m) rows.push({ minute: rows.length, failures: [], ok: 0, interrupted: 0, failed: 0, gaveup: 0, retried: 0, netErrors: 0, latencies: [], rssMb: {}, heapMb: {}, lagMaxMs: 0 });
      return rows[m]!;
    };
    const outcomes = new Map<string, Outcome>();
    /** Retryable refusals and final failures, by HTTP status and error code (or message). */
    const refusals = new Map<string, number>();
    const failures_ = new Map<string, number>();
    /** ANDON_INTERRUPTED answers by `data.reason` (claimed-elsewhere: the id's claim is held by another attempt). */
    const interruptedBy = new Map<string, number>();
    const failedSamplesMax = 20;

    /** One logical operation: `count` with id `op`, retried under the same request id. */
    const runOp = async (s: Session, op: string, extra: Record<string, unknown> = {}): Promise<Outcome> => {
      const start = Date.now();
      outcomes.set(op, 'gaveup');
      for (;;) {
        let r;
        try {
          r = await s.request('tools/call', { name: 'count', arguments: { op, ms: o.callMs, ...extra } }, o.requestTimeoutMs, op);
        } catch (err) {
          row().netErrors++;
          if (Date.now() - start > o.giveUpMs) {
            row().gaveup++;
            if (failedSamples.length < failedSamplesMax) failedSamples.push(`${op} gave up: ${(err as Error).message}`);
            return 'gaveup';
          }
          await sleep(100);
          continue;
        }
        if (r.status === 404) {
          onLost(`${s.id}: tools/call ${op} answered 404 ${r.text.slice(0, 200)}`);
          outcomes.set(op, 'lost');
          return 'lost';
        }
        const result = r.response?.result;
        const text: string = result?.content?.[0]?.text ?? '';
        if (r.status === 200 && result && !result.isError && text === `counted ${op}`) {
          const rw = row();
          rw.ok++;
          rw.latencies.push(Date.now() - start);
          outcomes.set(op, 'ok');
          return 'ok';
        }
        if (/ANDON_INTERRUPTED/.test(r.text)) {
          const why = `${r.response?.error?.data?.reason ?? 'recorded'}`;
          interruptedBy.set(why, (interruptedBy.get(why) ?? 0) + 1);
          row().interrupted++;
          outcomes.set(op, 'interrupted');
          return 'interrupted';
        }
        const retryable = r.status === 503 || r.status === 429 || r.response?.error?.data?.retryable === true;
        const why = `${r.status} ${r.response?.error?.data?.code ?? r.response?.error?.message ?? (text.slice(0, 60) || r.text.slice(0, 60))}`;
        (retryable ? refusals : failures_).set(why, ((retryable ? refusals : failures_).get(why) ?? 0) + 1);
        if (retryable && Date.now() - start <= o.giveUpMs) {
          row().retried++;
          await sleep(200);
          continue;
        }
        if (retryable) {
          row().gaveup++;
          if (failedSamples.length < failedSamplesMax) failedSamples.push(`${op} gave up: ${r.status} ${r.text.slice(0, 300)}`);
          return 'gaveup';
        }
        row().failed++;
        if (failedSamples.length < failedSamplesMax) failedSamples.push(`${op} failed: ${r.status} ${r.text.slice(0, 300)}`);
        outcomes.set(op, 'failed');
        return 'failed';
      }
    };

    // Steady load: each worker starts one operation every workers/rate seconds (closed loop if slower).
    let stop = false;
    const gap = (o.workers / o.rate) * 1000;
    const worker = async (w: number) => {
      let seq = 0;
      let next = Date.now() + Math.random() * gap;
      while (!stop) {
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        next = Math.max(next + gap, Date.now() - gap);
        if (stop) break;
        const s = sessions[Math.floor(Math.random() * sessions.length)]!;
        await runOp(s, `w${w}-${seq++}`);
      }
    };
    const load = Array.from({ length: o.workers }, (_, w) => worker(w));

    // Sampler: RSS and heap of each live node from its ops /metrics.
    const samples: Sample[] = [];
    const sampleOnce = async () => {
      await Promise.all(
        nodes.map(async (n) => {
          if (!n.alive) return;
          const lifetime = n.lifetime;
          try {
            const res = await fetch(`${n.opsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
            const text = await res.text();
            const rss = metric(text, 'andon_process_resident_memory_bytes') / 2 ** 20;
            const heap = metric(text, 'andon_nodejs_heap_size_used_bytes') / 2 ** 20;
            const lag = metric(text, 'andon_nodejs_eventloop_lag_max_seconds') * 1000;
            if (!Number.isFinite(rss)) return;
            const t = now();
            samples.push({ t, node: n.id, lifetime, rssMb: rss, heapMb: heap, lagMaxMs: Math.round(lag) });
            const rw = row(t);
            if (lag > rw.lagMaxMs) rw.lagMaxMs = Math.round(lag);
            rw.rssMb[n.id] = Math.round(rss);
            rw.heapMb[n.id] = Math.round(heap);
          } catch {
            // a node being killed or restarted: no sample
          }
        }),
      );
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sampleOnce();
        await sleep(o.sampleEverySec * 1000);
      }
    })();

    // Progress: one line per finished minute.
    let reported = 0;
    const progress = () => {
      const m = Math.floor(now() / 60);
      while (reported < m && rows[reported]) {
        log(formatRow(rows[reported]!, nodes.map((n) => n.id)));
        reported++;
      }
    };

    // Failures, rotating, one every interval; the kill victim is always the last node (the others
    // live the whole run, so their memory trend spans it).
    const failures: SoakSummary['failures'] = [];
    const victim = nodes.at(-1)!;
    let crashes = 0;
    const inject = async (kind: FailureKind) => {
      const at = now();
      let detail = '';
      switch (kind) {
        case 'tool-crash': {
          const op = `crash-${++crashes}`;
          const out = await runOp(sessions[crashes % sessions.length]!, op, { crash: true, ms: 0 });
          detail = `count handler threw outside its promise chain (op ${op}: ${out})`;
          break;
        }
        case 'store-stall':
          redis!.pause();
          await sleep(o.storeStallMs);
          redis!.resume();
          detail = `Redis SIGSTOP ${o.storeStallMs} ms (within the ${o.commandTimeoutMs} ms command timeout)`;
          break;
        case 'redis-stall':
          redis!.pause();
          await sleep(o.redisStallMs);
          redis!.resume();
          detail = `Redis SIGSTOP ${o.redisStallMs} ms (over the ${o.commandTimeoutMs} ms command timeout)`;
          break;
        case 'node-kill': {
          await victim.kill('SIGKILL');
          await sleep(o.restartDelayMs);
          const t = Date.now();
          await victim.start();
          lifetimeStart.set(`${victim.id}#${victim.lifetime}`, now());
          detail = `kill -9 ${victim.id}; restarted after ${o.restartDelayMs} ms on the same port and state dir (start took ${Date.now() - t} ms)`;
          break;
        }
      }
      failures.push({ atSec: Math.round(at), kind, detail });
      row(at).failures.push(kind);
      log(`[${at.toFixed(0)}s] failure: ${kind}: ${detail}`);
    };

    let f = 0;
    for (let next = o.failureEverySec; next < o.durationSec; next += o.failureEverySec) {
      while (now() < next) {
        await sleep(Math.min(1000, (next - now()) * 1000));
        progress();
      }
      await inject(FAILURE_KINDS[f++ % FAILURE_KINDS.length]!);
    }
    while (now() < o.durationSec) {
      await sleep(Math.min(1000, Math.max(10, (o.durationSec - now()) * 1000)));
      progress();
    }
    stop = true;
    await Promise.all(load);
    const durationSec = now();
    sampling = false;
    await sampler;
    progress();
    log(`[${now().toFixed(0)}s] load stopped; checking the invariants`);

    // No session lost: every session answers ping and a fresh operation through the proxy.
    let finalOk = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < sessions.length; i += 8) {
          const s = sessions[i]!;
          let okPing = false;
          let lastPing = '';
          const end = Date.now() + o.giveUpMs;
          while (!okPing && Date.now() < end) {
            try {
              const r = await s.request('ping', undefined, o.requestTimeoutMs);
              if (r.status === 404) {
                onLost(`${s.id}: final ping answered 404`);
                break;
              }
              okPing = r.status === 200 && !!r.response?.result;
              lastPing = `${r.status} ${r.text.slice(0, 200)}`;
            } catch (err) {
              lastPing = (err as Error).message;
            }
            if (!okPing) await sleep(200);
          }
          if (!okPing) {
            violations.push(`final check: session ${s.id} did not answer ping within ${o.giveUpMs} ms (last: ${lastPing})`);
            continue;
          }
          const out = await runOp(s, `final-${i}`);
          if (out === 'ok') finalOk++;
          else violations.push(`final check: session ${s.id} answered ping but its tools/call ended ${out}`);
        }
      }),
    );
    if (finalOk !== sessions.length) violations.push(`final check: ${sessions.length - finalOk} of ${sessions.length} sessions did not answer ping + tools/call`);

    // Every subscription fires once: streams for every session (the ones kept open during the run,
    // and a new one for the others), then one touch; each stream gets exactly one update.
    for (const s of sessions.slice(o.streams)) {
      const st = new Stream(s, onLost);
      if (await st.start()) streams.push(st);
      else violations.push(`final GET stream of ${s.id} did not open: ${st.badStatuses.join(',')}`);
    }
    const reopenEnd = Date.now() + 15_000;
    while (streams.some((st) => !st.isOpen) && Date.now() < reopenEnd) await sleep(100);
    await sleep(1000);
    const before = streams.map((st) => st.updates);
    let touched = false;
    for (let i = 0; i < 20 && !touched; i++) {
      try {
        const r = await sessions[0]!.request('tools/call', { name: 'touch', arguments: {} }, o.requestTimeoutMs);
        touched = /touched/.test(r.text);
        if (touched) log(`[${now().toFixed(0)}s] final touch: ${r.response?.result?.content?.[0]?.text ?? r.text.slice(0, 200)}`);
      } catch {
        // retried
      }
      if (!touched) await sleep(250);
    }
    if (!touched) violations.push('final touch did not run');
    const fireEnd = Date.now() + 15_000;
    while (streams.some((st, i) => st.updates < before[i]! + 1) && Date.now() < fireEnd) await sleep(100);
    await sleep(1500);
    let fired = 0;
    let missed = 0;
    let duplicated = 0;
    for (const [i, st] of streams.entries()) {
      const got = st.updates - before[i]!;
      if (got === 1) fired++;
      else if (got === 0) {
        missed++;
        violations.push(`subscriptions: the stream of ${st.session.id} (open ${st.isOpen}, ${st.reopens} reopens, last event ${st.lastEventId ?? '-'}) got no update for the final touch`);
      } else duplicated++;
    }
    if (missed) violations.push(`subscriptions: ${missed} of ${streams.length} streams got no update for the final touch`);
    if (duplicated) violations.push(`subscriptions: ${duplicated} of ${streams.length} streams got the final touch's update more than once`);
    const reopens = streams.reduce((a, st) => a + st.reopens, 0);

    // Tool restarts per node (current lifetime), from the admin API.
    const toolRestarts: Record<string, number | null> = {};
    for (const n of nodes) {
      try {
        const res = await fetch(`${n.opsUrl}/admin/components/tool:count`, { headers: { authorization: `Bearer ${n.token()}` }, signal: AbortSignal.timeout(5000) });
        toolRestarts[`${n.id}#${n.lifetime}`] = ((await res.json()) as { restarts?: number }).restarts ?? null;
      } catch {
        toolRestarts[`${n.id}#${n.lifetime}`] = null;
      }
    }

    // Executions: how often each operation's handler ran.
    const runs = new Map<string, number>();
    const lines = (await readFile(execLog, 'utf8')).split('\n').filter(Boolean);
    for (const line of lines) {
      const op = line.split(' ')[0]!;
      runs.set(op, (runs.get(op) ?? 0) + 1);
    }
    let duplicates = 0;
    let okNotOnce = 0;
    let unknown = 0;
    let notRunInterrupted = 0;
    let ranInterrupted = 0;
    let ranFailed = 0;
    for (const [op, n] of runs) {
      if (!outcomes.has(op)) {
        unknown++;
        if (unknown <= 5) violations.push(`execution of an operation never sent: ${op}`);
      }
      if (n > 1) {
        duplicates++;
        if (duplicates <= 10) violations.push(`duplicate execution: ${op} ran ${n} times (outcome ${outcomes.get(op)})`);
      }
    }
    for (const [op, out] of outcomes) {
      const n = runs.get(op) ?? 0;
      if (out === 'ok' && n !== 1) {
        okNotOnce++;
        if (okNotOnce <= 10) violations.push(`acknowledged operation ${op} ran ${n} times`);
      }
      if (out === 'interrupted') {
        if (n) ranInterrupted++;
        else notRunInterrupted++;
      }
      if (out === 'failed' && n) ranFailed++;
    }
    const lostOps = [...outcomes.values()].filter((x) => x === 'lost').length;

    const tr = trends(samples, lifetimeStart, o);
    const judged = tr.filter((t) => t.judged);
    const maxSlope = judged.length ? Math.max(...judged.map((t) => t.rssSlopeMbPerMin)) : null;
    if (o.assertTrend) {
      for (const t of judged) if (!(t.rssSlopeMbPerMin < o.slopeLimitMbPerMin)) violations.push(`memory growth trend: ${t.node} lifetime ${t.lifetime} RSS +${t.rssSlopeMbPerMin.toFixed(2)} MB/min over ${t.fromSec}–${t.toSec} s (limit ${o.slopeLimitMbPerMin})`);
    }

    const all = rows.flatMap((r) => r.latencies);
    const sum = (f: (r: MinuteRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    const totals = {
      ops: outcomes.size,
      ok: sum((r) => r.ok),
      interrupted: sum((r) => r.interrupted),
      failed: sum((r) => r.failed),
      gaveup: sum((r) => r.gaveup),
      lost: lostOps,
      retried: sum((r) => r.retried),
      netErrors: sum((r) => r.netErrors),
      p50Ms: percentile(all, 50),
      p99Ms: percentile(all, 99),
      callsPerSec: Math.round((sum((r) => r.ok) / durationSec) * 10) / 10,
    };
    if (totals.gaveup) violations.push(`${totals.gaveup} operations got no final answer within ${o.giveUpMs} ms of retries`);
    const { log: _log, ...options } = o;
    return {
      options,
      startedAt,
      setupSec: Math.round(setupSec),
      durationSec: Math.round(durationSec),
      failures,
      totals,
      minutes: rows.map(({ latencies, ...r }) => ({ ...r, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) })),
      executions: { logged: lines.length, duplicates, okNotOnce, unknown, notRunInterrupted, ranInterrupted, ranFailed },
      sessions: { total: sessions.length, lost: lost.size, finalOk },
      subscriptions: { streams: streams.length, fired, missed, duplicated, reopens },
      toolRestarts,
      refusals: Object.fromEntries(refusals),
      failedBy: Object.fromEntries(failures_),
      interruptedBy: Object.fromEntries(interruptedBy),
      trends: tr,
      maxJudgedRssSlopeMbPerMin: maxSlope,
      unexpectedExits,
      failedSamples,
      violations,
    };
  } finally {
    for (const st of streams) await st.close();
    await proxy?.close();
    for (const n of nodes) await n.kill('SIGTERM').catch(() => {});
    redis?.resume();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line of the per-minute table. */
export function formatRow(r: MinuteRow | SoakSummary['minutes'][number], nodeIds: string[]): string {
  const lat = 'latencies' in r ? r.latencies : undefined;
  const p50 = lat ? percentile(lat, 50) : (r as { p50Ms: number }).p50Ms;
  const p99 = lat ? percentile(lat, 99) : (r as { p99Ms: number }).p99Ms;
  const mem = nodeIds.map((id) => `${r.rssMb[id] ?? '-'}/${r.heapMb[id] ?? '-'}`).join(' ');
  return `| ${r.minute} | ${r.failures.join(', ') || '-'} | ${r.ok} | ${r.interrupted} | ${r.retried} | ${r.failed} | ${r.gaveup} | ${r.netErrors} | ${Number.isFinite(p50) ? p50 : '-'} | ${Number.isFinite(p99) ? p99 : '-'} | ${r.lagMaxMs} | ${mem} |`;
}

export const TABLE_HEADER = (nodeIds: string[]) =>
  `| min | failure | ok | interrupted | retried (503/429) | failed | gave up | net errors | p50 ms | p99 ms | max loop lag ms | RSS/heap MB ${nodeIds.join(' ')} |\n|---|---|---|---|---|---|---|---|---|---|---|---|`;
