/**
 * The wire fuzzer: mutated MCP traffic against real processes on 127.0.0.1 — Streamable HTTP POST
 * bodies and headers, stdio lines, ops-listener targets and methods, WebSocket text frames, TCP
 * lines and legacy SSE POST bodies. It asserts no crash (the
 * process is alive and answers a normal request afterwards), no hang (every request is answered or
 * closed within a deadline) and no stack trace in any answer.
 *
 *   npm run fuzz                      # 20,000 per transport, seed 9, summary in dist/fuzz-summary.json
 *   node dist/test/fuzz/runner.js --count 5000 --seed 42
 *
 * The CI-sized run is test/fuzz/fuzz.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { CLI, DIST } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import WebSocket from 'ws';
import { hasStack, httpHeaders, httpMethod, mutate, opsMethod, opsTarget, rng, type Kind } from './generator.js';

const FIXTURE = join(DIST, 'test/fuzz/fixture-server.js');
/** Longest any single request may stay unanswered. */
const DEADLINE_MS = 10_000;

/** What one transport's run found. */
export interface TransportSummary {
  sent: number;
  answered: number;
  hangs: number;
  stacks: number;
  /** Answers that were not JSON where JSON was due (stdio lines). */
  corrupt: number;
  /** HTTP statuses seen, with counts. */
  statuses: Record<string, number>;
  kinds: Partial<Record<Kind, number>>;
  /** Process alive and serving a normal request at the end. */
  aliveAfter: boolean;
  /** First few problems, for the report. */
  problems: string[];
  ms: number;
}

export interface FuzzSummary {
  seed: number;
  perTransport: number;
  ms: number;
  http: TransportSummary;
  stdio: TransportSummary;
  ops: TransportSummary;
  /** WebSocket (`/ws` on the MCP listener), TCP and legacy SSE (`/sse` + `/messages`) of the same node. */
  ws: TransportSummary;
  tcp: TransportSummary;
  sse: TransportSummary;
}

function empty(): TransportSummary {
  return { sent: 0, answered: 0, hangs: 0, stacks: 0, corrupt: 0, statuses: {}, kinds: {}, aliveAfter: false, problems: [], ms: 0 };
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
  if (a.status >= 500 && a.status !== 503) note(s, `${a.status}: ${what}: ${a.body.slice(0, 200)}`);
}

interface HttpNode {
  child: ChildProcess;
  port: number;
  tcpPort: number;
  opsPort: number;
  stateDir: string;
  stderr(): string;
}

