/**
 * One load-generator process of `npm run load`: opens its share of the clients at a steady rate
 * and holds them. Three kinds:
 *  - `sse`: a 2025 Streamable HTTP session (initialize + initialized + resources/subscribe over a
 *    small shared pool) holding a GET SSE stream on a raw socket;
 *  - `ws`: a WebSocket (subprotocol `mcp`) that initializes and subscribes;
 *  - `post`: a 2025 session on its own keep-alive connection that sends a tools/call every
 *    `postIntervalMs` (jittered).
 * Every stream and WebSocket counts the notifications/resources/updated it receives. Driven by
 * its parent over IPC; it exits when told to or when the parent goes away.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'undici';
import WebSocket from 'ws';
import { INITIALIZED, V2025, initializeBody } from '../lib/load-http.js';

export type Kind = 'sse' | 'ws' | 'post';

export interface OpenCmd {
  cmd: 'open';
  port: number;
  path: string;
  wsPath: string;
  uri: string;
  counts: Record<Kind, number>;
  seconds: number;
  postIntervalMs: number;
  tool: string;
}

export interface WorkerStatus {
  event: 'status';
  held: Record<Kind, number>;
  attempted: number;
  target: number;
  inFlight: number;
  errors: Record<string, number>;
  firstErrors: Record<string, string>;
  notifications: number;
  postCalls: number;
  postErrors: number;
}

const ACCEPT = 'application/json, text/event-stream';
const MARKER = 'notifications/resources/updated';

interface Held {
  kind: Kind;
  notes: number;
  /** Held when the delivery check was armed (a client opened later cannot have its notifies). */
  armed?: boolean;
  sid: string;
  close(): void;
  alive: boolean;
}

const held: Held[] = [];
const errors: Record<string, number> = {};
const firstErrors: Record<string, string> = {};
let attempted = 0;
let target = 0;
let inFlight = 0;
let notifications = 0;
let postCalls = 0;
let postErrors = 0;
let closing = false;
let cmd: OpenCmd | undefined;
let pool: Pool | undefined;
const postTimers = new Set<NodeJS.Timeout>();

function reply(m: Record<string, unknown>): void {
  process.send?.(m);
}

function fail(kind: string, what: string, detail: string): void {
  const k = `${kind}:${what}`;
  errors[k] = (errors[k] ?? 0) + 1;
  firstErrors[k] ??= detail.slice(0, 300);
}

/** A short label for a refusal body: its andon code when it carries one. */
function reason(status: number, text: string): string {
  const m = /"code":"(ANDON_[A-Z_]+)"/.exec(text) ?? /(ANDON_[A-Z_]+)/.exec(text);
  return m ? `${status} ${m[1]}` : String(status);
}

function errName(err: unknown): string {
  const e = err as { code?: string; name?: string };
  return e.code ?? e.name ?? 'error';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function headers(sid: string): Record<string, string> {
  return { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2025, 'mcp-session-id': sid };
}

/** initialize + initialized (+ subscribe) on `d`; returns the session id or throws a labelled error. */
async function session(d: Pool | Client, path: string, uri: string | undefined): Promise<string> {
  const r = await d.request({ path, method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT }, body: initializeBody(1) });
  const text = await r.body.text();
  if (r.statusCode !== 200 || !text.includes('"result"')) throw Object.assign(new Error(text.slice(0, 300)), { label: `init ${reason(r.statusCode, text)}` });
  const sid = String(r.headers['mcp-session-id'] ?? '');
  const n = await d.request({ path, method: 'POST', headers: headers(sid), body: INITIALIZED });
  await n.body.text();
  if (n.statusCode !== 202 && n.statusCode !== 200) throw Object.assign(new Error(`initialized: ${n.statusCode}`), { label: `initialized ${n.statusCode}` });
  if (uri) {
    const s = await d.request({ path, method: 'POST', headers: headers(sid), body: `{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"${uri}"}}` });
    const st = await s.body.text();
    if (s.statusCode !== 200 || !st.includes('"result"')) throw Object.assign(new Error(st.slice(0, 300)), { label: `subscribe ${reason(s.statusCode, st)}` });
  }
  return sid;
}

function label(err: unknown): string {
  return (err as { label?: string }).label ?? errName(err);
}

