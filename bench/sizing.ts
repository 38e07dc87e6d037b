/**
 * Sizing: what one live 2025 session costs a node. Starts the demo node (`andon start`, the same
 * command line an operator uses) with a temp state directory, opens 1,000 / 2,000 / 5,000 sessions
 * (initialize + notifications/initialized each; optionally a standalone GET stream each) and after
 * each step forces a full GC in the node (through the inspector: the node runs with
 * `--inspect=127.0.0.1:0`, the only difference from the operator's command line) and reads its
 * `process.memoryUsage()` (RSS, heap used) and its open fds (/proc/<pid>/fd). Each run is a fresh
 * node per mode; the report gives the median over runs: the delta from the idle node, and the
 * marginal cost per 1,000 sessions between the first and the last step (start-up effects such as
 * JIT-compiled code and pools grown on first use fall out of it).
 *
 *   node dist/bench/sizing.js [--runs 3] [--steps 1000,2000,5000] [--modes post,stream] [--json out.json]
 *
 * The node's limits are raised for the run (limits.maxSessions(PerClient), connections.max(PerClient))
 * and rate limits are off: every session comes from 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { median } from './lib/stats.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli/andon.js');
const PROTOCOL = '2025-11-25';

type Mode = 'post' | 'stream';

interface Sample {
  sessions: number;
  rssBytes: number;
  heapUsedBytes: number;
  fds: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  child: ChildProcess;
  port: number;
  opsPort: number;
  dir: string;
  token: string;
  inspector: WebSocket;
  nextId: number;
}

async function startNode(): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 's4-opsdocs-sizing-'));
  const config = join(dir, 'andon.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      limits: { maxSessions: 50_000, maxSessionsPerClient: 50_000 },
      connections: { max: 15_000, maxPerClient: 15_000 },
      rateLimits: { enabled: false },
    }),
  );
  const port = await freePort();
  const opsPort = await freePort();
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', CLI, 'start', '--port', String(port), '--ops-port', String(opsPort), '--state-dir', join(dir, 'state'), '--config', config], {
    env: { ...process.env, ANDON_ADMIN_TOKEN: '', ANDON_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/andon-mcp: .* listening on/.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`node did not start:\n${err}`);
    }
    await sleep(50);
  }
  const token = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim();
  const wsUrl = /Debugger listening on (ws:\/\/\S+)/.exec(err)?.[1];
  if (!wsUrl) throw new Error(`no inspector URL:\n${err}`);
  const inspector = new WebSocket(wsUrl);
  await new Promise((ok, fail) => {
    inspector.once('open', ok);
    inspector.once('error', fail);
  });
  return { child, port, opsPort, dir, token, inspector, nextId: 1 };
}

async function stopNode(n: Node): Promise<void> {
  n.inspector.close();
  if (n.child.exitCode === null) {
    const exited = new Promise((r) => n.child.once('exit', r));
    n.child.kill('SIGKILL');
    await exited;
  }
  rmSync(n.dir, { recursive: true, force: true });
}

/** One POST on the pooled agent; resolves with status and headers after the body is read. */
function postJson(agent: Agent, port: number, body: unknown, headers: Record<string, string>): Promise<{ status: number; sessionId: string | undefined }> {
  return new Promise((ok, fail) => {
    const data = JSON.stringify(body);
    const req = request(
      { agent, host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(data), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode ?? 0, sessionId: res.headers['mcp-session-id'] as string | undefined }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

/** A standalone GET stream on its own connection, held open; resolves once the 200 arrived. */
function openStream(port: number, sessionId: string, held: Array<() => void>): Promise<void> {
  return new Promise((ok, fail) => {
    const req = request(
      { agent: false, host: '127.0.0.1', port, path: '/mcp', method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(new Error(`GET stream: ${res.statusCode}`));
          return;
        }
        res.on('data', () => {});
        res.on('error', () => {});
        held.push(() => req.destroy());
        ok();
      },
    );
    req.on('error', fail);
    req.end();
  });
}

async function openSession(agent: Agent, port: number, i: number): Promise<string> {
  const init = await postJson(agent, port, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: `sizing-${i}`, version: '1.0.0' } } }, {});
  if (init.status !== 200 || !init.sessionId) throw new Error(`initialize: ${init.status}`);
  const h = { 'mcp-session-id': init.sessionId, 'mcp-protocol-version': PROTOCOL };
  const ack = await postJson(agent, port, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  if (ack.status !== 202) throw new Error(`initialized: ${ack.status}`);
  return init.sessionId;
}

/** One Chrome DevTools Protocol call on the node's inspector. */
function cdp(n: Node, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const id = n.nextId++;
  return new Promise((ok, fail) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id !== id) return;
      n.inspector.off('message', onMessage);
      if (msg.error) fail(new Error(`${method}: ${msg.error.message}`));
      else ok(msg.result);
    };
    n.inspector.on('message', onMessage);
    n.inspector.send(JSON.stringify({ id, method, params }));
  });
}

