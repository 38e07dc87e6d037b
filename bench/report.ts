/** Turns a bench run into Markdown: medians over repetitions, ratios to the ceiling of the same rep. */
import type { ColdCell, HttpCell, Scenario, SessionCell, StdioCell, StreamsResult } from './run.js';
import { median, minMax } from './lib/stats.js';

export interface Results {
  date: string;
  command: string;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  reps: number;
  background: Array<{ when: string; busyPct: number; stealPct: number; perCpuPct: number[]; loadavg: number[] }>;
  scenarios: Scenario[];
  stdioSpecs: Array<{ key: string; label: string }>;
  sessionSpecs: Array<{ key: string; label: string }>;
  coldSpecs: Array<{ key: string; label: string }>;
  http: HttpCell[];
  stdio: StdioCell[];
  sessions: SessionCell[];
  streams: StreamsResult[];
  cold: ColdCell[];
  seconds: number;
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const fx = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '—');
const range = (xs: number[], f: (x: number) => string) => {
  const [lo, hi] = minMax(xs);
  return Number.isFinite(lo) ? `${f(lo)}–${f(hi)}` : '—';
};

export interface HttpSummary {
  key: string;
  c: number;
  rps: number;
  rpsRange: [number, number];
  p50: number;
  p99: number;
  cpu: number;
  cpuRange: [number, number];
  /** Medians of per-rep ratios to the bare ceiling of the same rep and C. */
  rpsX: number;
  p99X: number;
  cpuX: number;
  errors: number;
}

/** The ceiling a scenario is compared with: the bare responder fed the same request shape. */
export function ceilingOf(s: Scenario): string {
  return s.era === '2026' ? 'bare-2026' : 'bare';
}

export function summariseHttp(r: Results): HttpSummary[] {
  const out: HttpSummary[] = [];
  for (const s of r.scenarios) {
    const ceilKey = r.http.some((x) => x.key === ceilingOf(s)) ? ceilingOf(s) : 'bare';
    for (const c of [1, 16, 64]) {
      const cells = r.http.filter((x) => x.key === s.key && x.c === c);
      if (!cells.length) continue;
      const ratio = (pick: (x: HttpCell) => number) =>
        median(
          cells.map((x) => {
            const ceil = r.http.find((y) => y.key === ceilKey && y.c === c && y.rep === x.rep);
            return ceil ? pick(x) / pick(ceil) : NaN;
          }),
        );
      out.push({
        key: s.key,
        c,
        rps: median(cells.map((x) => x.rps)),
        rpsRange: minMax(cells.map((x) => x.rps)),
        p50: median(cells.map((x) => x.p50)),
        p99: median(cells.map((x) => x.p99)),
        cpu: median(cells.map((x) => x.serverCpuPerCallUs)),
        cpuRange: minMax(cells.map((x) => x.serverCpuPerCallUs)),
        rpsX: ratio((x) => x.rps),
        p99X: ratio((x) => x.p99),
        cpuX: ratio((x) => x.serverCpuPerCallUs),
        errors: cells.reduce((n, x) => n + x.errors, 0),
      });
    }
  }
  return out;
}

/** Median over reps of (a / b) for two HTTP scenarios measured in the same rep and C. */
function pairedHttp(r: Results, a: string, b: string, c: number, pick: (x: HttpCell) => number): number {
  return median(
    r.http
      .filter((x) => x.key === a && x.c === c)
      .map((x) => {
        const y = r.http.find((z) => z.key === b && z.c === c && z.rep === x.rep);
        return y ? pick(x) / pick(y) : NaN;
      }),
  );
}

function pairedStdio(r: Results, a: string, b: string, pick: (x: StdioCell) => number): number {
  return median(
    r.stdio
      .filter((x) => x.key === a)
      .map((x) => {
        const y = r.stdio.find((z) => z.key === b && z.rep === x.rep);
        return y ? pick(x) / pick(y) : NaN;
      }),
  );
}

interface Target {
  what: string;
  measured: string;
  ok: boolean | null;
}

