/**
 * The soak's MCP client: raw 2025 Streamable HTTP over node:http, one TCP connection per request
 * (no keep-alive), so the round-robin proxy spreads the requests over the nodes; GET streams that
 * reopen with Last-Event-ID when their connection breaks.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export const VERSION = '2025-11-25';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The JSON-RPC response in the body (JSON, or the one in an SSE body), if any. */
  response: any;
}

/** One SSE event. */
export interface SseEvent {
  id?: string;
  data: string;
}

/** Parses complete SSE blocks from `buf`; returns the events and the unparsed rest. */
export function parseSse(buf: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\n\n', at);
    if (end === -1) break;
    const block = buf.slice(at, end);
    at = end + 2;
    const ev: SseEvent = { data: '' };
    let has = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') {
        ev.id = value;
        has = true;
      } else if (field === 'data') {
        ev.data += (ev.data ? '\n' : '') + value;
        has = true;
      }
    }
    if (has) events.push(ev);
  }
  return { events, rest: buf.slice(at) };
}

/** POSTs a JSON-RPC message; rejects on a network error or after `timeoutMs`. */
export function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(payload), ...headers },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let response: any;
        try {
          if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
            for (const e of parseSse(text + '\n\n').events) {
              if (!e.data.trim()) continue;
              const m = JSON.parse(e.data);
              if (!('method' in m)) response = m;
            }
          } else if (text) {
            response = JSON.parse(text);
          }
        } catch {
          response = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, response });
      });
    });
    req.end(payload);
  });
}

/** A 2025 session through the proxy. */
export class Session {
  id = '';
  private n = 0;
  constructor(readonly url: string) {}

  headers(): Record<string, string> {
    return { 'mcp-session-id': this.id, 'mcp-protocol-version': VERSION };
  }

  async initialize(timeoutMs: number): Promise<Reply> {
    const r = await postJson(this.url, { jsonrpc: '2.0', id: `init-${++this.n}`, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'andon-soak', version: '1.0.0' } } }, {}, timeoutMs);
    this.id = String(r.headers['mcp-session-id'] ?? '');
    if (r.status === 200 && this.id) await postJson(this.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, this.headers(), timeoutMs);
    return r;
  }

  /** A request with a fresh id (`id` given: that id, for a retry). */
  request(method: string, params: Record<string, unknown> | undefined, timeoutMs: number, id?: string): Promise<Reply> {
    const msg: Record<string, unknown> = { jsonrpc: '2.0', id: id ?? `r-${++this.n}`, method };
    if (params) msg.params = params;
    return postJson(this.url, msg, this.headers(), timeoutMs);
  }
}

/**
 * A session's GET stream, kept open: when its connection breaks (its node was killed), it reopens
 * through the proxy with Last-Event-ID. Counts `notifications/resources/updated`.
 */
export class Stream {
  updates = 0;
  reopens = 0;
  lastEventId: string | undefined;
  /** Statuses other than 200 seen when (re)opening (404 = the session was lost). */
  readonly badStatuses: number[] = [];
  private closed = false;
  private current: ReturnType<typeof request> | undefined;
  private open = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly session: Session,
    private readonly onLost: (why: string) => void,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Opens the stream (resolves once it answered 200 or failed) and keeps it open in the background. */
  async start(): Promise<boolean> {
    const first = await this.connectOnce();
    this.loop = (async () => {
      let ended = first.ended;
      while (!this.closed) {
        await ended;
        if (this.closed) break;
        await new Promise((r) => setTimeout(r, 250));
        if (this.closed) break;
        const next = await this.connectOnce();
        if (next.ok) this.reopens++;
        ended = next.ended;
      }
    })();
    return first.ok;
  }

  private connectOnce(): Promise<{ ok: boolean; ended: Promise<void> }> {
    return new Promise((resolve) => {
      let settle!: () => void;
      const ended = new Promise<void>((r) => (settle = r));
      const done = () => {
        this.open = false;
        settle();
      };
      const headers: Record<string, string> = { accept: 'text/event-stream', ...this.session.headers() };
      if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
      const req = request(this.session.url, { method: 'GET', agent: false, headers });
      this.current = req;
      req.setTimeout(10_000, () => {
        if (!this.open) req.destroy(new Error('stream open timed out'));
      });
      req.on('error', () => {
        done();
        resolve({ ok: false, ended });
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          this.badStatuses.push(res.statusCode ?? 0);
          if (res.statusCode === 404) this.onLost(`GET stream of ${this.session.id}: 404`);
          res.resume();
          res.on('end', done);
          res.on('error', done);
          resolve({ ok: false, ended });
          return;
        }
        this.open = true;
        req.setTimeout(0);
        resolve({ ok: true, ended });
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const p = parseSse(buf + chunk);
          buf = p.rest;
          for (const e of p.events) {
            if (e.id) this.lastEventId = e.id;
            if (!e.data.trim()) continue;
            try {
              const m = JSON.parse(e.data) as { method?: string };
              if (m.method === 'notifications/resources/updated') this.updates++;
            } catch {
              // not JSON: ignored (the soak only counts updates)
            }
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
        res.on('close', done);
      });
      req.end();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current?.destroy();
    await this.loop;
  }
}