async function sample(n: Node, sessions: number): Promise<Sample> {
  // Let the session flush (flushMs) settle, then a full GC, then read.
  await sleep(2000);
  await cdp(n, 'HeapProfiler.collectGarbage');
  await cdp(n, 'HeapProfiler.collectGarbage');
  const r = await cdp(n, 'Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  const mem = JSON.parse(r.result.value as string) as { rss: number; heapUsed: number };
  const fds = readdirSync(`/proc/${n.child.pid!}/fd`).length;
  return { sessions, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, fds };
}

async function runOnce(mode: Mode, steps: number[]): Promise<Sample[]> {
  const n = await startNode();
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const held: Array<() => void> = [];
  try {
    const samples = [await sample(n, 0)];
    let open = 0;
    for (const target of steps) {
      const concurrency = 16;
      let next = open;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < target) {
            const i = next++;
            const sid = await openSession(agent, n.port, i);
            if (mode === 'stream') await openStream(n.port, sid, held);
          }
        }),
      );
      open = target;
      samples.push(await sample(n, target));
    }
    return samples;
  } finally {
    for (const close of held) close();
    agent.destroy();
    await stopNode(n);
  }
}

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const runs = Number(arg('runs', '3'));
  const steps = arg('steps', '1000,2000,5000').split(',').map(Number);
  const modes = arg('modes', 'post,stream').split(',') as Mode[];
  const out: Record<string, Sample[][]> = {};
  for (const mode of modes) {
    out[mode] = [];
    for (let r = 0; r < runs; r++) {
      const s = await runOnce(mode, steps);
      out[mode].push(s);
      const base = s[0]!;
      process.stderr.write(
        `${mode} run ${r + 1}: base rss ${(base.rssBytes / MiB).toFixed(1)} MiB heap ${(base.heapUsedBytes / MiB).toFixed(1)} MiB fds ${base.fds}; ` +
          s
            .slice(1)
            .map((x) => `${x.sessions}: rss +${((x.rssBytes - base.rssBytes) / MiB).toFixed(1)} heap +${((x.heapUsedBytes - base.heapUsedBytes) / MiB).toFixed(1)} fds +${x.fds - base.fds}`)
            .join('; ') +
          '\n',
      );
    }
  }
  const lines = [
    `# Sizing: ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${runs} runs, medians (after a full GC)`,
    '',
    '| mode | sessions | RSS Δ (MiB) | heap used Δ (MiB) | fds Δ | fds per session |',
    '|---|---|---|---|---|---|',
  ];
  const mid = (mode: string, k: number, f: (s: Sample) => number) => median(out[mode]!.map((s) => (f(s[k]!) - f(s[0]!))));
  for (const mode of modes) {
    for (let k = 0; k < steps.length; k++) {
      const n = steps[k]!;
      const fds = mid(mode, k + 1, (x) => x.fds);
      lines.push(`| ${mode === 'post' ? 'POST only' : 'POST + GET stream'} | ${n} | ${(mid(mode, k + 1, (x) => x.rssBytes) / MiB).toFixed(1)} | ${(mid(mode, k + 1, (x) => x.heapUsedBytes) / MiB).toFixed(1)} | ${fds} | ${(fds / n).toFixed(3)} |`);
    }
  }
  if (steps.length > 1) {
    const first = steps[0]!;
    const last = steps[steps.length - 1]!;
    lines.push('', `Marginal cost per 1,000 sessions between ${first} and ${last} (median of the runs' own slopes):`, '', '| mode | RSS (MiB) | heap used (MiB) |', '|---|---|---|');
    for (const mode of modes) {
      const slope = (f: (s: Sample) => number) => median(out[mode]!.map((s) => ((f(s[steps.length]!) - f(s[1]!)) * 1000) / (last - first))) / MiB;
      lines.push(`| ${mode === 'post' ? 'POST only' : 'POST + GET stream'} | ${slope((x) => x.rssBytes).toFixed(1)} | ${slope((x) => x.heapUsedBytes).toFixed(1)} |`);
    }
  }
  const base = modes.map((m) => `${m}: RSS ${median(out[m]!.map((s) => s[0]!.rssBytes / MiB)).toFixed(1)} MiB, heap ${median(out[m]!.map((s) => s[0]!.heapUsedBytes / MiB)).toFixed(1)} MiB, fds ${median(out[m]!.map((s) => s[0]!.fds))}`);
  lines.push('', `Idle node before the first session (median): ${base.join('; ')}.`);
  process.stdout.write(lines.join('\n') + '\n');
  const json = arg('json', '');
  if (json) writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, steps, samples: out }, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`sizing: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
