/**
 * Issue 13's bench: an andon node on the Redis store against one on the default file store, in
 * ONE run. It starts its own `redis-server` (127.0.0.1, a free port, a temporary directory, killed
 * at the end) and two nodes built as `andon serve` builds them (configuration file → loadConfig →
 * runtimeOptionsFromConfig → createRuntime: journal, observability, ops listener, session
 * persistence all at their defaults), each in a child process with its own state directory:
 *   - `file`:  `store` left at its default (the embedded file store);
 *   - `redis`: `store: { kind: redis, prefix, nodeId }`, the URL from ANDON_REDIS_URL.
 * The served tool is an unannotated `echo` — to the runtime a side-effecting tool, so every call is
 * journaled (write-ahead and outcome; on Redis also a request-id claim), the most the store does
 * per call.
 *
 * 1. Throughput: `tools/call` over Streamable HTTP (one 2025 session per node, C=64), interleaved
 *    rounds with the order rotated; per node req/s, p50/p99 and the node's CPU µs per call (read
 *    over IPC), redis-server's CPU µs per call, and the ratio redis/file (median of the paired
 *    per-round ratios of req/s). Exit 1 when that median is below --min-ratio (default 0.6), or when
 *    any call was not answered with a result.
 * 2. Footprint: `INFO memory` used_memory before and after --sessions new sessions (initialize +
 *    resources/subscribe) on the Redis node, per session; the stored record of one session
 *    (HSTRLEN of its field); the bytes the throughput rounds left in Redis per call (request-id
 *    claims, kept for the journal's retention + 60 s).
 * 3. SSE events: the cost of an append to the Redis Streams event store (RedisEventStore) against
 *    the in-memory event store the file-store node uses — µs per event on the event loop, µs per
 *    event until Redis acknowledged all (pipelined), one awaited append's round trip, and Redis
 *    bytes per stored event — and end to end: notifications/resources/updated delivered on a GET
 *    stream (a burst of --events per round), events/s and node CPU µs per event, each node.
 *
 * Nodes pinned to CPU 0 when taskset exists; redis-server not pinned unless --redis-cpu N.
 * --tool readonly serves the echo with `readOnlyHint: true` (not journaled: no claim, no journal
 * writes), to separate the journal's share of the cost from the rest.
 *
 *   node dist/bench/cluster.js [--rounds 7] [--calls 6000] [--concurrency 64] [--min-ratio 0.6]
 *        [--sessions 1000] [--events 5000] [--sse-rounds 3] [--append-events 20000] [--json FILE]
 *        [--tool journaled|readonly] [--redis-cpu N]
 *   npm run bench:cluster
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createClient } from 'redis';
import { createServer, createRuntime, MemoryEventStore, nullLogger } from '../src/index.js';
import { createLogger } from '../src/util/logger.js';
import { loadConfig, loggerOptionsFromConfig, runtimeOptionsFromConfig } from '../src/config/index.js';
import { RedisStore } from '../src/store/redis-store.js';
import { RedisEventStore } from '../src/transports/redis-event-store.js';
import { config, control, ready, ECHO_DESCRIPTION, RESOURCE_URI } from './servers/control.js';
import { HAS_TASKSET, freePort, procCpuUs, spawnServer, sleep, type Child } from './lib/proc.js';
import { HttpLoad, V2025, createSessions, openSession } from './lib/load-http.js';
import { median, minMax } from './lib/stats.js';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';

type Kind = 'file' | 'redis';
const KINDS: Kind[] = ['file', 'redis'];
const PREFIX = 'bench';
/** ANDON_BENCH_PROF=DIR: both nodes run with --cpu-prof, profiles written to DIR (bench/tools/profile.ts reads the format). */
const PROF = process.env.ANDON_BENCH_PROF;
/**
 * Rate limits stay on (on the Redis store the per-client limits count in Redis: a round trip per
 * limit per request), with rates no bench reaches, so they count and never refuse. The session
 * limit per client is raised for the footprint's sessions. The resource guardian is off: on a
 * loaded shared machine its degradation mode (event-loop delay) refuses calls and ends the run.
 */
