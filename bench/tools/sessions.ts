/**
 * Cost of opening a 2025 HTTP session while many are held (its durable write before initialize is
 * answered): a real runtime (FileStore with fsync, HTTP on 127.0.0.1) started on a state
 * directory that already holds `held` sessions (written in the 64-bucket format of before the
 * session log, so the start restores — and, since the log, migrates — them), then `seq`
 * sequential initializes and `conc` initializes `c` at a time. Prints one line per run and the
 * medians: ms and CPU µs (this process: client and node) per initialize (sequential),
 * initializes/s (concurrent), the first start (restore, and migration since the log) and a
 * second start on what the first left (N + 620 sessions).
 * `node dist/bench/tools/sessions.js [held=1000,10000] [runs=3] [seq=200] [conc=400] [c=32]`
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRuntime, createServer } from '../../src/index.js';

const held = (process.argv[2] ?? '1000,10000').split(',').map(Number);
const runs = Number(process.argv[3] ?? 3);
const seq = Number(process.argv[4] ?? 200);
const conc = Number(process.argv[5] ?? 400);
const c = Number(process.argv[6] ?? 32);

/** The bucket of the format before the session log (src/runtime/session-persistence.ts, legacyBucketOf). */
function bucketOf(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return String(h % 64);
}

function seed(dir: string, n: number): void {
  const buckets = new Map<string, Record<string, string>>();
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const id = `held-${i.toString(16).padStart(8, '0')}-${createHash('sha256').update(String(i)).digest('hex').slice(0, 24)}`;
    const rec = { id, protocolVersion: '2025-11-25', clientInfo: { name: 'bench', version: '1' }, clientCapabilities: {}, subscriptions: [], lastActivity: now };
    const b = bucketOf(id);
    let m = buckets.get(b);
    if (!m) buckets.set(b, (m = {}));
    m[id] = JSON.stringify(rec);
  }
  mkdirSync(join(dir, 'sessions'), { recursive: true });
  for (const [b, value] of buckets) {
    const payload = JSON.stringify(value);
    const env = { schema: 'andon-store/1', sha256: createHash('sha256').update(payload).digest('hex'), savedAt: now, payload };
    writeFileSync(join(dir, 'sessions', `${b}.json`), JSON.stringify(env));
  }
}

async function initialize(url: string): Promise<void> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } } }) });
  await r.text();
  if (r.status !== 200) throw new Error(`initialize answered ${r.status}`);
}

async function run(n: number): Promise<{ restoreMs: number; seqMs: number; concPerSec: number; cpuUs: number; restartMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'andon-sessions-bench-'));
  seed(dir, n);
  const server = createServer({ name: 'sb', version: '1' });
  const limits = { maxSessions: 1_000_000, maxSessionsPerClient: 1_000_000 };
  const rt = createRuntime({ server, stateDir: dir, http: { port: 0, responseMode: 'json', limits }, ops: false, observability: false, signals: false, adminToken: 'x', rateLimits: false });
  const t0 = performance.now();
  await rt.start();
  const restoreMs = performance.now() - t0;
  const url = rt.url!;
  for (let i = 0; i < 20; i++) await initialize(url); // warm-up
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  for (let i = 0; i < seq; i++) await initialize(url);
  const seqMs = (performance.now() - t1) / seq;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / seq;
  let left = conc;
  const worker = async () => {
    while (left-- > 0) await initialize(url);
  };
  const t2 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  const concPerSec = conc / ((performance.now() - t2) / 1000);
  await rt.drain();
  // A second start on what the first left (after the change: the log, no migration).
  const rt2 = createRuntime({ server: createServer({ name: 'sb', version: '1' }), stateDir: dir, http: { port: 0, responseMode: 'json', limits }, ops: false, observability: false, signals: false, adminToken: 'x', rateLimits: false });
  const t3 = performance.now();
  await rt2.start();
  const restartMs = performance.now() - t3;
  await rt2.drain();
  rmSync(dir, { recursive: true, force: true });
  return { restoreMs, seqMs, concPerSec, cpuUs, restartMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary: string[] = [];
for (const n of held) {
  const rs = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(n);
    console.log(`held ${n} run ${i + 1}: restore ${r.restoreMs.toFixed(0)} ms, sequential ${r.seqMs.toFixed(2)} ms/initialize (${r.cpuUs.toFixed(0)} µs CPU of this process), ${c} concurrent ${r.concPerSec.toFixed(0)} initializes/s, restart ${r.restartMs.toFixed(0)} ms`);
    rs.push(r);
  }
  summary.push(`| ${n} | ${median(rs.map((r) => r.seqMs)).toFixed(2)} | ${median(rs.map((r) => r.cpuUs)).toFixed(0)} | ${median(rs.map((r) => r.concPerSec)).toFixed(0)} | ${median(rs.map((r) => r.restoreMs)).toFixed(0)} | ${median(rs.map((r) => r.restartMs)).toFixed(0)} |`);
}
console.log(`\n| sessions held | sequential ms/initialize (median of ${runs}) | CPU µs/initialize, client and node (median) | ${c} concurrent: initializes/s (median) | first start (restore), ms (median) | second start, ms (median) |`);
console.log('|---|---|---|---|---|---|');
for (const l of summary) console.log(l);