export function targets(r: Results): Target[] {
  const t: Target[] = [];
  const hs = summariseHttp(r);
  const h = (key: string) => hs.find((x) => x.key === key && x.c === 64);
  const add = (what: string, value: number, ok: (v: number) => boolean, show: (v: number) => string) =>
    t.push({ what, measured: show(value), ok: Number.isFinite(value) ? ok(value) : null });
  if (r.http.length) {
    const j = h('andon-json');
    add('HTTP 2025 JSON, C=64: server CPU per call <= 2x the bare responder', j?.cpuX ?? NaN, (v) => v <= 2, fx);
    add('HTTP 2025 JSON, C=64: throughput >= 0.75 of the ceiling', j?.rpsX ?? NaN, (v) => v >= 0.75, f2);
    add('HTTP 2025 JSON, C=64: p99 <= 1.5x the ceiling p99', j?.p99X ?? NaN, (v) => v <= 1.5, fx);
    add('HTTP 2026 stateless, C=64: throughput >= 0.75 of the ceiling', h('andon-2026')?.rpsX ?? NaN, (v) => v >= 0.75, f2);
    add('HTTP 2026 stateless, C=64: >= 10x SDK 1.32 stateless (req/s)', pairedHttp(r, 'andon-2026', 'sdk-stateless-json', 64, (x) => x.rps), (v) => v >= 10, fx);
    add('HTTP 2026 stateless, C=64: >= 10x v2 createMcpHandler (req/s)', pairedHttp(r, 'andon-2026', 'v2-2026', 64, (x) => x.rps), (v) => v >= 10, fx);
    add('HTTP 2025 SSE responses, C=64: throughput >= 0.5 of the ceiling', h('andon-sse')?.rpsX ?? NaN, (v) => v >= 0.5, f2);
  }
  if (r.stdio.length) {
    add('stdio, C=64: >= 2x SDK 1.32 stdio (req/s)', pairedStdio(r, 'andon-stdio', 'sdk-stdio', (x) => x.rps), (v) => v >= 2, fx);
    add('stdio, C=64: >= 0.7 of the stdio ceiling (req/s)', pairedStdio(r, 'andon-stdio', 'bare-stdio', (x) => x.rps), (v) => v >= 0.7, f2);
  }
  if (r.sessions.length) {
    const s = r.sessions.filter((x) => x.key === 'andon');
    add('<= 4 KiB RSS per idle 2025 session (N = 10,000, after GC)', median(s.map((x) => x.rssKiBPerSession)), (v) => v <= 4, (v) => `${f2(v)} KiB`);
    add('>= 5,000 sessions created per second', median(s.map((x) => x.perSecond)), (v) => v >= 5000, (v) => `${f0(v)}/s`);
  }
  const st = r.streams.find((x) => x.key === 'andon');
  if (st) {
    const okCount = st.opened >= st.target;
    t.push({ what: `${st.target.toLocaleString('en-US')} concurrent SSE streams under 1 GiB RSS`, measured: `${f0(st.opened)} streams, ${f0(st.rssMiB)} MiB`, ok: okCount && st.rssMiB < 1024 });
    const b = median(st.broadcasts.map((x) => x.ms));
    add('a broadcast reaches all streams within 2 s (median of 3)', b, (v) => v <= 2000, (v) => `${f0(v)} ms`);
  }
  if (r.cold.length) {
    add('cold start to first initialize <= 150 ms (serveHttp)', median(r.cold.filter((x) => x.key === 'andon').map((x) => x.ms)), (v) => v <= 150, (v) => `${f0(v)} ms`);
  }
  return t;
}