const LIMITS = 'rateLimits:\n  perClient: { messagesPerSec: 1000000000, toolCallsPerSec: 1000000000 }\n  global: { messagesPerSec: 1000000000 }\nlimits:\n  maxSessionsPerClient: 1000000\nguardian:\n  enabled: false\n';

interface ServeCfg {
  serve: boolean;
  kind: Kind;
  redisUrl: string;
  stateDir: string;
  opsPort: number;
  tool: Tool;
}

/** `journaled`: an unannotated echo (side-effecting to the runtime); `readonly`: `readOnlyHint: true`, never journaled. */
type Tool = 'journaled' | 'readonly';

/** The node: the server module a user would write, served the way `andon serve` serves it. */
async function serve(c: ServeCfg): Promise<void> {
  const server = createServer({ name: `andon-cluster-bench-${c.kind}`, version: '0.0.0' });
  server.tool('echo', { description: ECHO_DESCRIPTION, ...(c.tool === 'readonly' ? { annotations: { readOnlyHint: true } } : {}), inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }: { text: string }) => text);
  server.resource(RESOURCE_URI, { name: 'counter', mimeType: 'text/plain' }, () => '0');
  const file = join(c.stateDir, 'andon.config.yaml');
  writeFileSync(file, `${c.kind === 'redis' ? `store:\n  kind: redis\n  prefix: ${PREFIX}\n  nodeId: bench-redis\n` : '# store: the default file store\n'}${LIMITS}`);
  // As under `andon serve`: the URL is in the environment (ANDON_REDIS_URL, store.urlEnv).
  process.env.ANDON_REDIS_URL = c.redisUrl;
  process.env.ANDON_ADMIN_TOKEN = 'bench';
  const loaded = loadConfig({ file, overrides: { 'http.port': 0, 'ops.port': c.opsPort, 'ops.enabled': true, stateDir: c.stateDir } });
  const logger = createLogger(loggerOptionsFromConfig(loaded.config));
  const rt = createRuntime({ server, ...runtimeOptionsFromConfig(loaded.config), logger });
  await rt.start();
  control({ broadcast: (uri) => server.notifyResourceUpdated(uri), sessions: () => server.sessionCount() });
  // A burst of resource updates (one per event, yielding every 64 so the streams drain).
  process.on('message', (raw: unknown) => {
    const m = raw as { id: number; cmd: string; n?: number };
    if (m.cmd !== 'burst') return;
    void (async () => {
      let sent = 0;
      for (let i = 0; i < (m.n ?? 0); i++) {
        sent += server.notifyResourceUpdated(RESOURCE_URI);
        if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
      }
      process.send?.({ id: m.id, sent });
    })();
  });
  ready(Number(new URL(rt.url!).port));
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuPerCallUs: number;
  redisCpuPerCallUs?: number;
  calls: number;
  errors: number;
  firstError?: string;
}

interface Node {
  kind: Kind;
  child: Child;
  stateDir: string;
  origin: string;
  load: HttpLoad;
  samples: Sample[];
}

const ACCEPT = 'application/json, text/event-stream';

