/**
 * Cost of the resource guardian and degradation mode per call: the same server without them
 * (`off`), with them as a configured node runs them (`guardian`: the event-loop delay histogram and a
 * sample every 5 s; the `degrade` stage exists only while degraded) and with a sample every 100 ms
 * (`guardian-100ms`, fifty times the default rate, to bound the sampling cost). Same harness as
 * bench/overhead.ts: servers pinned to CPU 0 when taskset exists, rounds rotate, best round and
 * the median of paired ratios are reported. Exits 1 when `guardian`'s best-round overhead exceeds
 * --limit percent (default 3).
 *
 *   node dist/bench/guardian.js [--rounds 10] [--calls 6000] [--concurrency 64] [--limit 3]
 */
import { fileURLToPath } from 'node:url';
import { createServer, serveHttp } from '../src/index.js';
import { Degradation } from '../src/resilience/degradation.js';
import { ResourceGuardian } from '../src/resilience/guardian.js';
import { processSampler } from '../src/resilience/sampler.js';
import { config, control, ready, ECHO_DESCRIPTION } from './servers/control.js';
import { HAS_TASKSET, spawnServer, type Child } from './lib/proc.js';
import { HttpLoad } from './lib/load-http.js';
import { median } from './lib/stats.js';

type Variant = 'off' | 'guardian' | 'guardian-100ms';
const VARIANTS: Variant[] = ['off', 'guardian', 'guardian-100ms'];

const cfg = process.argv[2]?.startsWith('{') ? config({ serve: false, variant: 'off' as Variant }) : { serve: false, variant: 'off' as Variant };

async function serve(): Promise<void> {
  const server = createServer({ name: 'andon-guardian-bench', version: '0.0.0' });
  server.tool('echo', { description: ECHO_DESCRIPTION, inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }: { text: string }) => text);
  if (cfg.variant !== 'off') {
    const degradation = new Degradation({ server });
    new ResourceGuardian({ sampler: processSampler(), degradation, intervalMs: cfg.variant === 'guardian' ? 5000 : 100, onHard: () => {} }).start();
  }
  const ep = await serveHttp(server, { port: 0 });
  control({});
  ready(ep.port);
}

interface Sample {
  cpuPerCallUs: number;
  rps: number;
  errors: number;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i !== -1 ? Number(argv[i + 1]) : def;
  };
  const rounds = opt('rounds', 10);
  const calls = opt('calls', 6000);
  const concurrency = opt('concurrency', 64);
  const limit = opt('limit', 3);
  const servers = new Map<Variant, { child: Child; load: HttpLoad; samples: Sample[] }>();
  try {
    for (const v of VARIANTS) {
      const child = await spawnServer({ script: fileURLToPath(import.meta.url), config: { serve: true, variant: v }, cpu: HAS_TASKSET ? 0 : undefined });
      const load = new HttpLoad({ origin: `http://127.0.0.1:${child.port}`, path: '/mcp', era: '2025', session: true }, concurrency);
      servers.set(v, { child, load, samples: [] });
      await load.open();
      await load.run(calls, 10);
    }
    for (let r = 0; r < rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      for (const v of order) {
        const s = servers.get(v)!;
        const cpu0 = await s.child.cpuUs();
        const res = await s.load.run(calls, 30);
        const cpu1 = await s.child.cpuUs();
        s.samples.push({ cpuPerCallUs: (cpu1 - cpu0) / res.calls, rps: res.rps, errors: res.errors });
      }
      process.stderr.write(`round ${r + 1}/${rounds}: ${VARIANTS.map((v) => `${v} ${servers.get(v)!.samples.at(-1)!.cpuPerCallUs.toFixed(1)} µs/call`).join(' | ')}\n`);
    }
  } finally {
    for (const s of servers.values()) {
      await s.load.close().catch(() => {});
      await s.child.kill();
    }
  }
  const samples = (v: Variant) => servers.get(v)!.samples;
  const best = (v: Variant) => Math.min(...samples(v).map((s) => s.cpuPerCallUs));
  const paired = (v: Variant) => 100 * (median(samples(v).map((s, i) => s.cpuPerCallUs / samples('off')[i]!.cpuPerCallUs)) - 1);
  const rows = VARIANTS.map((v) => `| ${v} | ${best(v).toFixed(1)} | ${v === 'off' ? '—' : `${(100 * (best(v) / best('off') - 1)).toFixed(1)} %`} | ${v === 'off' ? '—' : `${paired(v).toFixed(1)} %`} | ${median(samples(v).map((s) => s.rps)).toFixed(0)} |`);
  process.stdout.write(
    [
      '| variant | best server CPU µs/call | overhead (best) | overhead (median of paired ratios) | median req/s |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `${rounds} rounds of ${calls} tools/call per server (C=${concurrency}, 2025 session${HAS_TASKSET ? ', servers on CPU 0, load client on CPU 1' : ''}), node ${process.version}.`,
      '',
    ].join('\n'),
  );
  const errors = VARIANTS.reduce((n, v) => n + samples(v).reduce((m, s) => m + s.errors, 0), 0);
  if (errors) {
    process.stderr.write(`guardian bench: ${errors} errors\n`);
    return 1;
  }
  return 100 * (best('guardian') / best('off') - 1) > limit ? 1 : 0;
}

if (cfg.serve) await serve();
else process.exitCode = await main();
