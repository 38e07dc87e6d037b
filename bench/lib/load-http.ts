/**
 * The HTTP load client: an undici Pool with one keep-alive connection per in-flight request
 * (no pipelining), the same for every server. It is not an MCP SDK client: it sends fixed,
 * pre-shaped JSON-RPC bodies and only checks that each reply is a 200 carrying a result.
 */
import { Pool } from 'undici';
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';

export const V2025 = '2025-11-25';
export const V2026 = '2026-07-28';
const ACCEPT = 'application/json, text/event-stream';

export interface HttpTarget {
  origin: string;
  path: string;
  /** 2025: session protocol (initialize first when `session`); 2026: stateless requests with `_meta`. */
  era: '2025' | '2026';
  /** Run initialize + notifications/initialized first and send Mcp-Session-Id. */
  session: boolean;
}

export interface LoadResult {
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  clientCpuUs: number;
}

/** The result of a load run from the recorded latencies (ms) of `done` calls. */
export function summarise(lat: Float64Array, done: number, errors: number, firstError: string | undefined, seconds: number, cpu: NodeJS.CpuUsage): LoadResult {
  const sorted = lat.subarray(0, done).sort();
  let sum = 0;
  for (let i = 0; i < done; i++) sum += sorted[i]!;
  return {
    calls: done,
    errors,
    firstError,
    seconds,
    rps: done / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: done ? sum / done : NaN,
    clientCpuUs: cpu.user + cpu.system,
  };
}

const TEXT = 'hello, andon';

function callBody(id: number, era: '2025' | '2026'): string {
  if (era === '2026') {
    return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"},"_meta":{"io.modelcontextprotocol/protocolVersion":"${V2026}","io.modelcontextprotocol/clientCapabilities":{}}}}`;
  }
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"}}}`;
}

export function initializeBody(id: number | string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"initialize","params":{"protocolVersion":"${V2025}","capabilities":{},"clientInfo":{"name":"andon-bench","version":"1.0.0"}}}`;
}

export const INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}';

/** Opens a 2025 session on `pool`; returns its id ('' when the server keeps none). */
export async function openSession(pool: Pool, path: string, id: number | string = 0): Promise<string> {
  const r = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT }, body: initializeBody(id) });
  const text = await r.body.text();
  if (r.statusCode !== 200 || !text.includes('"result"')) throw new Error(`initialize failed: ${r.statusCode} ${text.slice(0, 300)}`);
  const sid = r.headers['mcp-session-id'];
  const sessionId = typeof sid === 'string' ? sid : '';
  const h: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2025 };
  if (sessionId) h['mcp-session-id'] = sessionId;
  const n = await pool.request({ path, method: 'POST', headers: h, body: INITIALIZED });
  await n.body.text();
  if (n.statusCode !== 202 && n.statusCode !== 200) throw new Error(`notifications/initialized failed: ${n.statusCode}`);
  return sessionId;
}

/** A prepared load: a pool and (for 2025 targets) a session, ready to run tools/call batches. */
export class HttpLoad {
  private readonly pool: Pool;
  private headers: Record<string, string> = {};
  private nextId = 1;
  sessionId = '';

  constructor(
    private readonly target: HttpTarget,
    readonly concurrency: number,
  ) {
    this.pool = new Pool(target.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
  }

  async open(): Promise<void> {
    const t = this.target;
    if (t.era === '2026') {
      this.headers = { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2026, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
      return;
    }
    if (t.session) this.sessionId = await openSession(this.pool, t.path);
    this.headers = { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2025 };
    if (this.sessionId) this.headers['mcp-session-id'] = this.sessionId;
  }

  /** Runs `calls` tools/call requests with `concurrency` in flight (or until `maxSeconds`). */
  async run(calls: number, maxSeconds = 60): Promise<LoadResult> {
    const { pool, headers } = this;
    const { path, era } = this.target;
    const lat = new Float64Array(calls);
    let issued = 0;
    let done = 0;
    let errors = 0;
    let firstError: string | undefined;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const deadline = start + maxSeconds * 1000;
    const worker = async () => {
      while (issued < calls && performance.now() < deadline) {
        issued++;
        const id = this.nextId++;
        const t0 = performance.now();
        try {
          const r = await pool.request({ path, method: 'POST', headers, body: callBody(id, era) });
          const text = await r.body.text();
          if (r.statusCode !== 200 || !text.includes('"result"') || text.includes('"isError":true')) {
            errors++;
            firstError ??= `${r.statusCode} ${text.slice(0, 300)}`;
          }
        } catch (err) {
          errors++;
          firstError ??= String(err);
        }
        lat[done++] = performance.now() - t0;
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < this.concurrency; i++) workers.push(worker());
    await Promise.all(workers);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return summarise(lat, done, errors, firstError, seconds, cpu);
  }

  async close(): Promise<void> {
    if (this.sessionId) {
      try {
        const r = await this.pool.request({ path: this.target.path, method: 'DELETE', headers: this.headers });
        await r.body.text();
      } catch {
        // best effort
      }
    }
    await this.pool.close();
  }
}

export interface SessionsResult {
  created: number;
  seconds: number;
  perSecond: number;
  ids: string[];
  errors: number;
  firstError?: string;
}

/**
 * Creates up to `n` 2025 sessions (initialize + notifications/initialized, and resources/subscribe
 * to `subscribeUri` when given) with `concurrency` handshakes in flight, stopping at `maxSeconds`.
 */
export async function createSessions(origin: string, path: string, n: number, concurrency: number, maxSeconds: number, subscribeUri?: string): Promise<SessionsResult> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const ids: string[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  const worker = async () => {
    while (issued < n && performance.now() < deadline) {
      const i = issued++;
      try {
        const sid = await openSession(pool, path, i);
        if (subscribeUri) {
          const r = await pool.request({
            path,
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V2025, 'mcp-session-id': sid },
            body: `{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"${subscribeUri}"}}`,
          });
          const text = await r.body.text();
          if (r.statusCode !== 200 || !text.includes('"result"')) throw new Error(`subscribe failed: ${r.statusCode} ${text.slice(0, 200)}`);
        }
        ids.push(sid);
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return { created: ids.length, seconds, perSecond: ids.length / seconds, ids, errors, firstError };
}
