/**
 * What the circuit breaker stage costs per tools/call (closed breaker: a Map lookup, two clock
 * reads, one bucket write), measured in-process against the same pipeline without it, in
 * interleaved rounds so machine noise hits both alike.
 *
 *   node dist/bench/tools/breakers.js [iterations per round] [rounds]
 */
import { AdmissionPipeline, BreakerRegistry, BreakerStage, HaltStage, nodeStage, systemClock, type IncomingRequest } from '../../src/index.js';

const n = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 9);
const RESULT = { content: [{ type: 'text', text: 'hi' }] };
const handler = (_req: IncomingRequest) => Promise.resolve(RESULT);
const base = new AdmissionPipeline(handler);
const guarded = new AdmissionPipeline(handler);
for (const p of [base, guarded]) {
  p.use(new HaltStage());
  p.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
}
const stage = new BreakerStage(new BreakerRegistry({}, systemClock));
guarded.use(stage);
const req = { request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }, peer: undefined, session: undefined, era: '2025', exchange: { send: () => {} }, signal: undefined } as unknown as IncomingRequest;

async function time(p: AdmissionPipeline): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i += 64) {
    const batch: Promise<unknown>[] = [];
    // The runtime counts the outcome when the response is made (installBreakers' settle hook).
    for (let j = 0; j < 64; j++) batch.push(p === guarded ? p.run(req).then((result) => stage.settle(req, { jsonrpc: '2.0', id: 1, result })) : p.run(req));
    await Promise.all(batch);
  }
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1e3) / n;
}

const without: number[] = [];
const withB: number[] = [];
await time(base);
await time(guarded);
for (let i = 0; i < rounds; i++) {
  without.push(await time(base));
  withB.push(await time(guarded));
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const diffs = without.map((d, i) => withB[i]! - d);
console.log(`built-in stages ${med(without).toFixed(0)} ns, with the breaker stage ${med(withB).toFixed(0)} ns: the breaker adds ${med(diffs).toFixed(0)} ns/tools/call (median of ${rounds} paired rounds; min ${Math.min(...diffs).toFixed(0)})`);
