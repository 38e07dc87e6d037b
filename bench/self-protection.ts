/**
 * What issue 10's self-protection costs per call, side by side on the same andon node (a Runtime
 * from createRuntime, as `andon serve` builds, in a child process): `tools/call` of `echo` over
 * Streamable HTTP (2025 session, C=64) with
 *   - `on`:  the resource guardian + degradation mode (default thresholds, a sample every 5 s),
 *            circuit breakers (defaults), rate limits (per client, per tool `echo`, global; rates
 *            high enough never to refuse), connection and session limits (defaults);
 *   - `off`: guardian, breakers and rate limits off. Connection and session limits have no off
 *            switch (the HTTP endpoint always counts sockets and sessions), so both have them.
 * Both: no ops listener, no observability, no journal (with --full: observability and the journal
 * on, as `andon serve` runs them), recovery strategist on (idle), a temporary
 * state directory. Same harness as bench/guardian.ts: servers pinned to CPU 0 when taskset exists
 * (load client on CPU 1), rounds interleaved with the order rotated, server CPU read over IPC
 * (process.cpuUsage) around each round. Reports per variant the median server CPU µs/call, p50
 * and p99 latency (medians over rounds), and the median of the paired per-round ratios on/off.
 * Exits 1 when that median overhead exceeds --limit percent (default 3) or any call failed.
 *
 *   node dist/bench/self-protection.js [--rounds 7] [--calls 6000] [--concurrency 64] [--limit 3] [--full] [--variants off,on,breakers,rates,guardian]
 *   npm run bench:self-protection
 *
 * `--callgrind`: every server runs under `valgrind --tool=callgrind` (instrumentation off until
 * warmed up), and each measured batch is counted in **instructions** (all threads of the server,
 * `callgrind_control` switches counting on around the batch): a figure other processes on the
 * machine cannot move (the servers are not pinned then). Slow (~50x): e.g. `--rounds 3 --calls 1000
 * --warmup 20000`, with `ANDON_BENCH_NODE_ARGS=--single-threaded` so that V8 compiles and collects
 * on the JavaScript thread: the count is then a function of the work alone (with background
 * threads, when a compile job finishes depends on valgrind's thread scheduling, and tiering up
 * took more than 12,000 calls).
 * `ANDON_BENCH_CG_KEEP=1` keeps the dumps (`/tmp/andon-bench-cg-<pid>-<variant>.<pid>.<n>`) for
 * `callgrind_annotate`: V8's builtins and the C++ runtime are named there, JIT code is not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime, createServer } from '../src/index.js';
import { config, control, ready, ECHO_DESCRIPTION } from './servers/control.js';
import { HAS_TASKSET, spawnServer, type Child } from './lib/proc.js';
import { HttpLoad } from './lib/load-http.js';
import { median } from './lib/stats.js';

/**
 * `on`/`off` are the comparison; `breakers`, `rates`, `guardian` turn on one part, `limits` breakers and
 * rate limits without the guardian (--variants off,on,breakers,rates,guardian,limits). The guardian's cost
 * is per second, not per call (a sample every 5 s, an event-loop delay timer), so under --callgrind, where
 * a call takes ~50x longer, `limits` is the per-call comparison.
 */
type Variant = 'off' | 'on' | 'breakers' | 'rates' | 'guardian' | 'limits';
const variantsArg = process.argv.indexOf('--variants');
const VARIANTS = (variantsArg !== -1 ? process.argv[variantsArg + 1]!.split(',') : ['off', 'on']) as Variant[];
const HIGH = 1e9;

/** `--full`: both nodes also run observability (metrics, alerts wiring) and the journal, as `andon serve` does. */
const FULL = process.argv.includes('--full');
/** `--callgrind`: count instructions per call under valgrind (deterministic, unlike CPU time on a shared machine). */
const CALLGRIND = process.argv.includes('--callgrind');
const CG_DIR = '/tmp';
const cgPrefix = (v: Variant) => `andon-bench-cg-${process.pid}-${v}.`;

