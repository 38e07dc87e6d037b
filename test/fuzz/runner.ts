/**
 * The wire fuzzer: mutated MCP traffic against real processes on 127.0.0.1 — Streamable HTTP POST
 * bodies and headers, stdio lines, ops-listener targets and methods, WebSocket text frames, TCP
 * lines and legacy SSE POST bodies. It asserts no crash (the process is alive and answers a
 * normal request after every batch of `--batch` mutants and at the end), no hang (every request is
 * answered or closed within a deadline) and no stack trace in any answer; the server's RSS is
 * sampled through the run (start, peak, end per transport).
 *
 * Sending is pipelined: HTTP over many keep-alive connections, WebSocket and TCP over several
 * connections with a bounded window of outstanding mutants each, stdio with a bounded window on
 * its one pipe. Mutants are still generated in index order, so a run is reproducible from its seed.
 *
 *   npm run fuzz                      # 100,000 per transport, seed 9, summary in dist/fuzz-summary.json
 *   node dist/test/fuzz/runner.js --count 5000 --seed 42 --only http,ws [--parallel] [--batch 1000]
 *
 * The CI-sized run is test/fuzz/fuzz.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { connect } from 'node:net';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { CLI, DIST } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import WebSocket from 'ws';
import { hasStack, httpHeaders, httpMethod, lineWrites, mutate, opsMethod, opsTarget, rng, wsFraming, type Kind, type WsFraming } from './generator.js';

const FIXTURE = join(DIST, 'test/fuzz/fixture-server.js');
/** ANDON_FUZZ_NODE_ARGS: extra Node flags for the servers under test (e.g. `--cpu-prof`). */
const NODE_ARGS = (process.env.ANDON_FUZZ_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Longest any single request may stay unanswered. */
const DEADLINE_MS = 10_000;
/** Concurrent requests (HTTP, ops, legacy SSE); connections × window of outstanding mutants (WebSocket, TCP); stdio window. */
const HTTP_CONCURRENCY = 24;
const LANES = 4;
const LANE_WINDOW = 16;
const STDIO_WINDOW = 64;
/** Default mutants between two alive checks. */
const BATCH = 10_000;

/** Resident set size of `pid` in MiB (Linux /proc), or undefined. */
function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 500 ms into `s` (start, peak, end) until stopped. */
function watchRss(s: TransportSummary, pid: number | undefined): () => void {
  s.rssStartMiB = rssMiB(pid);
  s.rssPeakMiB = s.rssStartMiB;
  const sample = () => {
    const v = rssMiB(pid);
    if (v !== undefined) s.rssPeakMiB = Math.max(s.rssPeakMiB ?? 0, v);
    return v;
  };
  const t = setInterval(sample, 500);
  return () => {
    clearInterval(t);
    s.rssEndMiB = sample();
  };
}

/** What one transport's run found. */
export interface TransportSummary {
  sent: number;
  answered: number;
  hangs: number;
  stacks: number;
  /** Answers that were not JSON where JSON was due (stdio lines). */
  corrupt: number;
  /** Bare "Internal error" (-32603) answers: an exception the server did not expect. */
  internal: number;
  /** HTTP 5xx answers other than 503 and the fixture's deliberately failing handlers. */
  unexpected5xx: number;
  /** HTTP statuses seen, with counts. */
  statuses: Record<string, number>;
  kinds: Partial<Record<Kind, number>>;
  /** Process alive and serving a normal request at the end. */
  aliveAfter: boolean;
  /** Alive checks (a normal request) after each batch, and how many failed. */
  aliveChecks: number;
  aliveFailures: number;
  /** Connections the server closed other than on purpose (WebSocket 1007/1009 are on purpose). */
  unexpectedCloses: number;
  /** Connection attempts refused (503 while the node sheds load), then retried. */
  refusals: number;
  /** Server RSS in MiB when this transport's run started, its peak, and at the end. */
  rssStartMiB?: number;
  rssPeakMiB?: number;
  rssEndMiB?: number;
  perSecond: number;
  /** First few problems, for the report. */
  problems: string[];
  ms: number;
}

export interface FuzzSummary {
  seed: number;
  perTransport: number;
  /** The transports run (all six unless `--only`). */
  transports: TransportName[];
  ms: number;
  date: string;
  node: string;
  http: TransportSummary;
  stdio: TransportSummary;
  ops: TransportSummary;
  /** WebSocket (`/ws` on the MCP listener), TCP and legacy SSE (`/sse` + `/messages`) of the same node. */
  ws: TransportSummary;
  tcp: TransportSummary;
  sse: TransportSummary;
}

export const TRANSPORTS = ['http', 'ops', 'ws', 'tcp', 'sse', 'stdio'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** Records one alive check's outcome. */
function checked(s: TransportSummary, ok: boolean, at: number): void {
  s.aliveChecks++;
  if (!ok) {
    s.aliveFailures++;
    note(s, `alive check failed after ${at} mutants`);
  }
}

function empty(): TransportSummary {
  return { sent: 0, answered: 0, hangs: 0, stacks: 0, corrupt: 0, internal: 0, unexpected5xx: 0, statuses: {}, kinds: {}, aliveAfter: false, aliveChecks: 0, aliveFailures: 0, unexpectedCloses: 0, refusals: 0, problems: [], ms: 0, perSecond: 0 };
}

function note(s: TransportSummary, problem: string): void {
  if (s.problems.length < 20) s.problems.push(problem);
}

/** Counts one HTTP answer (or hang, or closed connection) of a fuzz case labelled `what`. */
function tally(s: TransportSummary, a: Answer | 'hang' | 'closed', what: string, sentExcerpt = ''): void {
  if (a === 'hang') {
    s.hangs++;
    note(s, `hang: ${what} ${sentExcerpt}`);
    return;
  }
  if (a === 'closed') return;
  s.answered++;
  s.statuses[a.status] = (s.statuses[a.status] ?? 0) + 1;
  if (hasStack(a.body)) {
    s.stacks++;
    note(s, `stack: ${what}: ${a.body.slice(0, 300)}`);
  }
  // A 2026 answer carries its error's HTTP status: the fixture's deliberately failing handlers
  // give 500. Any other 5xx but 503 (a refusal) is a failure the fuzzer found.
  if (a.status >= 500 && a.status !== 503 && !FIXTURE_FAILURE.test(a.body)) {
    s.unexpected5xx++;
    note(s, `${a.status}: ${what}: ${a.body.slice(0, 200)}`);
  }
  if (INTERNAL.test(a.body)) {
    s.internal++;
    note(s, `internal error: ${what} ${sentExcerpt}`);
  }
}

/** The fixture's deliberate failures (test/fuzz/fixture-server.ts). */
const FIXTURE_FAILURE = /disk on fire while reading|completer broke|prompt template missing|the result could not be serialised/;
/** The generic answer to an unexpected exception (McpError.from, the HTTP guard). */
const INTERNAL = /"message":"Internal error"/;

interface HttpNode {
  child: ChildProcess;
  port: number;
  tcpPort: number;
  opsPort: number;
  stateDir: string;
  stderr(): string;
}

/** Bytes of TCP line the fuzz node accepts: small, so over-long lines (the huge mutants) are common and cheap. */
export const FUZZ_TCP_MAX_LINE = 256 * 1024;

async function startHttpNode(): Promise<HttpNode> {
  const port = await freePort();
  const opsPort = await freePort();
  const tcpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-fuzz-'));
  // The WebSocket and legacy SSE transports share the MCP listener; TCP has its own port.
  const config = join(stateDir, 'fuzz.config.json');
  // The guardian's event-loop limit is raised: on a shared, loaded machine the fuzzer's own load
  // would degrade the node (new connections refused, 503), which is load shedding, not what the
  // fuzzer tests. Memory pressure still degrades it.
  writeFileSync(config, JSON.stringify({ websocket: { enabled: true }, tcp: { enabled: true, port: tcpPort, maxLineBytes: FUZZ_TCP_MAX_LINE }, legacySse: { enabled: true }, guardian: { eventLoopDelayMs: 60_000 } }));
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, 'serve', FIXTURE, '--port', String(port), '--ops-port', String(opsPort), '--state-dir', stateDir, '--config', config], {
    // Debug logging subscribes the request start/end loggers: the readers that crashed on odd input.
    env: { ...process.env, ANDON_ADMIN_TOKEN: '', ANDON_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The last ~200 kB of the node's log, kept as chunks (debug logging writes megabytes).
  const tail: string[] = [];
  let tailBytes = 0;
  let started = false;
  // ANDON_FUZZ_NODE_LOG=<file>: the node's whole log, for a post-mortem.
  const logFile = process.env.ANDON_FUZZ_NODE_LOG ? createWriteStream(process.env.ANDON_FUZZ_NODE_LOG) : undefined;
  child.stderr!.on('data', (d: Buffer) => {
    logFile?.write(d);
    const text = d.toString();
    if (!started && text.includes('listening on')) started = true;
    tail.push(text);
    tailBytes += text.length;
    while (tailBytes > 200_000 && tail.length > 1) tailBytes -= tail.shift()!.length;
  });
  const deadline = Date.now() + 60_000;
  while (!started) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node did not start:\n${tail.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, port, tcpPort, opsPort, stateDir, stderr: () => tail.join('') };
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP exchange with a deadline; an SSE answer counts once its first event (or 200 ms of silence) arrives. */
function exchange(agent: Agent, port: number, method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer): Promise<Answer | 'hang' | 'closed'> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: Answer | 'hang' | 'closed') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      finish('hang');
      req.destroy();
    }, DEADLINE_MS);
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const sse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 1_000_000) chunks.push(c);
          size += c.length;
          // A stream may stay open by design: the first event (or the headers) is the answer.
          if (sse) {
            finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
            req.destroy();
          }
        });
        res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', () => finish('closed'));
        if (sse)
          setTimeout(() => {
            finish({ status: res.statusCode ?? 0, body: '', headers: res.headers });
            req.destroy();
          }, 200).unref();
      });
    } catch {
      // The client library refused the request (e.g. an invalid header value): nothing was sent.
      clearTimeout(timer);
      resolve('closed');
      return;
    }
    req.on('error', () => finish('closed'));
    if (body) req.end(body);
    else req.end();
  });
}