export function renderMarkdown(r: Results): string {
  const L: string[] = [];
  const m = r.machine;
  L.push(`# andon-mcp benchmark, ${r.date.slice(0, 10)}`);
  L.push('');
  L.push(`Command: \`${r.command}\` (${f0(r.seconds)} s). Machine: ${String(m.cpus)} × ${String(m.cpuModel)}, ${String(m.memGiB)} GiB, Linux ${String(m.kernel)}, Node ${String(m.node)}; ${String(m.pinned)}.`);
  L.push(`Peers: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}. Load client: undici Pool, one keep-alive connection per in-flight request.`);
  L.push(`Medians of ${r.reps} repetitions interleaved across servers; "x ceiling" is the median of per-repetition ratios to the bare responder measured in the same repetition and concurrency, fed the same request shape (2025 rows: 2025-shaped requests; 2026 rows: 2026-shaped requests). Server CPU per call = the server process's own CPU time (user+system, all threads) / calls.`);
  L.push('');

  const t = targets(r);
  if (t.length) {
    L.push('## Targets');
    L.push('');
    L.push('| target | measured | |');
    L.push('|---|---|---|');
    for (const x of t) L.push(`| ${x.what} | ${x.measured} | ${x.ok === null ? 'n/a' : x.ok ? 'met' : '**missed**'} |`);
    L.push('');
  }

  if (r.http.length) {
    const hs = summariseHttp(r);
    const label = (key: string) => r.scenarios.find((s) => s.key === key)!.label;
    const groups: Array<[Scenario['group'], string]> = [
      ['json', '2025 era, JSON responses'],
      ['sse', '2025 era, SSE responses'],
      ['2026', '2026 era, stateless'],
    ];
    L.push('## tools/call over Streamable HTTP, C = 64 (headline)');
    L.push('');
    L.push('| requests | server | req/s | x ceiling | p50 ms | p99 ms | p99 x ceiling | server CPU µs/call | CPU x ceiling |');
    L.push('|---|---|---|---|---|---|---|---|---|');
    const row = (grp: string, s: HttpSummary) =>
      `| ${grp} | ${label(s.key)} | ${f0(s.rps)} | ${f2(s.rpsX)} | ${f2(s.p50)} | ${f1(s.p99)} | ${fx(s.p99X)} | ${f1(s.cpu)} | ${fx(s.cpuX)} |${s.errors ? ` ${s.errors} errors` : ''}`;
    const ceil64 = hs.find((x) => x.key === 'bare' && x.c === 64);
    if (ceil64) L.push(row('2025 (any)', ceil64));
    const ceil64b = hs.find((x) => x.key === 'bare-2026' && x.c === 64);
    if (ceil64b) L.push(row('2026', ceil64b));
    for (const [g, name] of groups) {
      for (const s of r.scenarios.filter((x) => x.group === g)) {
        const x = hs.find((y) => y.key === s.key && y.c === 64);
        if (x) L.push(row(name, x));
      }
    }
    L.push('');
    L.push('## tools/call over Streamable HTTP, all concurrencies');
    L.push('');
    L.push('| requests | server | C | req/s (range) | x ceiling | p50 ms | p99 ms | server CPU µs/call (range) | CPU x ceiling |');
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const [g, name] of [['ceiling', 'ceiling'] as const, ...groups]) {
      for (const s of r.scenarios.filter((x) => x.group === g)) {
        for (const x of hs.filter((y) => y.key === s.key)) {
          L.push(`| ${name} | ${label(s.key)} | ${x.c} | ${f0(x.rps)} (${range(x.rpsRange, f0)}) | ${f2(x.rpsX)} | ${f2(x.p50)} | ${f1(x.p99)} | ${f1(x.cpu)} (${range(x.cpuRange, f1)}) | ${fx(x.cpuX)} |${x.errors ? ` ${x.errors} errors` : ''}`);
        }
      }
    }
    L.push('');
    const other = r.http.map((x) => x.otherCpuPct).filter(Number.isFinite);
    const foreign = r.http.map((x) => x.foreignCpuPct).filter(Number.isFinite);
    const noisy = r.http.filter((x) => x.foreignCpuPct > 5).length;
    const steal = r.http.map((x) => x.stealPct).filter(Number.isFinite);
    const client = (key: string) => median(r.http.filter((x) => x.key === key && x.c === 64).map((x) => x.clientCpuPerCallUs));
    L.push(`Client CPU per call at C=64 (bare / andon): ${f1(client('bare'))} / ${f1(client('andon-json'))} µs — at the ceiling the one-core client, not the server, is the limit. Machine CPU not accounted to server or client during measured windows (kernel networking + background): median ${f1(median(other))}%, max ${f1(Math.max(...other))}% of all CPUs; steal max ${f1(Math.max(0, ...steal))}%. CPU used by other processes during measured windows: median ${f1(median(foreign))}%, max ${f1(Math.max(0, ...foreign))}% of all CPUs; ${noisy} of ${r.http.length} windows above 5%.`);
    L.push('');
  }

  if (r.stdio.length) {
    L.push('## tools/call over stdio, C = 64');
    L.push('');
    L.push('| server | req/s (range) | x ceiling | p50 ms | p99 ms | server CPU µs/call | CPU x ceiling |');
    L.push('|---|---|---|---|---|---|---|');
    for (const spec of r.stdioSpecs) {
      const cells = r.stdio.filter((x) => x.key === spec.key);
      if (!cells.length) continue;
      const rps = cells.map((x) => x.rps);
      const errors = cells.reduce((n, x) => n + x.errors, 0);
      L.push(
        `| ${spec.label} | ${f0(median(rps))} (${range(rps, f0)}) | ${f2(pairedStdio(r, spec.key, 'bare-stdio', (x) => x.rps))} | ${f2(median(cells.map((x) => x.p50)))} | ${f2(median(cells.map((x) => x.p99)))} | ${f1(median(cells.map((x) => x.serverCpuPerCallUs)))} | ${fx(pairedStdio(r, spec.key, 'bare-stdio', (x) => x.serverCpuPerCallUs))} |${errors ? ` ${errors} errors` : ''}`,
      );
    }
    L.push('');
  }

  if (r.sessions.length) {
    L.push('## 2025 sessions: creation rate and idle cost (N = 10,000 or 15 s, after GC)');
    L.push('');
    L.push('| server | sessions created | sessions/s (range) | KiB RSS per idle session | KiB heap per idle session |');
    L.push('|---|---|---|---|---|');
    for (const spec of r.sessionSpecs) {
      const cells = r.sessions.filter((x) => x.key === spec.key);
      if (!cells.length) continue;
      const ps = cells.map((x) => x.perSecond);
      L.push(`| ${spec.label} | ${f0(median(cells.map((x) => x.created)))} | ${f0(median(ps))} (${range(ps, f0)}) | ${f2(median(cells.map((x) => x.rssKiBPerSession)))} | ${f2(median(cells.map((x) => x.heapKiBPerSession)))} |`);
    }
    L.push('');
    L.push('A session is created by initialize + notifications/initialized, 64 handshakes in flight.');
    L.push('');
  }

  if (r.streams.length) {
    L.push('## Idle sessions each holding a GET SSE stream, one resources/updated to all');
    L.push('');
    L.push('| server | streams open | server RSS MiB | KiB RSS per stream+session | broadcast reaches all, ms (3 runs) | setup sessions/s |');
    L.push('|---|---|---|---|---|---|');
    for (const s of r.streams) {
      const label = s.key === 'andon' ? '**andon-mcp**' : s.key === 'sdk' ? 'SDK 1.32 stateful' : s.key;
      L.push(`| ${label} | ${f0(s.opened)} / ${f0(s.target)} | ${f0(s.rssMiB)} | ${f1(s.kibPerStream)} | ${s.broadcasts.map((b) => f0(b.ms)).join(', ') || '—'} | ${f0(s.sessionsPerSecond)} |${s.error ? ` error: ${s.error}` : ''}`);
    }
    L.push('');
    L.push('Each session: initialize, notifications/initialized, resources/subscribe, then a GET stream held on a raw socket. Broadcast time is from the server starting notifyResourceUpdated to the last stream receiving it.');
    L.push('');
  }

  if (r.cold.length) {
    L.push('## Cold start: spawn to first initialize response');
    L.push('');
    L.push('| server | median ms | range ms |');
    L.push('|---|---|---|');
    for (const spec of r.coldSpecs) {
      const ms = r.cold.filter((x) => x.key === spec.key).map((x) => x.ms);
      if (!ms.length) continue;
      L.push(`| ${spec.label} | ${f0(median(ms))} | ${range(ms, f0)} |`);
    }
    L.push('');
  }

  if (r.background.length) {
    L.push('## Background');
    L.push('');
    L.push(`Idle machine CPU sampled for 1 s between sections: ${r.background.map((b) => `${b.when} ${f1(b.busyPct)}%`).join(', ')} (steal max ${f1(Math.max(...r.background.map((b) => b.stealPct)))}%). Load average at start: ${r.background[0]!.loadavg.map(f2).join(' ')}.`);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}