/**
 * Instructions the server executed since `callgrind_control -z` (dumps, reads the newest dump):
 * `main` on the JavaScript thread, `all` with V8's compiler and GC threads and libuv's pool.
 */
function callgrindCount(pid: number, v: Variant): { main: number; all: number } {
  execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  // With --separate-threads=yes: <prefix><pid>.<dump>-<thread>.
  const files = readdirSync(CG_DIR).filter((f) => f.startsWith(`${cgPrefix(v)}${pid}.`));
  const dumpOf = (f: string) => Number(/\.(\d+)-\d+$/.exec(f)?.[1] ?? -1);
  const last = Math.max(...files.map(dumpOf));
  if (!(last > 0)) throw new Error(`no callgrind dump for ${v}`);
  let main = 0;
  let all = 0;
  for (const f of files.filter((x) => dumpOf(x) === last)) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(CG_DIR, f), 'utf8'));
    const n = m ? Number(m[1]) : 0;
    all += n;
    if (f.endsWith('-01')) main = n;
  }
  return { main, all };
}

const cfg = process.argv[2]?.startsWith('{') ? config({ serve: false, variant: 'off' as Variant, full: false }) : { serve: false, variant: 'off' as Variant, full: FULL };

async function serve(): Promise<void> {
  const server = createServer({ name: 'andon-self-protection-bench', version: '0.0.0' });
  server.tool('echo', { description: ECHO_DESCRIPTION, inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }: { text: string }) => text);
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-bench-sp-'));
  process.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
  const v = cfg.variant;
  const with_ = (part: Variant) => v === 'on' || v === part || (v === 'limits' && part !== 'guardian');
  const rt = createRuntime({
    server,
    stateDir,
    http: { port: 0, host: '127.0.0.1' },
    ops: false,
    ...(cfg.full ? {} : { observability: false as const, journal: false as const }),
    signals: false,
    adminToken: 'bench',
    breakers: with_('breakers') ? {} : false,
    rateLimits: with_('rates') ? { perClient: { messagesPerSec: HIGH, toolCallsPerSec: HIGH }, global: { messagesPerSec: HIGH }, tools: { echo: { callsPerSec: HIGH } } } : false,
    guardian: with_('guardian') ? {} : false,
  });
  await rt.start();
  if (process.env.ANDON_BENCH_PROF) process.on('SIGTERM', () => process.exit(0));
  control({});
  ready(Number(new URL(rt.url!).port));
}

/**
 * CPU time of the server's JavaScript thread (its main thread), µs, from the scheduler's own
 * nanosecond count (/proc/<pid>/task/<pid>/schedstat); undefined where it cannot be read. Unlike
 * the process's CPU it leaves out V8's compiler and GC helper threads and libuv's pool, whose work
 * comes in bursts (a late TurboFan compile, a concurrent marking cycle) that land in one round.
 */
function mainThreadCpuUs(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return undefined;
  }
}

