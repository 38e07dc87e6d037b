/**
 * What the admission pipeline costs per request with every built-in stage on and idle (the
 * runtime's node stage, the server's halt stage), measured in-process against calling the same
 * handler directly, in interleaved rounds so machine noise hits both alike. Compare the extra ns
 * with the server CPU per tools/call of the bench (`npm run bench -- --quick`) for the percentage.
 *
 *   node dist/bench/tools/admission.js [iterations per round] [rounds]
 */
import { AdmissionPipeline, HaltStage, nodeStage, type IncomingRequest } from '../../src/index.js';

const n = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 9);
const RESULT = { content: [{ type: 'text', text: 'hi' }] };
const handler = (_req: IncomingRequest) => Promise.resolve(RESULT);
const pipeline = new AdmissionPipeline(handler);
pipeline.use(new HaltStage());
pipeline.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
const req = { request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }, peer: undefined, session: undefined, era: '2025', exchange: { send: () => {} }, signal: undefined } as unknown as IncomingRequest;

async function time(run: (r: IncomingRequest) => Promise<unknown>): Promise<number> {
  const t0 = process.cpuUsage();
  // Awaited in batches, as a server awaits its requests.
  for (let i = 0; i < n; i += 64) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < 64; j++) batch.push(run(req));
    await Promise.all(batch);
  }
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1e3) / n;
}

const direct: number[] = [];
const piped: number[] = [];
await time(handler);
await time((r) => pipeline.run(r));
for (let i = 0; i < rounds; i++) {
  direct.push(await time(handler));
  piped.push(await time((r) => pipeline.run(r)));
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const diffs = direct.map((d, i) => piped[i]! - d);
console.log(`direct ${med(direct).toFixed(0)} ns, through the pipeline ${med(piped).toFixed(0)} ns: the idle built-in stages add ${med(diffs).toFixed(0)} ns/request (median of ${rounds} paired rounds; min ${Math.min(...diffs).toFixed(0)})`);