const INIT_2025 = { jsonrpc: '2.0', id: 'alive-init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } };
const ECHO = { jsonrpc: '2.0', id: 'alive-echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } };

async function initSession(agent: Agent, port: number): Promise<string> {
  const a = await exchange(agent, port, 'POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, Buffer.from(JSON.stringify(INIT_2025)));
  if (typeof a === 'string' || a.status !== 200) throw new Error(`initialize failed: ${typeof a === 'string' ? a : `${a.status} ${a.body}`}`);
  return String(a.headers['mcp-session-id']);
}

/** A 2025 session is initialized and calls a tool; a 2026 stateless tools/call answers too. */
async function httpAlive(node: HttpNode, agent: Agent): Promise<boolean> {
  if (node.child.exitCode !== null) return false;
  try {
    const sid = await initSession(agent, node.port);
    const a = await exchange(agent, node.port, 'POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, Buffer.from(JSON.stringify(ECHO)));
    const call26 = { ...ECHO, params: { ...ECHO.params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } };
    const b = await exchange(agent, node.port, 'POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, Buffer.from(JSON.stringify(call26)));
    return typeof a !== 'string' && a.status === 200 && a.body.includes('alive') && typeof b !== 'string' && b.status === 200 && b.body.includes('alive');
  } catch {
    return false;
  }
}

/**
 * Runs `one(i)` for i in 0..n-1 with `concurrency` at a time; every `batch` indexes, the worker
 * that takes it runs `check` first. `one` must draw its random choices before its first await, so
 * the mutants are generated in index order and a run is reproducible.
 */
async function pool(n: number, concurrency: number, one: (i: number) => Promise<void>, batch = 0, check?: (at: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        if (check && batch > 0 && i > 0 && i % batch === 0) await check(i);
        await one(i);
      }
    }),
  );
}

async function fuzzHttp(node: HttpNode, seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const agent = new Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });
  const r = rng(seed);
  const sid = await initSession(agent, node.port);
  await pool(
    count,
    HTTP_CONCURRENCY,
    async (i) => {
      // Generated when taken (in index order, so the run stays reproducible), not all up front:
      // 100,000 mutants with huge strings would hold gigabytes.
      const m = mutate(r);
      const method = httpMethod(r);
      const headers = httpHeaders(r, sid, m);
      s.sent++;
      s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
      const a = await exchange(agent, node.port, method, '/mcp', headers, method === 'POST' || method === 'PUT' ? m.body : undefined);
      tally(s, a, `http case ${i} ${method} ${m.kind}`, m.body.subarray(0, 120).toString());
    },
    batch,
    async (at) => checked(s, await httpAlive(node, agent), at),
  );
  s.aliveAfter = await httpAlive(node, agent);
  agent.destroy();
  return s;
}

