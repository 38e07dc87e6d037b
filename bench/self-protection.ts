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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime, createServer } from '../src/index.js';
import { config, control, ready, ECHO_DESCRIPTION } from './servers/control.js';
import { HAS_TASKSET, spawnServer, type Child } from './lib/proc.js';
import { HttpLoad } from './lib/load-http.js';
import { median } from './lib/stats.js';

/** `on`/`off` are the comparison; `breakers`, `rates`, `guardian` turn on one part (--variants off,on,breakers,rates,guardian). */
type Variant = 'off' | 'on' | 'breakers' | 'rates' | 'guardian';
const variantsArg = process.argv.indexOf('--variants');
const VARIANTS = (variantsArg !== -1 ? process.argv[variantsArg + 1]!.split(',') : ['off', 'on']) as Variant[];
const HIGH = 1e9;

/** `--full`: both nodes also run observability (metrics, alerts wiring) and the journal, as `andon serve` does. */
const FULL = process.argv.includes('--full');
const cfg = process.argv[2]?.startsWith('{') ? config({ serve: false, variant: 'off' as Variant, full: false }) : { serve: false, variant: 'off' as Variant, full: FULL };

async function serve(): Promise<void> {
  const server = createServer({ name: 'andon-self-protection-bench', version: '0.0.0' });
  server.tool('echo', { description: ECHO_DESCRIPTION, inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }: { text: string }) => text);
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-bench-sp-'));
  process.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
  const v = cfg.variant;
  const with_ = (part: Variant) => v === 'on' || v === part;
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

interface Sample {
  cpuPerCallUs: number;
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
  const servers = new Map<Variant, { child: Child; load: HttpLoad; samples: Sample[] }>();
  try {
    for (const v of VARIANTS) {
      const prof = process.env.ANDON_BENCH_PROF;
      const nodeArgs = prof ? ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${v}-${Date.now()}.cpuprofile`] : undefined;
      const child = await spawnServer({ script: fileURLToPath(import.meta.url), config: { serve: true, variant: v, full: FULL }, cpu: HAS_TASKSET ? 0 : undefined, nodeArgs });
      const load = new HttpLoad({ origin: `http://127.0.0.1:${child.port}`, path: '/mcp', era: '2025', session: true }, concurrency);
      servers.set(v, { child, load, samples: [] });
      await load.open();
      await load.run(calls, 20); // warm-up
    }
    for (let r = 0; r < rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      for (const v of order) {
        const s = servers.get(v)!;
        const cpu0 = await s.child.cpuUs();
        const res = await s.load.run(calls, 30);
        const cpu1 = await s.child.cpuUs();
        s.samples.push({ cpuPerCallUs: (cpu1 - cpu0) / res.calls, rps: res.rps, p50: res.p50, p99: res.p99, errors: res.errors, ...(res.firstError ? { firstError: res.firstError } : {}) });
      }
      const last = (v: Variant) => servers.get(v)!.samples.at(-1)!;
      process.stderr.write(`round ${r + 1}/${rounds}: ${VARIANTS.map((v) => `${v} ${last(v).cpuPerCallUs.toFixed(1)} µs/call`).join(' | ')}\n`);
    }
  } finally {
    for (const s of servers.values()) {
      await s.load.close().catch(() => {});
      await s.child.kill();
    }
  }
  const samples = (v: Variant) => servers.get(v)!.samples;
  const med = (v: Variant, k: 'cpuPerCallUs' | 'rps' | 'p50' | 'p99') => median(samples(v).map((s) => s[k]));
  const ratios = servers.has('on') ? samples('on').map((s, i) => s.cpuPerCallUs / samples('off')[i]!.cpuPerCallUs) : [];
  const paired = ratios.length ? 100 * (median(ratios) - 1) : 0;
  const rows = VARIANTS.map((v) => `| ${v} | ${med(v, 'cpuPerCallUs').toFixed(1)} | ${v === 'off' ? '—' : `${(100 * (median(samples(v).map((s, i) => s.cpuPerCallUs / samples('off')[i]!.cpuPerCallUs)) - 1)).toFixed(1)} %`} | ${med(v, 'p50').toFixed(2)} | ${med(v, 'p99').toFixed(2)} | ${med(v, 'rps').toFixed(0)} |`);
  process.stdout.write(
    [
      '| variant | median server CPU µs/call | vs off (median of paired ratios) | p50 ms | p99 ms | req/s |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
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
  return paired > limit ? 1 : 0;
}

if (cfg.serve) await serve();
else process.exitCode = await main();