/** A GET SSE stream on a raw socket; resolves once the response head arrived (or it failed). */
function openStream(c: OpenCmd, sid: string): Promise<Held | undefined> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port: c.port, host: '127.0.0.1', noDelay: true });
    const h: Held = { kind: 'sse', notes: 0, sid, alive: false, close: () => socket.destroy() };
    let settled = false;
    let head = '';
    let tail = '';
    const settle = (v: Held | undefined) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(`GET ${c.path} HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: ${V2025}\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      if (!settled) {
        head += chunk;
        if (!head.includes('\r\n')) return;
        if (head.startsWith('HTTP/1.1 200')) {
          h.alive = true;
          settle(h);
        } else {
          const status = Number(head.slice(9, 12)) || 0;
          fail('sse', `stream ${reason(status, head)}`, head);
          socket.destroy();
          settle(undefined);
          return;
        }
        chunk = head;
      }
      const text = tail + chunk;
      let i = text.indexOf(MARKER);
      while (i !== -1) {
        h.notes++;
        notifications++;
        i = text.indexOf(MARKER, i + MARKER.length);
      }
      tail = text.slice(-(MARKER.length - 1));
    });
    socket.on('error', (err) => {
      if (!settled) fail('sse', `stream ${errName(err)}`, String(err));
      settle(undefined);
    });
    socket.on('close', () => {
      if (h.alive && !closing) fail('sse', 'dropped', 'stream closed by the server');
      h.alive = false;
      settle(undefined);
    });
  });
}

async function openSse(c: OpenCmd): Promise<void> {
  let sid: string;
  try {
    sid = await session(pool!, c.path, c.uri);
  } catch (err) {
    fail('sse', label(err), String(err));
    return;
  }
  const h = await openStream(c, sid);
  if (h) held.push(h);
  else void deleteSession(c.path, sid);
}

function openWs(c: OpenCmd): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}${c.wsPath}`, 'mcp', { perMessageDeflate: false });
    const h: Held = { kind: 'ws', notes: 0, sid: '', alive: false, close: () => ws.terminate() };
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (ok) {
        h.alive = true;
        held.push(h);
      } else ws.terminate();
      resolve();
    };
    const timer = setTimeout(() => {
      fail('ws', 'handshake timeout', 'no answer to initialize/subscribe in 60 s');
      finish(false);
    }, 60_000);
    ws.on('open', () => ws.send(initializeBody(1)));
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes(MARKER)) {
        h.notes++;
        notifications++;
        return;
      }
      if (done) return;
      if (text.includes('"id":1')) {
        if (!text.includes('"result"')) {
          clearTimeout(timer);
          fail('ws', `init ${reason(0, text)}`, text);
          finish(false);
          return;
        }
        ws.send(INITIALIZED);
        ws.send(`{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"${c.uri}"}}`);
      } else if (text.includes('"id":2')) {
        clearTimeout(timer);
        if (text.includes('"result"')) finish(true);
        else {
          fail('ws', `subscribe ${reason(0, text)}`, text);
          finish(false);
        }
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        fail('ws', `upgrade ${reason(res.statusCode ?? 0, body)}`, body);
        finish(false);
      });
      res.on('error', () => finish(false));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      if (!done) fail('ws', errName(err), String(err));
      finish(false);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (h.alive && !closing) fail('ws', `dropped ${code}`, `closed by the server with ${code}`);
      h.alive = false;
      finish(false);
    });
  });
}

async function openPost(c: OpenCmd): Promise<void> {
  const client = new Client(`http://127.0.0.1:${c.port}`, { pipelining: 1, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });
  let sid: string;
  try {
    sid = await session(client, c.path, undefined);
  } catch (err) {
    fail('post', label(err), String(err));
    void client.close().catch(() => {});
    return;
  }
  const h: Held = { kind: 'post', notes: 0, sid, alive: true, close: () => void client.destroy().catch(() => {}) };
  held.push(h);
  let id = 10;
  const tick = async () => {
    if (closing || !h.alive) return;
    try {
      const r = await client.request({ path: c.path, method: 'POST', headers: headers(sid), body: `{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":{"name":"${c.tool}","arguments":{"text":"post"}}}` });
      const text = await r.body.text();
      postCalls++;
      if (r.statusCode !== 200 || !text.includes('"result"') || text.includes('"isError":true')) {
        postErrors++;
        fail('post', `call ${reason(r.statusCode, text)}`, text);
      }
    } catch (err) {
      if (closing) return;
      postErrors++;
      fail('post', `call ${errName(err)}`, String(err));
    }
    schedule();
  };
  const schedule = () => {
    if (closing) return;
    const t = setTimeout(() => {
      postTimers.delete(t);
      void tick();
    }, c.postIntervalMs * (0.5 + Math.random()));
    postTimers.add(t);
  };
  schedule();
  // Hand the Client to the closer: DELETE goes over its own connection.
  (h as Held & { client?: Client }).client = client;
}