/** One raw request to the ops listener (raw, so targets reach the server exactly as written). */
function rawOps(port: number, method: string, target: string, token?: string): Promise<Answer | 'hang' | 'closed'> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('hang');
    }, DEADLINE_MS);
    sock.on('connect', () => sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}Content-Length: 0\r\n\r\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve(m ? { status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4), headers: {} } : 'closed');
    });
  });
}

async function opsAlive(node: HttpNode): Promise<boolean> {
  const live = await rawOps(node.opsPort, 'GET', '/health/live');
  return node.child.exitCode === null && typeof live !== 'string' && live.status === 200;
}

async function fuzzOps(node: HttpNode, seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const r = rng(seed + 1);
  const token = readFileSync(join(node.stateDir, 'admin-token'), 'utf8').trim();
  await pool(
    count,
    HTTP_CONCURRENCY,
    async () => {
      const method = opsMethod(r);
      // Only reads get the token: a fuzzed, authorized drain or halt would stop the node on purpose.
      const c = { method, target: opsTarget(r), token: method === 'GET' && r() < 0.5 ? token : undefined };
      s.sent++;
      const a = await rawOps(node.opsPort, c.method, c.target, c.token);
      tally(s, a, `ops ${c.method} ${c.target.slice(0, 100)}`);
    },
    batch,
    async (at) => checked(s, await opsAlive(node), at),
  );
  s.aliveAfter = await opsAlive(node);
  return s;
}

