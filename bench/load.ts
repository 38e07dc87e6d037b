/**
 * `npm run load`: ramp one `andon serve` node to N concurrent clients (default 15,000: 60 %
 * Streamable HTTP sessions holding a GET SSE stream, 20 % WebSocket, 20 % POST clients) with steady
 * tools/call traffic and notifications; a table per ramp step and a JSON summary.
 *
 *   npm run load -- [--clients N] [--ramp-seconds S] [--hold-seconds S] [--steps N]
 *                   [--mix sse,ws,post] [--callers N] [--call-interval-ms MS] [--notify-ms MS]
 *                   [--post-interval-ms MS] [--tool echo|echo_ro] [--per-worker N] [--scenario normal|heap]
 *                   [--heap-mb MB] [--no-guardian] [--recover-seconds S] [--out FILE.json]
 *
 * `--scenario heap` runs the node with `--max-old-space-size=<heap-mb>` (default 96): the guardian
 * must refuse new sessions before the heap runs out, and recover once the clients have left.
 */
import { writeFile } from 'node:fs/promises';
import { DEFAULTS, runLoad, type LoadOptions } from './load/run-load.js';

const argv = process.argv.slice(2);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
function num(name: string, d: number): number {
  const v = opt(name);
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number, got ${v}`);
  return n;
}

const scenario = (opt('scenario') ?? 'normal') as LoadOptions['scenario'];
if (scenario !== 'normal' && scenario !== 'heap') throw new Error(`--scenario: normal or heap, got ${scenario}`);
const mixArg = (opt('mix') ?? '60,20,20').split(',').map(Number);
const o: Partial<LoadOptions> = {
  clients: num('clients', DEFAULTS.clients),
  rampSeconds: num('ramp-seconds', scenario === 'heap' ? 60 : DEFAULTS.rampSeconds),
  holdSeconds: num('hold-seconds', DEFAULTS.holdSeconds),
  steps: num('steps', DEFAULTS.steps),
  mix: { sse: mixArg[0] ?? 60, ws: mixArg[1] ?? 20, post: mixArg[2] ?? 20 },
  callers: num('callers', DEFAULTS.callers),
  callIntervalMs: num('call-interval-ms', DEFAULTS.callIntervalMs),
  notifyMs: num('notify-ms', DEFAULTS.notifyMs),
  postIntervalMs: num('post-interval-ms', DEFAULTS.postIntervalMs),
  perWorker: num('per-worker', DEFAULTS.perWorker),
  tool: opt('tool') === 'echo_ro' ? 'echo_ro' : 'echo',
  scenario,
  heapMb: num('heap-mb', DEFAULTS.heapMb),
  guardian: !argv.includes('--no-guardian'),
  recoverSeconds: num('recover-seconds', DEFAULTS.recoverSeconds),
};

const summary = await runLoad(o);
const json = JSON.stringify(summary, null, 2);
const out = opt('out');
if (out) await writeFile(out, `${json}\n`);
process.stdout.write(`\nsummary: held ${summary.peak.held} clients at the peak (server: ${summary.peak.serverConnections} connections, ${summary.peak.serverSessions} sessions), RSS peak ${summary.peak.rssMiB.toFixed(0)} MiB, heap peak ${summary.peak.heapUsedMiB.toFixed(0)} MiB; tools/call ${summary.calls.total} calls, ${summary.calls.errors} errors, p50 ${summary.calls.p50.toFixed(1)} ms, p99 ${summary.calls.p99.toFixed(1)} ms (read-only tool: ${summary.calls.p50ReadOnly.toFixed(1)} / ${summary.calls.p99ReadOnly.toFixed(1)} ms); per 1,000 clients: RSS ${summary.perThousand.rssMiB.toFixed(1)} MiB, heap ${summary.perThousand.heapMiB.toFixed(1)} MiB; client errors ${JSON.stringify(summary.errors)}; node ${summary.nodeAlive ? 'alive' : `EXITED ${JSON.stringify(summary.nodeExit)}`}${out ? `; JSON in ${out}` : ''}\n`);
if (!out) process.stdout.write(`${json}\n`);
process.exit(summary.nodeAlive ? 0 : 1);