/** One session on `origin`, subscribed to the bench resource, with its GET stream open; counts updates. */
async function openStream(origin: string): Promise<{ waitFor(n: number, timeoutMs: number): Promise<number>; close(): Promise<void> }> {
  const pool = new Pool(origin, { connections: 2 });
  const sid = await openSession(pool, '/mcp');
  const h = { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2025, 'mcp-session-id': sid };
  const sub = await pool.request({ path: '/mcp', method: 'POST', headers: h, body: `{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"${RESOURCE_URI}"}}` });
  const subText = await sub.body.text();
  if (sub.statusCode !== 200 || !subText.includes('"result"')) throw new Error(`subscribe failed: ${sub.statusCode} ${subText.slice(0, 200)}`);
  const get = await pool.request({ path: '/mcp', method: 'GET', headers: { accept: 'text/event-stream', 'mcp-protocol-version': V2025, 'mcp-session-id': sid } });
  if (get.statusCode !== 200) throw new Error(`GET stream refused: ${get.statusCode} ${await get.body.text()}`);
  let count = 0;
  let tail = '';
  let wake: (() => void) | undefined;
  get.body.on('data', (d: Buffer) => {
    const parts = (tail + d.toString()).split('\n\n');
    tail = parts.pop()!;
    for (const p of parts) if (p.includes('notifications/resources/updated')) count++;
    wake?.();
  });
  get.body.on('error', () => {});
  return {
    async waitFor(n, timeoutMs) {
      const end = performance.now() + timeoutMs;
      while (count < n && performance.now() < end) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
      return count;
    },
    async close() {
      get.body.destroy();
      const del = await pool.request({ path: '/mcp', method: 'DELETE', headers: h }).catch(() => undefined);
      await del?.body.text().catch(() => '');
      await pool.close();
    },
  };
}