/** One mutant as a message connection sends it. */
interface Frame {
  body: Buffer;
  /** WebSocket: how the mutant is framed. */
  framing?: WsFraming;
  /** Line transports: the writes that carry the mutant and its line end. */
  writes?: Buffer[];
}

type AskResult = 'answered' | 'hang' | { closed: number };

/**
 * A message connection (WebSocket, TCP or stdio) for the fuzzer: every frame or line received is
 * checked for JSON and stack traces; `ask` sends a mutant then a sentinel ping and resolves once
 * the sentinel is answered ('answered'), the connection closed ('closed', with the WebSocket code),
 * or the deadline passed ('hang'). Several asks may be outstanding at once.
 */
interface FuzzConn {
  ask(id: string, frame: Frame): Promise<AskResult>;
  isClosed(): boolean;
  close(): void;
}

function watchText(s: TransportSummary, what: string, text: string, waiting: Map<string, () => void>): void {
  let m: { id?: unknown };
  try {
    m = JSON.parse(text) as { id?: unknown };
  } catch {
    s.corrupt++;
    note(s, `${what} non-JSON message: ${text.slice(0, 200)}`);
    return;
  }
  if (hasStack(text)) {
    s.stacks++;
    note(s, `${what} stack: ${text.slice(0, 300)}`);
  }
  if (INTERNAL.test(text)) {
    s.internal++;
    note(s, `${what} internal error: ${text.slice(0, 300)}`);
  }
  const w = typeof m.id === 'string' ? waiting.get(m.id) : undefined;
  if (w) {
    waiting.delete(m.id as string);
    w();
  }
}

function sentinel(id: string): string {
  return `{"jsonrpc":"2.0","id":"${id}","method":"ping"}`;
}

/** The bookkeeping every FuzzConn shares: waiting sentinels, their deadlines, and the close that fails them all. */
function asker(send: (id: string, frame: Frame) => void) {
  const waiting = new Map<string, () => void>();
  const onClose = new Set<() => void>();
  let closedCode: number | undefined;
  return {
    waiting,
    closed: (code: number) => {
      closedCode = code;
      for (const f of [...onClose]) f();
    },
    isClosed: () => closedCode !== undefined,
    ask: (id: string, frame: Frame): Promise<AskResult> =>
      new Promise((resolve) => {
        if (closedCode !== undefined) return resolve({ closed: closedCode });
        const done = (v: AskResult) => {
          clearTimeout(t);
          waiting.delete(id);
          onClose.delete(gone);
          resolve(v);
        };
        const gone = () => done({ closed: closedCode ?? 0 });
        const t = setTimeout(() => done('hang'), DEADLINE_MS);
        waiting.set(id, () => done('answered'));
        onClose.add(gone);
        send(id, frame);
      }),
  };
}