async function deleteSession(path: string, sid: string, d: Pool | Client | undefined = pool): Promise<void> {
  if (!d || !sid) return;
  try {
    const r = await d.request({ path, method: 'DELETE', headers: headers(sid) });
    await r.body.text();
  } catch {
    // best effort
  }
}

/** Opens the clients at a steady rate over `seconds`, kinds interleaved by their shares. */
async function open(c: OpenCmd): Promise<void> {
  cmd = c;
  pool = new Pool(`http://127.0.0.1:${c.port}`, { connections: 16, pipelining: 1, keepAliveTimeout: 120_000 });
  const kinds: Kind[] = ['sse', 'ws', 'post'];
  target = kinds.reduce((s, k) => s + c.counts[k], 0);
  const done: Record<Kind, number> = { sse: 0, ws: 0, post: 0 };
  const gap = target > 0 ? (c.seconds * 1000) / target : 0;
  const start = performance.now();
  const maxInFlight = 64;
  for (let i = 0; i < target && !closing; i++) {
    // The kind furthest behind its share goes next.
    let kind: Kind = 'sse';
    let lag = -Infinity;
    for (const k of kinds) {
      if (done[k] >= c.counts[k]) continue;
      const behind = ((i + 1) * c.counts[k]) / target - done[k];
      if (behind > lag) {
        lag = behind;
        kind = k;
      }
    }
    done[kind]++;
    const due = start + i * gap;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight >= maxInFlight && !closing) await sleep(2);
    attempted++;
    inFlight++;
    const p = kind === 'sse' ? openSse(c) : kind === 'ws' ? openWs(c) : openPost(c);
    void p.finally(() => inFlight--);
  }
  while (inFlight > 0 && !closing) await sleep(20);
  reply({ event: 'opened' });
}

function status(): WorkerStatus {
  const count: Record<Kind, number> = { sse: 0, ws: 0, post: 0 };
  for (const h of held) if (h.alive) count[h.kind]++;
  return { event: 'status', held: count, attempted, target, inFlight, errors, firstErrors, notifications, postCalls, postErrors };
}

/** How many notifications each live stream / WebSocket got since `arm`: count → streams. */
function deliveries(): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { sse: {}, ws: {} };
  for (const h of held) {
    if (!h.alive || !h.armed || h.kind === 'post') continue;
    const b = out[h.kind]!;
    b[h.notes] = (b[h.notes] ?? 0) + 1;
  }
  return out;
}

/** Ends every client: DELETE for HTTP sessions (bounded concurrency), close for WebSockets. */
async function closeAll(): Promise<void> {
  closing = true;
  for (const t of postTimers) clearTimeout(t);
  postTimers.clear();
  const c = cmd;
  let next = 0;
  const worker = async () => {
    while (next < held.length) {
      const h = held[next++]!;
      const client = (h as Held & { client?: Client }).client;
      if (c && h.sid) await deleteSession(c.path, h.sid, client ?? pool);
      h.close();
      h.alive = false;
    }
  };
  await Promise.race([Promise.all(Array.from({ length: 64 }, worker)), sleep(120_000)]);
  for (const h of held) h.close();
  await pool?.destroy().catch(() => {});
}

process.on('message', (raw: unknown) => {
  const m = raw as { cmd: string };
  switch (m.cmd) {
    case 'open':
      open(m as OpenCmd).catch((err: unknown) => reply({ event: 'error', error: String(err) }));
      return;
    case 'status':
      reply(status() as unknown as Record<string, unknown>);
      return;
    case 'arm':
      for (const h of held) {
        h.notes = 0;
        h.armed = h.alive;
      }
      reply({ event: 'armed' });
      return;
    case 'deliveries':
      reply({ event: 'deliveries', deliveries: deliveries() });
      return;
    case 'close':
      closeAll()
        .catch(() => {})
        .finally(() => {
          reply({ event: 'closed' });
          setTimeout(() => process.exit(0), 50);
        });
      return;
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