interface Sample {
  cpuPerCallUs: number;
  /** The JavaScript thread alone (see {@link mainThreadCpuUs}). */
  mainCpuPerCallUs?: number;
  /** --callgrind: instructions per call on the JavaScript thread, and on all threads. */
  instrPerCall?: number;
  instrAllPerCall?: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i !== -1 ? Number(argv[i + 1]) : def;
  };
  const rounds = opt('rounds', 7);
  const calls = opt('calls', 6000);
  const concurrency = opt('concurrency', 64);
  const limit = opt('limit', 3);
  const warmup = opt('warmup', calls);
  const servers = new Map<Variant, { child: Child; load: HttpLoad; samples: Sample[] }>();
  try {
    for (const v of VARIANTS) {
      const prof = process.env.ANDON_BENCH_PROF;
      // ANDON_BENCH_NODE_ARGS='--trace-deopt …': extra node flags; ANDON_BENCH_STDOUT=DIR: each server's stdout to DIR/<variant>.log (for --trace-* output).
      const extra = process.env.ANDON_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const nodeArgs = prof ? ['--expose-gc', ...extra, '--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${v}-${Date.now()}.cpuprofile`] : extra.length ? ['--expose-gc', ...extra] : undefined;
      const out = process.env.ANDON_BENCH_STDOUT;
      const wrap = CALLGRIND
        ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(CG_DIR, `${cgPrefix(v)}%p`)}`]
        : out
          ? ['sh', '-c', `exec "$0" "$@" > ${join(out, `${v}.log`)}`]
          : undefined;
      const child = await spawnServer({ script: fileURLToPath(import.meta.url), config: { serve: true, variant: v, full: FULL }, cpu: HAS_TASKSET && !CALLGRIND ? 0 : undefined, nodeArgs, ...(wrap ? { wrap, readyTimeoutMs: 600_000 } : {}) });
      const load = new HttpLoad({ origin: `http://127.0.0.1:${child.port}`, path: '/mcp', era: '2025', session: true }, concurrency);
      servers.set(v, { child, load, samples: [] });
      await load.open();
      await load.run(warmup, CALLGRIND ? 7200 : 20); // warm-up (under valgrind not capped by time: a cut-short warm-up leaves V8 tiering up in the measured rounds)
    }
    for (let r = 0; r < rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      for (const v of order) {
        const s = servers.get(v)!;
        if (CALLGRIND) {
          execFileSync('callgrind_control', ['-i', 'on', String(s.child.pid)], { stdio: 'ignore' });
          execFileSync('callgrind_control', ['-z', String(s.child.pid)], { stdio: 'ignore' });
        }
        const cpu0 = await s.child.cpuUs();
        const main0 = mainThreadCpuUs(s.child.pid);
        const res = await s.load.run(calls, CALLGRIND ? 600 : 30);
        const main1 = mainThreadCpuUs(s.child.pid);
        const cpu1 = await s.child.cpuUs();
        const instr = CALLGRIND ? callgrindCount(s.child.pid, v) : undefined;
        if (CALLGRIND) execFileSync('callgrind_control', ['-i', 'off', String(s.child.pid)], { stdio: 'ignore' });
        s.samples.push({ cpuPerCallUs: (cpu1 - cpu0) / res.calls, ...(main0 !== undefined && main1 !== undefined ? { mainCpuPerCallUs: (main1 - main0) / res.calls } : {}), ...(instr !== undefined ? { instrPerCall: instr.main / res.calls, instrAllPerCall: instr.all / res.calls } : {}), rps: res.rps, p50: res.p50, p99: res.p99, errors: res.errors, ...(res.firstError ? { firstError: res.firstError } : {}) });
      }
      const last = (v: Variant) => servers.get(v)!.samples.at(-1)!;
      process.stderr.write(`round ${r + 1}/${rounds}: ${VARIANTS.map((v) => `${v} ${last(v).cpuPerCallUs.toFixed(1)} µs/call${CALLGRIND ? ` ${Math.round(last(v).instrPerCall!)} instr/call (all threads ${Math.round(last(v).instrAllPerCall!)})` : ''}`).join(' | ')}\n`);
    }
  } finally {
    for (const [v, s] of servers) {
      await s.load.close().catch(() => {});
      await s.child.kill();
      // ANDON_BENCH_CG_KEEP=1 keeps the dumps (/tmp/andon-bench-cg-*) for callgrind_annotate.
      if (CALLGRIND && !process.env.ANDON_BENCH_CG_KEEP) for (const f of readdirSync(CG_DIR)) if (f.startsWith(cgPrefix(v))) rmSync(join(CG_DIR, f), { force: true });
    }
  }
  const samples = (v: Variant) => servers.get(v)!.samples;
  const med = (v: Variant, k: 'cpuPerCallUs' | 'rps' | 'p50' | 'p99') => median(samples(v).map((s) => s[k]));
  const ratios = servers.has('on') ? samples('on').map((s, i) => s.cpuPerCallUs / samples('off')[i]!.cpuPerCallUs) : [];
  const paired = ratios.length ? 100 * (median(ratios) - 1) : 0;
  // Under --callgrind the verdict is on instructions (CPU time under valgrind says little).
  const instrPaired = CALLGRIND && servers.has('on') ? 100 * (median(samples('on').map((s, i) => s.instrPerCall! / samples('off')[i]!.instrPerCall!)) - 1) : undefined;
  const hasMain = VARIANTS.every((v) => samples(v).every((s) => s.mainCpuPerCallUs !== undefined));
  const vsOff = (v: Variant, k: 'cpuPerCallUs' | 'mainCpuPerCallUs') => (v === 'off' ? '—' : `${(100 * (median(samples(v).map((s, i) => s[k]! / samples('off')[i]![k]!)) - 1)).toFixed(1)} %`);
  const rows = VARIANTS.map(
    (v) =>
      `| ${v} | ${med(v, 'cpuPerCallUs').toFixed(1)} | ${vsOff(v, 'cpuPerCallUs')} |${hasMain ? ` ${median(samples(v).map((s) => s.mainCpuPerCallUs!)).toFixed(1)} | ${vsOff(v, 'mainCpuPerCallUs')} |` : ''} ${med(v, 'p50').toFixed(2)} | ${med(v, 'p99').toFixed(2)} | ${med(v, 'rps').toFixed(0)} |`,
  );
  process.stdout.write(
    [
      `| variant | median server CPU µs/call | vs off (median of paired ratios) |${hasMain ? ' JS thread µs/call | vs off |' : ''} p50 ms | p99 ms | req/s |`,
      `|---|---|---|${hasMain ? '---|---|' : ''}---|---|---|`,
      ...rows,
      '',
      ...(CALLGRIND
        ? [
            '| variant | median instructions/call, JS thread | vs off (median of paired ratios) | all threads | vs off |',
            '|---|---|---|---|---|',
            ...VARIANTS.map((v) => {
              const vs = (k: 'instrPerCall' | 'instrAllPerCall') => (v === 'off' ? '—' : `${(100 * (median(samples(v).map((s, i) => s[k]! / samples('off')[i]![k]!)) - 1)).toFixed(2)} %`);
              return `| ${v} | ${Math.round(median(samples(v).map((s) => s.instrPerCall!)))} | ${vs('instrPerCall')} | ${Math.round(median(samples(v).map((s) => s.instrAllPerCall!)))} | ${vs('instrAllPerCall')} |`;
            }),
            '',
          ]
        : []),
      ratios.length === 0 ? '' : `on vs off: ${(100 * (med('on', 'cpuPerCallUs') / med('off', 'cpuPerCallUs') - 1)).toFixed(1)} % (ratio of medians), ${paired.toFixed(1)} % (median of ${rounds} paired per-round ratios; range ${(100 * (Math.min(...ratios) - 1)).toFixed(1)} … ${(100 * (Math.max(...ratios) - 1)).toFixed(1)} %).`,
      `${rounds} interleaved rounds of ${calls} tools/call per server (C=${concurrency}, 2025 session, ${FULL ? 'observability and journal on' : 'no observability, no journal'}${HAS_TASKSET ? ', servers on CPU 0, load client on CPU 1' : ''}), node ${process.version}.`,
      '',
    ].join('\n'),
  );
  const errors = VARIANTS.flatMap((v) => samples(v)).filter((s) => s.errors);
  if (errors.length) {
    process.stderr.write(`self-protection bench: ${errors.reduce((n, s) => n + s.errors, 0)} errors, first: ${errors[0]!.firstError}\n`);
    return 1;
  }
  return (instrPaired ?? paired) > limit ? 1 : 0;
}

if (cfg.serve) await serve();
else process.exitCode = await main();