/** Line transports: the pieces of one line go out back to back, a turn of the event loop apart, never interleaved with another line. */
function lineWriter(write: (b: Buffer | string) => void): (pieces: Buffer[], after: string) => void {
  let chain = Promise.resolve();
  return (pieces, after) => {
    if (pieces.length === 1) {
      // Nothing queued ahead: write now (the common case, no promise hop).
      chain = chain.then(() => {
        write(Buffer.concat([pieces[0]!, Buffer.from(after)]));
      });
      return;
    }
    chain = chain.then(async () => {
      for (const p of pieces) {
        write(p);
        await new Promise((r) => setImmediate(r));
      }
      write(after);
    });
  };
}

async function wsConn(s: TransportSummary, url: string): Promise<FuzzConn> {
  const ws = new WebSocket(url, 'mcp', { maxPayload: 64 * 1024 * 1024 });
  const a = asker((id, frame) => {
    const body = frame.body;
    switch (frame.framing) {
      case 'binary':
        ws.send(body, { binary: true });
        break;
      case 'fragmented':
      case 'pinged': {
        // Two or three fragments of one text message; control frames (ping, pong) between them.
        const cut1 = Math.floor(body.length / 3);
        const cut2 = Math.floor((2 * body.length) / 3);
        ws.send(body.subarray(0, cut1), { binary: false, fin: false });
        if (frame.framing === 'pinged') ws.ping(Buffer.from('p'));
        ws.send(body.subarray(cut1, cut2), { binary: false, fin: false });
        if (frame.framing === 'pinged') ws.pong();
        ws.send(body.subarray(cut2), { binary: false, fin: true });
        break;
      }
      default:
        // A text frame of the mutant's bytes as they are (invalid UTF-8 included).
        ws.send(body, { binary: false });
    }
    ws.send(sentinel(id));
  });
  ws.on('message', (d, isBinary) => {
    if (isBinary) {
      s.corrupt++;
      note(s, 'ws binary frame from the server');
      return;
    }
    watchText(s, 'ws', String(d), a.waiting);
  });
  ws.on('error', () => {});
  ws.on('close', (code) => a.closed(code));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    // A refused upgrade: the status and the server's reason, for the report.
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body.slice(0, 300)}`)));
      res.on('error', () => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  });
  return { ask: a.ask, isClosed: a.isClosed, close: () => ws.close() };
}

async function tcpConn(s: TransportSummary, port: number): Promise<FuzzConn> {
  const sock = connect(port, '127.0.0.1');
  const writeLine = lineWriter((b) => sock.write(b));
  const a = asker((id, frame) => writeLine(frame.writes ?? [Buffer.concat([frame.body, Buffer.from('\n')])], `${sentinel(id)}\n`));
  const decoder = new StringDecoder('utf8');
  let buf = '';
  sock.on('data', (c: Buffer) => {
    buf += decoder.write(c);
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      watchText(s, 'tcp', line, a.waiting);
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => a.closed(0));
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  return { ask: a.ask, isClosed: a.isClosed, close: () => sock.end() };
}

/** A stdio server process as a FuzzConn (one pipe, so one lane). */
function stdioConn(s: TransportSummary, child: ChildProcess): FuzzConn {
  const writeLine = lineWriter((b) => child.stdin!.write(b));
  const a = asker((id, frame) => writeLine(frame.writes ?? [Buffer.concat([frame.body, Buffer.from('\n')])], `${sentinel(id)}\n`));
  const decoder = new StringDecoder('utf8');
  let buf = '';
  child.stdin!.on('error', () => {});
  child.stdout!.on('data', (c: Buffer) => {
    buf += decoder.write(c);
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      watchText(s, 'stdio', line, a.waiting);
    }
  });
  let ending = false;
  child.once('exit', (code, signal) => {
    if (!ending) note(s, `stdio process exited (code ${code}, signal ${signal})`);
    a.closed(-1);
  });
  return {
    ask: a.ask,
    isClosed: a.isClosed,
    close: () => {
      ending = true;
      child.stdin!.end();
    },
  };
}

/** On a fresh (or the given) connection: initialize, then a tool call; both answered. */
async function connAlive(c: FuzzConn, tag: string): Promise<boolean> {
  const init = Buffer.from(JSON.stringify(INIT_2025));
  const echo = Buffer.from(JSON.stringify(ECHO));
  return (await c.ask(`${tag}-1`, { body: init })) === 'answered' && (await c.ask(`${tag}-2`, { body: echo })) === 'answered';
}

/**
 * WebSocket, TCP or stdio: mutants spread over `lanes` connections, up to `window` outstanding on
 * each, every mutant followed by a sentinel. A WebSocket the server closes on purpose (1007 invalid
 * UTF-8 in a text frame, 1009 over the size limit) counts as answered, for every mutant then
 * outstanding on it, and is reopened; any other close is a problem.
 */
async function fuzzLanes(kind: 'ws' | 'tcp' | 'stdio', s: TransportSummary, open: () => Promise<FuzzConn>, alive: (at: number) => Promise<boolean>, opts: { lanes: number; window: number; seed: number; count: number; batch: number }): Promise<void> {
  const r = rng(opts.seed);
  // A failed open is reported by whoever awaits it; the guard keeps an unawaited one from being an unhandled rejection.
  // A refused connection (the node shedding load: 503) is retried for a while before it counts.
  const openRetry = async (): Promise<FuzzConn> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await open();
      } catch (err) {
        if (attempt >= 20) throw err;
        s.refusals++;
        await new Promise((r) => setTimeout(r, 250 * Math.min(attempt + 1, 8)));
      }
    }
  };
  const opened = () => {
    const p = openRetry();
    p.catch(() => {});
    return p;
  };
  const conns = Array.from({ length: opts.lanes }, opened);
  const lane = async (k: number): Promise<FuzzConn> => {
    const p = conns[k]!;
    const c = await p;
    if (!c.isClosed()) return c;
    if (conns[k] === p) conns[k] = opened();
    return conns[k]!;
  };
  let gaveUp = false;
  await pool(
    opts.count,
    opts.lanes * opts.window,
    async (i) => {
      const m = mutate(r);
      const frame: Frame = { body: m.body };
      if (kind === 'ws') frame.framing = wsFraming(r);
      else frame.writes = lineWrites(r, m.body);
      s.sent++;
      s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
      if (gaveUp) return;
      // A mutant that closes its connection on purpose (WebSocket text that is not UTF-8: 1007) goes
      // on a connection of its own, so it does not take the mutants outstanding beside it along.
      const alone = kind === 'ws' && frame.framing !== 'binary' && !isUtf8(m.body);
      let c: FuzzConn;
      try {
        c = alone ? await openRetry() : await lane(i % opts.lanes);
      } catch (err) {
        note(s, `${kind} cannot (re)connect at case ${i}: ${(err as Error).message}`);
        gaveUp = true;
        return;
      }
      const a = await c.ask(`sentinel-${i + 1}`, frame);
      if (alone) c.close();
      if (a === 'answered') s.answered++;
      else if (a === 'hang') {
        s.hangs++;
        note(s, `${kind} hang at case ${i} ${m.kind}: ${m.body.subarray(0, 120).toString()}`);
      } else if (kind === 'ws' && (a.closed === 1007 || a.closed === 1009)) {
        s.answered++;
        s.statuses[`close ${a.closed}`] = (s.statuses[`close ${a.closed}`] ?? 0) + 1;
      } else {
        s.unexpectedCloses++;
        note(s, `${kind} connection closed (${a.closed}) at case ${i} ${m.kind}: ${m.body.subarray(0, 120).toString()}`);
        if (kind === 'stdio') gaveUp = true;
      }
    },
    opts.batch,
    async (at) => checked(s, await alive(at), at),
  );
  s.aliveAfter = await alive(opts.count);
  for (const p of conns) void p.then((c) => c.close()).catch(() => {});
}

async function fuzzWs(node: HttpNode, seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const url = `ws://127.0.0.1:${node.port}/ws`;
  const alive = async (at: number) => {
    try {
      const c = await wsConn(s, url);
      const ok = node.child.exitCode === null && (await connAlive(c, `alive-${at}`));
      c.close();
      return ok;
    } catch {
      return false;
    }
  };
  await fuzzLanes('ws', s, () => wsConn(s, url), alive, { lanes: LANES, window: LANE_WINDOW, seed: seed + 3, count, batch });
  return s;
}