function arg(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  return i !== -1 ? Number(argv[i + 1]) : def;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const rounds = arg(argv, 'rounds', 7);
  const calls = arg(argv, 'calls', 6000);
  const concurrency = arg(argv, 'concurrency', 64);
  const minRatio = arg(argv, 'min-ratio', 0.6);
  const nSessions = arg(argv, 'sessions', 1000);
  const nEvents = arg(argv, 'events', 5000);
  const sseRounds = arg(argv, 'sse-rounds', 3);
  const appendEvents = arg(argv, 'append-events', 20_000);
  const toolIdx = argv.indexOf('--tool');
  const tool: Tool = toolIdx !== -1 ? (argv[toolIdx + 1] as Tool) : 'journaled';
  if (tool !== 'journaled' && tool !== 'readonly') throw new Error('--tool: journaled or readonly');
  const redisCpuIdx = argv.indexOf('--redis-cpu');
  const redisCpu = redisCpuIdx !== -1 && HAS_TASKSET ? Number(argv[redisCpuIdx + 1]) : undefined;
  const jsonIdx = argv.indexOf('--json');
  const jsonFile = jsonIdx !== -1 ? argv[jsonIdx + 1] : undefined;
  const say = (s: string) => process.stderr.write(`${s}\n`);

  let redis: BenchRedis | undefined;
  let rc: ReturnType<typeof createClient> | undefined;
  const nodes = new Map<Kind, Node>();
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg1: loadavg()[0], pinned: HAS_TASKSET },
    params: { rounds, calls, concurrency, minRatio, sessions: nSessions, events: nEvents, sseRounds, appendEvents, tool, redisCpu: redisCpu ?? null },
  };
  try {
    redis = await startBenchRedis(redisCpu);
    rc = createClient({ url: redis.url });
    rc.on('error', () => {});
    await rc.connect();
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await rc!.info('memory'))![1]);
    for (const kind of KINDS) {
      const stateDir = mkdtempSync(join(tmpdir(), `andon-bench-cluster-${kind}-`));
      const child = await spawnServer({ script: fileURLToPath(import.meta.url), config: { serve: true, kind, redisUrl: redis.url, stateDir, opsPort: await freePort(), tool } satisfies ServeCfg, cpu: HAS_TASKSET ? 0 : undefined, readyTimeoutMs: 30_000, nodeArgs: PROF ? ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${PROF}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`] : undefined });
      const origin = `http://127.0.0.1:${child.port}`;
      const load = new HttpLoad({ origin, path: '/mcp', era: '2025', session: true }, concurrency);
      nodes.set(kind, { kind, child, stateDir, origin, load, samples: [] });
      await load.open();
      const warm = await load.run(Math.min(calls, 2000), 30);
      if (warm.errors) throw new Error(`${kind} node: warm-up failed: ${warm.firstError}`);
    }

    // 1. Throughput, interleaved rounds with the order rotated.
    const mem0 = await usedMemory();
    for (let r = 0; r < rounds; r++) {
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]!);
      for (const kind of order) {
        const n = nodes.get(kind)!;
        const cpu0 = await n.child.cpuUs();
        const rcpu0 = procCpuUs(redis.pid);
        const res = await n.load.run(calls, 120);
        const cpu1 = await n.child.cpuUs();
        const rcpu1 = procCpuUs(redis.pid);
        n.samples.push({ rps: res.rps, p50: res.p50, p99: res.p99, cpuPerCallUs: (cpu1 - cpu0) / res.calls, ...(kind === 'redis' ? { redisCpuPerCallUs: (rcpu1 - rcpu0) / res.calls } : {}), calls: res.calls, errors: res.errors, ...(res.firstError ? { firstError: res.firstError } : {}) });
      }
      const f = nodes.get('file')!.samples.at(-1)!;
      const x = nodes.get('redis')!.samples.at(-1)!;
      say(`round ${r + 1}/${rounds}: file ${f.rps.toFixed(0)} req/s, redis ${x.rps.toFixed(0)} req/s, ratio ${(x.rps / f.rps).toFixed(2)}`);
    }
    const mem1 = await usedMemory();
    const s = (k: Kind) => nodes.get(k)!.samples;
    const ratios = s('redis').map((x, i) => x.rps / s('file')[i]!.rps);
    const summary = (k: Kind) => ({
      rps: median(s(k).map((x) => x.rps)),
      p50Ms: median(s(k).map((x) => x.p50)),
      p99Ms: median(s(k).map((x) => x.p99)),
      cpuPerCallUs: median(s(k).map((x) => x.cpuPerCallUs)),
      ...(k === 'redis' ? { redisServerCpuPerCallUs: median(s(k).map((x) => x.redisCpuPerCallUs!)) } : {}),
      callsSent: rounds * calls,
      callsAnswered: s(k).reduce((a, x) => a + x.calls - x.errors, 0),
      errors: s(k).reduce((a, x) => a + x.errors, 0),
      ...(s(k).find((x) => x.firstError) ? { firstError: s(k).find((x) => x.firstError)!.firstError } : {}),
      rounds: s(k),
    });
    const [rmin, rmax] = minMax(ratios);
    const throughput = { file: summary('file'), redis: summary('redis'), ratio: { median: median(ratios), min: rmin, max: rmax, perRound: ratios } };
    result.throughput = throughput;

    // 2. Footprint of sessions in Redis.
    const redisNode = nodes.get('redis')!;
    const fileNode = nodes.get('file')!;
    const memS0 = await usedMemory();
    const hashKey = `${PREFIX}:{sessions}:v`;
    const sessionsBefore = await rc.hLen(hashKey);
    const created = await createSessions(redisNode.origin, '/mcp', nSessions, 32, 300, RESOURCE_URI);
    await sleep(300);
    const memS1 = await usedMemory();
    const sessionsAfter = await rc.hLen(hashKey);
    const one = created.ids[0];
    const createdFile = await createSessions(fileNode.origin, '/mcp', nSessions, 32, 300, RESOURCE_URI);
    result.footprint = {
      sessions: created.created,
      sessionKeysAdded: sessionsAfter - sessionsBefore,
      errors: created.errors + createdFile.errors,
      ...(created.firstError || createdFile.firstError ? { firstError: created.firstError ?? createdFile.firstError } : {}),
      bytesPerSession: (memS1 - memS0) / Math.max(1, created.created),
      sessionRecordBytes: one ? await rc.hStrLen(hashKey, one) : NaN,
      sessionsHashBytesPerSession: Number(await rc.memoryUsage(hashKey)) / Math.max(1, sessionsAfter),
      bytesPerJournaledCall: (mem1 - mem0) / (rounds * calls),
      sessionsPerSec: { redis: created.perSecond, file: createdFile.perSecond },
    };

    // 3a. SSE delivery on a GET stream, each node, rotated order.
    const sse: Record<Kind, Array<{ eventsPerSec: number; cpuPerEventUs: number; delivered: number }>> = { file: [], redis: [] };
    for (let r = 0; r < sseRounds; r++) {
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]!);
      for (const kind of order) {
        const n = nodes.get(kind)!;
        const st = await openStream(n.origin);
        await sleep(100);
        const cpu0 = await n.child.cpuUs();
        const t0 = performance.now();
        await n.child.ask('burst', { n: nEvents }, 120_000);
        const delivered = await st.waitFor(nEvents, 60_000);
        const secs = (performance.now() - t0) / 1000;
        const cpu1 = await n.child.cpuUs();
        await st.close();
        sse[kind].push({ eventsPerSec: delivered / secs, cpuPerEventUs: (cpu1 - cpu0) / Math.max(1, delivered), delivered });
      }
    }
    const sseSum = (k: Kind) => ({ eventsPerSec: median(sse[k].map((x) => x.eventsPerSec)), cpuPerEventUs: median(sse[k].map((x) => x.cpuPerEventUs)), delivered: sse[k].reduce((a, x) => a + x.delivered, 0), sent: sseRounds * nEvents, rounds: sse[k] });

    // 3b. The append itself: RedisEventStore vs MemoryEventStore, in this process.
    const store = new RedisStore({ url: redis.url, prefix: 'micro' });
    await store.open();
    const streams = 16;
    const perStream = Math.min(200, Math.ceil(appendEvents / streams)); // under streamMaxLen (256): nothing trimmed
    const total = streams * perStream;
    const msg = { jsonrpc: '2.0' as const, method: 'notifications/resources/updated', params: { uri: RESOURCE_URI } };
    const mem = new MemoryEventStore();
    let t = performance.now();
    for (let i = 0; i < total; i++) mem.storeEvent(`m-${i % streams}`, msg);
    const memoryUs = ((performance.now() - t) * 1000) / total;
    const es = new RedisEventStore(store.eventLog!, nullLogger);
    const pending = (es as unknown as { pending: Set<string> }).pending;
    const memE0 = await usedMemory();
    const c0 = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < total; i++) es.storeEvent(`r-${i % streams}`, msg);
    const syncUs = ((performance.now() - t) * 1000) / total;
    while (pending.size > 0) await sleep(1);
    const pipelinedUs = ((performance.now() - t) * 1000) / total;
    const cpu = process.cpuUsage(c0);
    const memE1 = await usedMemory();
    const rtts: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t1 = performance.now();
      await store.eventLog!.append('rtt', `rtt.${i}`, JSON.stringify(msg));
      rtts.push((performance.now() - t1) * 1000);
    }
    await store.close();
    result.sse = {
      append: { events: total, memoryStoreUsPerEvent: memoryUs, redisSyncUsPerEvent: syncUs, redisUntilAckedUsPerEvent: pipelinedUs, redisNodeCpuUsPerEvent: (cpu.user + cpu.system) / total, redisAwaitedAppendUs: median(rtts), redisBytesPerEvent: (memE1 - memE0) / total },
      delivery: { file: sseSum('file'), redis: sseSum('redis') },
    };
  } finally {
    for (const n of nodes.values()) {
      await n.load.close().catch(() => {});
      if (PROF && n.child.proc.exitCode === null) {
        // A clean exit, so that --cpu-prof writes its file.
        const exited = new Promise((r) => n.child.proc.once('exit', r));
        await n.child.ask('exit').catch(() => {});
        await Promise.race([exited, sleep(10_000)]);
      }
      await n.child.kill();
      rmSync(n.stateDir, { recursive: true, force: true });
    }
    await rc?.quit().catch(() => {});
    await redis?.stop();
  }

  type Loose = any;
  const tp = result.throughput as Loose;
  const fp = result.footprint as Loose;
  const sse = result.sse as Loose;
  const allAnswered = KINDS.every((k) => tp[k].errors === 0 && tp[k].callsAnswered === rounds * calls);
  const sseOk = KINDS.every((k) => sse.delivery[k].delivered === sse.delivery[k].sent) && fp.errors === 0;
  result.pass = { allAnswered, sseDelivered: sseOk, ratioAtLeastMin: tp.ratio.median >= minRatio };
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const row = (k: Kind) => `| ${k} | ${tp[k].rps.toFixed(0)} | ${f2(tp[k].p50Ms)} | ${f2(tp[k].p99Ms)} | ${f1(tp[k].cpuPerCallUs)} | ${k === 'redis' ? f1(tp.redis.redisServerCpuPerCallUs) : '—'} | ${tp[k].callsAnswered}/${tp[k].callsSent} |`;
  process.stdout.write(
    [
      '| store | req/s | p50 ms | p99 ms | node CPU µs/call | redis-server CPU µs/call | answered |',
      '|---|---|---|---|---|---|---|',
      row('file'),
      row('redis'),
      '',
      `redis/file throughput: ${f2(tp.ratio.median)} (median of ${rounds} paired per-round ratios; range ${f2(tp.ratio.min)} … ${f2(tp.ratio.max)}; target ≥ ${minRatio})`,
      `Redis footprint: ${fp.bytesPerSession.toFixed(0)} bytes/session (used_memory delta over ${fp.sessions} sessions with a subscription); one session record ${fp.sessionRecordBytes} bytes; sessions hash ${fp.sessionsHashBytesPerSession.toFixed(0)} bytes/session (MEMORY USAGE); ${fp.bytesPerJournaledCall.toFixed(0)} bytes per journaled call (request-id claims)`,
      `sessions/s (initialize + subscribe, 32 in flight): file ${fp.sessionsPerSec.file.toFixed(0)}, redis ${fp.sessionsPerSec.redis.toFixed(0)}`,
      `SSE append: memory ${f2(sse.append.memoryStoreUsPerEvent)} µs/event; Redis Streams ${f2(sse.append.redisSyncUsPerEvent)} µs/event on the event loop, ${f2(sse.append.redisUntilAckedUsPerEvent)} µs/event until acknowledged (pipelined, ${f1(sse.append.redisNodeCpuUsPerEvent)} µs CPU/event), ${sse.append.redisAwaitedAppendUs.toFixed(0)} µs one awaited append, ${sse.append.redisBytesPerEvent.toFixed(0)} Redis bytes/event`,
      `SSE delivery on a GET stream (${nEvents} resources/updated per round, ${sseRounds} rounds): file ${sse.delivery.file.eventsPerSec.toFixed(0)} events/s (${f1(sse.delivery.file.cpuPerEventUs)} µs CPU/event), redis ${sse.delivery.redis.eventsPerSec.toFixed(0)} events/s (${f1(sse.delivery.redis.cpuPerEventUs)} µs CPU/event)`,
      `${rounds} interleaved rounds of ${calls} tools/call per node (C=${concurrency}, one 2025 session each, ${tool === 'journaled' ? 'unannotated echo: journaled' : 'read-only echo: not journaled'})${HAS_TASKSET ? `, nodes on CPU 0, redis-server ${redisCpu === undefined ? 'not pinned' : `on CPU ${redisCpu}`}` : ''}, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)} at the end.`,
      '',
    ].join('\n'),
  );
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  if (!allAnswered) say(`cluster bench: not every call was answered: file ${tp.file.firstError ?? ''} redis ${tp.redis.firstError ?? ''}`);
  if (!sseOk) say('cluster bench: not every SSE event was delivered / session created');
  return allAnswered && sseOk && tp.ratio.median >= minRatio ? 0 : 1;
}

const cfg: ServeCfg = process.argv[2]?.startsWith('{') ? config<ServeCfg>({ serve: false, kind: 'file', redisUrl: '', stateDir: '', opsPort: 0, tool: 'journaled' }) : { serve: false, kind: 'file', redisUrl: '', stateDir: '', opsPort: 0, tool: 'journaled' };
if (cfg.serve) await serve(cfg);
else process.exitCode = await main();