async function startHttpNode(): Promise<HttpNode> {
  const port = await freePort();
  const opsPort = await freePort();
  const tcpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-fuzz-'));
  // The WebSocket and legacy SSE transports share the MCP listener; TCP has its own port.
  const config = join(stateDir, 'fuzz.config.json');
  writeFileSync(config, JSON.stringify({ websocket: { enabled: true }, tcp: { enabled: true, port: tcpPort }, legacySse: { enabled: true } }));
  const child = spawn(process.execPath, [CLI, 'serve', FIXTURE, '--port', String(port), '--ops-port', String(opsPort), '--state-dir', stateDir, '--config', config], {
    // Debug logging subscribes the request start/end loggers: the readers that crashed on odd input.
    env: { ...process.env, ANDON_ADMIN_TOKEN: '', ANDON_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const deadline = Date.now() + 15_000;
  while (!err.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`node did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, port, tcpPort, opsPort, stateDir, stderr: () => err };
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP exchange with a deadline; an SSE answer counts once its headers arrive. */
function exchange(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer | 'hang' | 'closed'> {
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
        if (sse) setTimeout(() => {
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

async function initSession(agent: Agent, port: number): Promise<string> {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }));
  const a = await exchange(agent, port, 'POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body);
  if (typeof a === 'string' || a.status !== 200) throw new Error(`initialize failed: ${typeof a === 'string' ? a : `${a.status} ${a.body}`}`);
  return String(a.headers['mcp-session-id']);
}

async function httpAlive(node: HttpNode, agent: Agent): Promise<boolean> {
  if (node.child.exitCode !== null) return false;
  try {
    const sid = await initSession(agent, node.port);
    const call = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } }));
    const a = await exchange(agent, node.port, 'POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, call);
    return typeof a !== 'string' && a.status === 200 && a.body.includes('alive');
  } catch {
    return false;
  }
}

async function pool(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
}

async function fuzzHttp(node: HttpNode, seed: number, count: number): Promise<TransportSummary> {
  const s = empty();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const r = rng(seed);
  const sid = await initSession(agent, node.port);
  await pool(count, 8, async (i) => {
    // Generated when taken (in index order, so the run stays reproducible), not all up front:
    // 20,000 mutants with huge strings would hold hundreds of MB.
    const m = mutate(r);
    const method = httpMethod(r);
    const headers = httpHeaders(r, sid);
    s.sent++;
    s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
    const a = await exchange(agent, node.port, method, '/mcp', headers, method === 'POST' || method === 'PUT' ? m.body : undefined);
    tally(s, a, `http case ${i} ${method} ${m.kind}`, m.body.subarray(0, 120).toString());
  });
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

async function fuzzOps(node: HttpNode, seed: number, count: number): Promise<TransportSummary> {
  const s = empty();
  const r = rng(seed + 1);
  const token = readFileSync(join(node.stateDir, 'admin-token'), 'utf8').trim();
  await pool(count, 8, async () => {
    const method = opsMethod(r);
    // Only reads get the token: a fuzzed, authorized drain or halt would stop the node on purpose.
    const c = { method, target: opsTarget(r), token: method === 'GET' && r() < 0.5 ? token : undefined };
    s.sent++;
    const a = await rawOps(node.opsPort, c.method, c.target, c.token);
    tally(s, a, `ops ${c.method} ${c.target.slice(0, 100)}`);
  });
  const live = await rawOps(node.opsPort, 'GET', '/health/live');
  s.aliveAfter = node.child.exitCode === null && typeof live !== 'string' && live.status === 200;
  return s;
}

async function fuzzStdio(seed: number, count: number): Promise<TransportSummary> {
  const s = empty();
  const stateDir = mkdtempSync(join(tmpdir(), 'andon-fuzz-stdio-'));
  const child = spawn(process.execPath, [CLI, 'serve', FIXTURE, '--stdio', '--state-dir', stateDir], { env: { ...process.env, ANDON_LOG_LEVEL: 'debug' }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.resume();
  child.stdin!.on('error', () => {});
  const waiting = new Map<string, () => void>();
  const decoder = new StringDecoder('utf8');
  let buf = '';
  const lastLines: string[] = [];
  child.stdout!.on('data', (c: Buffer) => {
    buf += decoder.write(c);
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      let m: { id?: unknown };
      try {
        m = JSON.parse(line) as { id?: unknown };
      } catch {
        s.corrupt++;
        note(s, `stdio non-JSON line: ${line.slice(0, 200)}`);
        continue;
      }
      if (hasStack(line)) {
        s.stacks++;
        note(s, `stdio stack: ${line.slice(0, 300)}`);
      }
      lastLines.push(line.slice(0, 200));
      if (lastLines.length > 5) lastLines.shift();
      const w = typeof m.id === 'string' ? waiting.get(m.id) : undefined;
      if (w) {
        waiting.delete(m.id as string);
        w();
      }
    }
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const ask = (id: string, line: Buffer | string): Promise<boolean> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        waiting.delete(id);
        resolve(false);
      }, DEADLINE_MS);
      waiting.set(id, () => {
        clearTimeout(t);
        resolve(true);
      });
      child.stdin!.write(line);
      child.stdin!.write(`{"jsonrpc":"2.0","id":"${id}","method":"ping"}\n`);
    });
  const r = rng(seed + 2);
  for (let i = 0; i < count; i++) {
    if (child.exitCode !== null) {
      note(s, `stdio process exited (code ${child.exitCode}) before case ${i}; last lines: ${lastLines.join(' | ')}`);
      break;
    }
    const m = mutate(r);
    s.sent++;
    s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
    // One message a line: newlines inside a mutant would split it (still worth sending, as spaces).
    const body = Buffer.from(m.body);
    for (let j = 0; j < body.length; j++) if (body[j] === 0x0a) body[j] = 0x20;
    const ok = await ask(`sentinel-${i + 1}`, Buffer.concat([body, Buffer.from('\n')]));
    if (ok) s.answered++;
    else {
      s.hangs++;
      note(s, `stdio hang after case ${i} ${m.kind}: ${m.body.subarray(0, 120).toString()}`);
      if (child.exitCode !== null) break;
    }
  }
  // Alive: initialize (again, harmless if a mutant already did) and a real tool call.
  const final = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), DEADLINE_MS);
    waiting.set('final-echo', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
  child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 'final-init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'f', version: '1' } } })}\n`);
  child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 'final-echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } })}\n`);
  s.aliveAfter = child.exitCode === null && (await final);
  child.stdin!.end();
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
  return s;
}

/**
 * A message connection (WebSocket or TCP) for the fuzzer: every frame or line received is checked
 * for JSON and stack traces; `ask` sends a mutant then a sentinel ping and resolves once the
 * sentinel is answered ('answered'), the connection closed ('closed', with the WebSocket code), or
 * the deadline passed ('hang').
 */
interface FuzzConn {
  ask(id: string, mutant: Buffer): Promise<'answered' | 'hang' | { closed: number }>;
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
  const w = typeof m.id === 'string' ? waiting.get(m.id) : undefined;
  if (w) {
    waiting.delete(m.id as string);
    w();
  }
}

function sentinel(id: string): string {
  return `{"jsonrpc":"2.0","id":"${id}","method":"ping"}`;
}

async function wsConn(s: TransportSummary, url: string): Promise<FuzzConn> {
  const ws = new WebSocket(url, 'mcp', { maxPayload: 64 * 1024 * 1024 });
  const waiting = new Map<string, () => void>();
  let closedCode: number | undefined;
  const onClose = new Set<() => void>();
  ws.on('message', (d, isBinary) => {
    if (isBinary) {
      s.corrupt++;
      note(s, 'ws binary frame from the server');
      return;
    }
    watchText(s, 'ws', String(d), waiting);
  });
  ws.on('error', () => {});
  ws.on('close', (code) => {
    closedCode = code;
    for (const f of onClose) f();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ask: (id, mutant) =>
      new Promise((resolve) => {
        if (closedCode !== undefined) return resolve({ closed: closedCode });
        const done = (v: 'answered' | 'hang' | { closed: number }) => {
          clearTimeout(t);
          waiting.delete(id);
          onClose.delete(closed);
          resolve(v);
        };
        const closed = () => done({ closed: closedCode ?? 0 });
        const t = setTimeout(() => done('hang'), DEADLINE_MS);
        waiting.set(id, () => done('answered'));
        onClose.add(closed);
        // A text frame of the mutant's bytes as they are (invalid UTF-8 included).
        ws.send(mutant, { binary: false });
        ws.send(sentinel(id));
      }),
    close: () => ws.close(),
  };
}

async function tcpConn(s: TransportSummary, port: number): Promise<FuzzConn> {
  const sock = connect(port, '127.0.0.1');
  const waiting = new Map<string, () => void>();
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let closed = false;
  const onClose = new Set<() => void>();
  sock.on('data', (c: Buffer) => {
    buf += decoder.write(c);
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      watchText(s, 'tcp', line, waiting);
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    closed = true;
    for (const f of onClose) f();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  return {
    ask: (id, mutant) =>
      new Promise((resolve) => {
        if (closed) return resolve({ closed: 0 });
        const done = (v: 'answered' | 'hang' | { closed: number }) => {
          clearTimeout(t);
          waiting.delete(id);
          onClose.delete(gone);
          resolve(v);
        };
        const gone = () => done({ closed: 0 });
        const t = setTimeout(() => done('hang'), DEADLINE_MS);
        waiting.set(id, () => done('answered'));
        onClose.add(gone);
        // One message a line: newlines inside a mutant would split it (sent as spaces, as on stdio).
        const body = Buffer.from(mutant);
        for (let j = 0; j < body.length; j++) if (body[j] === 0x0a) body[j] = 0x20;
        sock.write(Buffer.concat([body, Buffer.from(`\n${sentinel(id)}\n`)]));
      }),
    close: () => sock.end(),
  };
}

/**
 * WebSocket or TCP: one connection, each mutant followed by a sentinel. A WebSocket the server
 * closes on purpose (1007 invalid UTF-8 in a text frame, 1009 over the size limit) counts as
 * answered and is reopened; any other close, or a TCP close, is a problem.
 */
async function fuzzConn(kind: 'ws' | 'tcp', open: (s: TransportSummary) => Promise<FuzzConn>, seed: number, count: number): Promise<TransportSummary> {
  const s = empty();
  const r = rng(seed);
  let conn = await open(s);
  for (let i = 0; i < count; i++) {
    const m = mutate(r);
    s.sent++;
    s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
    const a = await conn.ask(`sentinel-${i + 1}`, m.body);
    if (a === 'answered') s.answered++;
    else if (a === 'hang') {
      s.hangs++;
      note(s, `${kind} hang after case ${i} ${m.kind}: ${m.body.subarray(0, 120).toString()}`);
    } else {
      if (kind === 'ws' && (a.closed === 1007 || a.closed === 1009)) {
        s.answered++;
        s.statuses[`close ${a.closed}`] = (s.statuses[`close ${a.closed}`] ?? 0) + 1;
      } else note(s, `${kind} connection closed (${a.closed}) at case ${i} ${m.kind}: ${m.body.subarray(0, 120).toString()}`);
      try {
        conn = await open(s);
      } catch (err) {
        note(s, `${kind} cannot reconnect after case ${i}: ${(err as Error).message}`);
        break;
      }
    }
  }
  // Alive: a fresh connection initializes and calls a tool.
  try {
    const c = await open(s);
    const init = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'alive-init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'f', version: '1' } } }));
    const echo = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'alive-echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } }));
    s.aliveAfter = (await c.ask('alive-1', init)) === 'answered' && (await c.ask('alive-2', echo)) === 'answered';
    c.close();
  } catch (err) {
    note(s, `${kind} not alive after the run: ${(err as Error).message}`);
  }
  return s;
}

/** Legacy SSE: mutants POSTed to one stream's messages endpoint; answers on the stream are checked too. */
async function fuzzSse(node: HttpNode, seed: number, count: number): Promise<TransportSummary> {
  const s = empty();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
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
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
            if (event === 'endpoint') resolve({ endpoint: data, req });
            else if (event === 'message') watchText(s, 'sse', data, waiting);
          }
        });
        res.on('error', () => {});
      });
      req.on('error', reject);
      req.end();
    });
  const stream = await open();
  await pool(count, 8, async (i) => {
    const m = mutate(r);
    s.sent++;
    s.kinds[m.kind] = (s.kinds[m.kind] ?? 0) + 1;
    const a = await exchange(agent, node.port, 'POST', stream.endpoint, { 'content-type': 'application/json' }, m.body);
    tally(s, a, `sse case ${i} ${m.kind}`, m.body.subarray(0, 120).toString());
  });
  // Alive: a tool call on a fresh stream is answered on it.
  try {
    const fresh = await open();
    const answered = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), DEADLINE_MS);
      waiting.set('alive-echo', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    const post = (body: unknown) => exchange(agent, node.port, 'POST', fresh.endpoint, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(body)));
    await post({ jsonrpc: '2.0', id: 'alive-init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'f', version: '1' } } });
    await post({ jsonrpc: '2.0', id: 'alive-echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } });
    s.aliveAfter = node.child.exitCode === null && (await answered);
    fresh.req.destroy();
  } catch (err) {
    note(s, `sse not alive after the run: ${(err as Error).message}`);
  }
  stream.req.destroy();
  agent.destroy();
  return s;
}

/** Runs every fuzzer; `count` mutants per transport. */
export async function runFuzz(seed: number, count: number): Promise<FuzzSummary> {
  const started = Date.now();
  const node = await startHttpNode();
  try {
    let t = Date.now();
    const http = await fuzzHttp(node, seed, count);
    http.ms = Date.now() - t;
    t = Date.now();
    const ops = await fuzzOps(node, seed, count);
    ops.ms = Date.now() - t;
    t = Date.now();
    if (node.child.exitCode !== null) note(http, `HTTP node exited with ${node.child.exitCode}: ${node.stderr().slice(-2000)}`);
    const ws = await fuzzConn('ws', (s) => wsConn(s, `ws://127.0.0.1:${node.port}/ws`), seed + 3, count);
    ws.ms = Date.now() - t;
    t = Date.now();
    const tcp = await fuzzConn('tcp', (s) => tcpConn(s, node.tcpPort), seed + 4, count);
    tcp.ms = Date.now() - t;
    t = Date.now();
    const sse = await fuzzSse(node, seed + 5, count);
    sse.ms = Date.now() - t;
    t = Date.now();
    if (node.child.exitCode !== null) note(sse, `HTTP node exited with ${node.child.exitCode}: ${node.stderr().slice(-2000)}`);
    const stdio = await fuzzStdio(seed, count);
    stdio.ms = Date.now() - t;
    return { seed, perTransport: count, ms: Date.now() - started, http, stdio, ops, ws, tcp, sse };
  } finally {
    node.child.kill('SIGKILL');
  }
}

/** True when a summary shows no crash, hang, stack or corrupted line. */
export function clean(sum: FuzzSummary): boolean {
  return [sum.http, sum.stdio, sum.ops, sum.ws, sum.tcp, sum.sse].every((t) => t.aliveAfter && t.hangs === 0 && t.stacks === 0 && t.corrupt === 0 && t.sent === sum.perTransport);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? dflt : Number(process.argv[i + 1]);
  };
  const sum = await runFuzz(arg('--seed', 9), arg('--count', 20_000));
  const out = join(DIST, 'fuzz-summary.json');
  writeFileSync(out, `${JSON.stringify(sum, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(sum, null, 2)}\nsummary written to ${out}\n`);
  process.exitCode = clean(sum) ? 0 : 1;
}