async function fuzzTcp(node: HttpNode, seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const alive = async (at: number) => {
    try {
      const c = await tcpConn(s, node.tcpPort);
      const ok = node.child.exitCode === null && (await connAlive(c, `alive-${at}`));
      c.close();
      return ok;
    } catch {
      return false;
    }
  };
  await fuzzLanes('tcp', s, () => tcpConn(s, node.tcpPort), alive, { lanes: LANES, window: LANE_WINDOW, seed: seed + 4, count, batch });
  return s;
}

async function fuzzStdio(seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-fuzz-stdio-'));
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, 'serve', FIXTURE, '--stdio', '--state-dir', stateDir], { env: { ...process.env, ANDON_LOG_LEVEL: 'debug' }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.resume();
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const conn = stdioConn(s, child);
  // RSS from the first answered request on (not from the bare process).
  if (!(await connAlive(conn, 'warm'))) note(s, 'stdio: the first initialize and tool call were not answered');
  const stopRss = watchRss(s, child.pid);
  // Alive: initialize (again, harmless if a mutant already did) and a real tool call, on the same pipe.
  await fuzzLanes('stdio', s, async () => conn, async (at) => child.exitCode === null && (await connAlive(conn, `alive-${at}`)), { lanes: 1, window: STDIO_WINDOW, seed: seed + 2, count, batch });
  stopRss();
  conn.close();
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
  return s;
}