/** The short section for the README: the C=64 headline and the session, stream and start-up figures. */
export function renderReadme(r: Results): string {
  const L: string[] = [];
  const m = r.machine;
  const hs = summariseHttp(r);
  const label = (key: string) => r.scenarios.find((s) => s.key === key)?.label ?? key;
  const h = (key: string) => hs.find((x) => x.key === key && x.c === 64);
  L.push(`Measured ${r.date.slice(0, 10)} with \`${r.command}\` on ${String(m.cpus)} × ${String(m.cpuModel)} (${String(m.memGiB)} GiB), Node ${String(m.node)}, server pinned to CPU 0 and the undici load client to CPU 1; medians of ${r.reps} interleaved repetitions, each ratio against the bare \`node:http\` responder measured in the same repetition. tools/call of one \`echo\` tool, 64 in flight:`);
  L.push('');
  L.push('| requests | server | req/s | x ceiling | p99 ms | server CPU µs/call | x ceiling |');
  L.push('|---|---|---|---|---|---|---|');
  const rows: Array<[string, string]> = [
    ['bare', '2025'],
    ['andon-json', '2025, JSON'],
    ['sdk-json', '2025, JSON'],
    ['sdk-stateless-json', '2025, JSON'],
    ['fastmcp-json', '2025, JSON'],
    ['andon-sse', '2025, SSE'],
    ['sdk-sse', '2025, SSE'],
    ['bare-2026', '2026'],
    ['andon-2026', '2026'],
    ['v2-2026', '2026'],
  ];
  for (const [key, grp] of rows) {
    const x = h(key);
    if (x) L.push(`| ${grp} | ${label(key)} | ${f0(x.rps)} | ${f2(x.rpsX)} | ${f1(x.p99)} | ${f1(x.cpu)} | ${fx(x.cpuX)} |`);
  }
  const st = (key: string) => r.stdio.filter((x) => x.key === key);
  if (r.stdio.length) {
    const parts = ['bare-stdio', 'andon-stdio', 'sdk-stdio', 'v2-stdio'].map((k) => `${r.stdioSpecs.find((s) => s.key === k)?.label ?? k} ${f0(median(st(k).map((x) => x.rps)))}`);
    L.push('');
    L.push(`stdio, 64 in flight (req/s): ${parts.join(' · ')}.`);
  }
  const ses = (key: string) => r.sessions.filter((x) => x.key === key);
  if (r.sessions.length) {
    L.push(
      `2025 sessions: andon-mcp creates ${f0(median(ses('andon').map((x) => x.perSecond)))}/s and holds an idle one in ${f2(median(ses('andon').map((x) => x.rssKiBPerSession)))} KiB RSS (SDK: ${f0(median(ses('sdk').map((x) => x.perSecond)))}/s, ${f1(median(ses('sdk').map((x) => x.rssKiBPerSession)))} KiB; fastmcp: ${f0(median(ses('fastmcp').map((x) => x.perSecond)))}/s, ${f1(median(ses('fastmcp').map((x) => x.rssKiBPerSession)))} KiB).`,
    );
  }
  const a = r.streams.find((x) => x.key === 'andon');
  if (a) L.push(`${f0(a.opened)} idle sessions each holding a GET SSE stream: ${f0(a.rssMiB)} MiB RSS; one resources/updated reaches all of them in ${f0(median(a.broadcasts.map((b) => b.ms)))} ms.`);
  if (r.cold.length) {
    const c = (key: string) => f0(median(r.cold.filter((x) => x.key === key).map((x) => x.ms)));
    L.push(`Spawn to first initialize response: andon-mcp ${c('andon')} ms (CLI ${c('andon-cli')} ms), bare node:http ${c('bare')} ms, SDK ${c('sdk')} ms, v2 ${c('v2')} ms, fastmcp ${c('fastmcp')} ms.`);
  }
  L.push('');
  L.push(`Full tables (C = 1, 16, 64; SSE; stdio; sessions; streams; start-up; background CPU): [bench/results/${r.date.slice(0, 10)}.md](bench/results/${r.date.slice(0, 10)}.md). Method, every optimisation and what it bought: [docs/performance.md](docs/performance.md).`);
  return `${L.join('\n')}\n`;
}
