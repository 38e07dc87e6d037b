/**
 * Profiles one server under the bench load: `node dist/bench/tools/profile.js <scenario> [calls]`
 * where scenario is http-json | http-sse | http-2026 | stdio | sessions. Runs the server with --cpu-prof
 * (pinned to CPU 0), drives it from this process, and prints the top self-time functions.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../lib/proc.js';
import { HttpLoad, createSessions } from '../lib/load-http.js';
import { StdioLoad } from '../lib/load-stdio.js';

const scenario = process.argv[2] ?? 'http-json';
const calls = Number(process.argv[3] ?? 100_000);
const script = process.argv[4] ?? 'andon.js';
const dir = mkdtempSync(join(tmpdir(), 'andon-prof-'));
const stdio = scenario === 'stdio';
const config: Record<string, unknown> = stdio ? { transport: 'stdio' } : { responseMode: scenario === 'http-sse' ? 'sse' : 'auto' };
const child = await spawnServer({ script, config, cpu: 0, stdio, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'] });
if (scenario === 'sessions') {
  const r = await createSessions(`http://127.0.0.1:${child.port}`, '/mcp', calls, 64, 60);
  console.log(`${r.perSecond.toFixed(0)} sessions/s (${r.created}, ${r.errors} errors)`);
} else if (stdio) {
  const l = new StdioLoad(child.proc);
  await l.initialize();
  const r = await l.run(calls, 64, 60);
  console.log(`${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms`);
} else {
  const load = new HttpLoad({ origin: `http://127.0.0.1:${child.port}`, path: '/mcp', era: scenario === 'http-2026' ? '2026' : '2025', session: scenario !== 'http-2026' }, 64);
  await load.open();
  const c0 = await child.cpuUs();
  const r = await load.run(calls, 60);
  const c1 = await child.cpuUs();
  console.log(`${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms, ${((c1 - c0) / r.calls).toFixed(1)} µs/call (profiling inflates this)`);
  await load.close();
}
await child.ask('exit');
await new Promise((r) => child.proc.once('exit', r));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[] };
const total = prof.samples.length;
const self = new Map<string, number>();
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, '')}:${n.callFrame.lineNumber + 1}`;
for (const n of prof.nodes) self.set(key(n), (self.get(key(n)) ?? 0) + n.hitCount);
// inclusive time per function (counted once per sample even if recursive)
const incl = new Map<string, number>();
const counts = new Map<number, number>();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
for (const [id, c] of counts) {
  const seen = new Set<string>();
  let cur: number | undefined = id;
  while (cur !== undefined) {
    const k = key(byId.get(cur)!);
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + c);
    }
    cur = parent.get(cur);
  }
}
const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`\nself time (${total} samples), profile in ${dir}`);
for (const [k, v] of top(self, Number(process.env.TOP ?? 45))) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
console.log('\ninclusive time');
for (const [k, v] of top(incl, Number(process.env.TOP ?? 45))) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