/** Legacy SSE: mutants POSTed to one stream's messages endpoint; answers on the stream are checked too. */
async function fuzzSse(node: HttpNode, seed: number, count: number, batch: number): Promise<TransportSummary> {
  const s = empty();
  const agent = new Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });
  const r = rng(seed);
  const waiting = new Map<string, () => void>();
  const open = () =>
    new Promise<{ endpoint: string; req: ReturnType<typeof request> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: node.port, path: '/sse', headers: { accept: 'text/event-stream' } }, (res) => {
        const decoder = new StringDecoder('utf8');
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += decoder.write(c);
          let end = buf.indexOf('\n\n');
          while (end !== -1) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            end = buf.indexOf('\n\n');
            const event = /^event: ([^\r\n]*)$/m.exec(block)?.[1];
            const data = /^data: ([^\r\n]*)$/m.exec(block)?.[1] ?? '';
            if (event === 'endpoint') resolve({ endpoint: data, req });
            else if (event === 'message') watchText(s, 'sse', data, waiting);
          }
        });
        res.on('error', () => {});
      });
      req.on('error', reject);
      req.end();
    });
  // Alive: a tool call on a fresh stream is answered on it.
  const alive = async (at: number): Promise<boolean> => {
    try {
      const fresh = await open();
      const id = `alive-echo-${at}`;
      const answered = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), DEADLINE_MS);
        waiting.set(id, () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      const post = (body: unknown) => exchange(agent, node.port, 'POST', fresh.endpoint, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(body)));
      await post(INIT_2025);
      await post({ ...ECHO, id });
      const ok = node.child.exitCode === null && (await answered);
      fresh.req.destroy();
      return ok;
    } catch (err) {
      note(s, `sse not alive after ${at}: ${(err as Error).message}`);
      return false;
    }
  };
  const stream = await open();
  await pool(
    count,
    HTTP_CONCURRENCY,
    async (i) => {
      const m = mutate(r);
      s.sent++;
      s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
      const a = await exchange(agent, node.port, 'POST', stream.endpoint, { 'content-type': 'application/json' }, m.body);
      tally(s, a, `sse case ${i} ${m.kind}`, m.body.subarray(0, 120).toString());
    },
    batch,
    async (at) => checked(s, await alive(at), at),
  );
  s.aliveAfter = await alive(count);
  stream.req.destroy();
  agent.destroy();
  return s;
}

export interface FuzzOptions {
  seed: number;
  /** Mutants per transport. */
  count: number;
  /** Mutants between two alive checks (default 10,000). */
  batch?: number;
  only?: readonly TransportName[];
  /** Called after each transport, e.g. to print progress. */
  progress?: (name: TransportName, s: TransportSummary) => void;
  /** Fuzz stdio (its own process) alongside the network transports instead of after them. */
  parallel?: boolean;
}

