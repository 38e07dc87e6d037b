/**
 * What the rate-limit stage costs per request, in-process: the admission pipeline with the
 * built-in stages (node, halts) alone, then with the rate-limit stage on the default store
 * (hand-written token buckets, synchronous) and on rate-limiter-flexible's RateLimiterMemory
 * (a promise per consume), limits high enough that nothing is refused. Interleaved rounds, CPU
 * time, medians. Distinct clients: each request comes from one of `clients` sessions.
 *
 *   node dist/bench/tools/rate-limits.js [iterations per round] [rounds] [clients]
 */
import { randomUUID } from 'node:crypto';
import { AdmissionPipeline, HaltStage, nodeStage, type IncomingRequest } from '../../src/index.js';
import { RateLimits, flexibleStore } from '../../src/resilience/rate-limits.js';

const n = Number(process.argv[2] ?? 500_000);
const rounds = Number(process.argv[3] ?? 7);
const clients = Number(process.argv[4] ?? 100);
const RESULT = { content: [{ type: 'text', text: 'hi' }] };
const handler = (_req: IncomingRequest) => Promise.resolve(RESULT);
const high = { perClient: { messagesPerSec: 1e12, toolCallsPerSec: 1e12 }, global: { messagesPerSec: 1e12 } };

function pipelineWith(limits?: RateLimits): AdmissionPipeline {
  const p = new AdmissionPipeline(handler);
  p.use(new HaltStage());
  p.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
  limits?.install(p);
  return p;
}
const base = pipelineWith();
const bucket = pipelineWith(new RateLimits(high));
const flexible = pipelineWith(new RateLimits({ ...high, store: flexibleStore() }));

const reqs = Array.from({ length: clients }, () => ({ request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }, peer: undefined, session: { id: randomUUID() }, era: '2025', exchange: { send: () => {} }, signal: undefined }) as unknown as IncomingRequest);

async function time(p: AdmissionPipeline): Promise<number> {
  const t0 = process.cpuUsage();
  let k = 0;
  for (let i = 0; i < n; i += 64) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < 64; j++) batch.push(p.run(reqs[k++ % clients]!));
    await Promise.all(batch);
  }
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1e3) / n;
}

const runs: Record<string, number[]> = { base: [], bucket: [], flexible: [] };
for (const p of [base, bucket, flexible]) await time(p);
for (let i = 0; i < rounds; i++) {
  runs.base!.push(await time(base));
  runs.bucket!.push(await time(bucket));
  runs.flexible!.push(await time(flexible));
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const b = med(runs.base!);
console.log(`pipeline with idle built-in stages: ${b.toFixed(0)} ns/request`);
console.log(`+ rate limits, token buckets (sync):       ${med(runs.bucket!).toFixed(0)} ns (+${(med(runs.bucket!) - b).toFixed(0)} ns)`);
console.log(`+ rate limits, rate-limiter-flexible memory: ${med(runs.flexible!).toFixed(0)} ns (+${(med(runs.flexible!) - b).toFixed(0)} ns)`);
console.log(`(median of ${rounds} interleaved rounds of ${n} tools/call from ${clients} clients; 3 counters per request)`);
process.exit(0);