/** Runs the fuzzers (all six unless `only`); `count` mutants per transport. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const { seed, count } = opts;
  const batch = opts.batch ?? BATCH;
  const only = opts.only ?? TRANSPORTS;
  const started = Date.now();
  const sum: FuzzSummary = { seed, perTransport: count, transports: [...only], ms: 0, date: new Date().toISOString(), node: process.version, http: empty(), stdio: empty(), ops: empty(), ws: empty(), tcp: empty(), sse: empty() };
  const node = only.some((t) => t !== 'stdio') ? await startHttpNode() : undefined;
  const run = async (name: TransportName, f: () => Promise<TransportSummary>, pid?: number) => {
    if (!only.includes(name)) return;
    const t = Date.now();
    const empty0 = empty();
    const stop = pid !== undefined ? watchRss(empty0, pid) : undefined;
    let s: TransportSummary;
    try {
      s = await f();
    } catch (err) {
      // A run that cannot even start (the node is gone) fails its transport, not the whole report.
      s = empty();
      note(s, `${name}: the run failed: ${(err as Error).message}`);
    }
    stop?.();
    if (stop) Object.assign(s, { rssStartMiB: empty0.rssStartMiB, rssPeakMiB: empty0.rssPeakMiB, rssEndMiB: empty0.rssEndMiB });
    s.ms = Date.now() - t;
    s.perSecond = Math.round((s.sent / Math.max(1, s.ms)) * 1000);
    if (node && node.child.exitCode !== null) note(s, `HTTP node exited with ${node.child.exitCode}: ${node.stderr().slice(-2000)}`);
    sum[name] = s;
    opts.progress?.(name, s);
  };
  try {
    const stdio = opts.parallel ? run('stdio', () => fuzzStdio(seed, count, batch)) : undefined;
    if (node) {
      await run('http', () => fuzzHttp(node, seed, count, batch), node.child.pid);
      await run('ops', () => fuzzOps(node, seed, count, batch), node.child.pid);
      await run('ws', () => fuzzWs(node, seed, count, batch), node.child.pid);
      await run('tcp', () => fuzzTcp(node, seed, count, batch), node.child.pid);
      await run('sse', () => fuzzSse(node, seed + 5, count, batch), node.child.pid);
    }
    await (stdio ?? run('stdio', () => fuzzStdio(seed, count, batch)));
  } finally {
    node?.child.kill('SIGKILL');
  }
  sum.ms = Date.now() - started;
  return sum;
}

/** True when a summary shows no crash, hang, stack, corrupted line or unexpected close, and every transport sent its count. */
export function clean(sum: FuzzSummary): boolean {
  return sum.transports.every((n) => {
    const t = sum[n];
    return t.aliveAfter && t.aliveFailures === 0 && t.hangs === 0 && t.stacks === 0 && t.corrupt === 0 && t.internal === 0 && t.unexpected5xx === 0 && t.unexpectedCloses === 0 && t.sent === sum.perTransport;
  });
}

/** One line per transport for a progress report. */
export function line(name: string, t: TransportSummary): string {
  const statuses = Object.entries(t.statuses)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return `${name.padEnd(5)} sent ${t.sent} answered ${t.answered} hangs ${t.hangs} stacks ${t.stacks} internal ${t.internal} 5xx ${t.unexpected5xx} corrupt ${t.corrupt} closes ${t.unexpectedCloses} refused ${t.refusals} alive ${t.aliveAfter} checks ${t.aliveChecks - t.aliveFailures}/${t.aliveChecks} ${(t.ms / 1000).toFixed(1)} s ${t.perSecond}/s rss ${t.rssStartMiB}→${t.rssEndMiB} (peak ${t.rssPeakMiB}) MiB ${statuses}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? dflt : process.argv[i + 1]!;
  };
  const only = arg('--only', TRANSPORTS.join(','))
    .split(',')
    .filter((t): t is TransportName => (TRANSPORTS as readonly string[]).includes(t));
  const sum = await runFuzz({
    seed: Number(arg('--seed', '9')),
    count: Number(arg('--count', '100000')),
    batch: Number(arg('--batch', String(BATCH))),
    only,
    parallel: process.argv.includes('--parallel'),
    progress: (name, s) => process.stderr.write(`${line(name, s)}\n${s.problems.map((p) => `  ${p}`).join('\n')}${s.problems.length ? '\n' : ''}`),
  });
  const out = join(DIST, arg('--out', 'fuzz-summary.json'));
  writeFileSync(out, `${JSON.stringify(sum, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(sum, null, 2)}\nsummary written to ${out}\n`);
  process.exitCode = clean(sum) ? 0 : 1;
}
