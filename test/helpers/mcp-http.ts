/**
 * A raw Streamable HTTP client for tests: it sends exactly what a test says and returns what came
 * back (status, headers, every JSON-RPC message whether JSON or SSE), and validates each server
 * message against the era's schema.
 */
import { checkServerMessage, type SchemaEra } from './schema.js';

export const ACCEPT = 'application/json, text/event-stream';
export const V26 = '2026-07-28';

export interface Reply {
  status: number;
  headers: Headers;
  /** Every JSON-RPC message in the body, in order (one for JSON, several for SSE). */
  messages: any[];
  /** The final response to the request, when there is one. */
  response: any;
  /** Raw SSE events (id, data) when the reply was a stream. */
  events: Array<{ id?: string; data: string; retry?: string }>;
  text: string;
}

/** Parses an SSE body into events. */
export function parseSse(text: string): Array<{ id?: string; data: string; retry?: string; event?: string }> {
  const out: Array<{ id?: string; data: string; retry?: string; event?: string }> = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const ev: { id?: string; data: string; retry?: string; event?: string } = { data: '' };
    let has = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') ev.id = value;
      else if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
      else if (field === 'retry') ev.retry = value;
      else if (field === 'event') ev.event = value;
      if (field === 'id' || field === 'data' || field === 'retry') has = true;
    }
    if (has) out.push(ev);
  }
  return out;
}

/** POSTs a body (object or raw string) and collects the reply. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}, era: SchemaEra = '2025'): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return collect(res, typeof body === 'object' && body && 'method' in body ? (body as { method: string }).method : undefined, era);
}

export async function collect(res: Response, method: string | undefined, era: SchemaEra): Promise<Reply> {
  const text = await res.text();
  const ct = res.headers.get('content-type') ?? '';
  let messages: any[] = [];
  let events: Reply['events'] = [];
  if (ct.startsWith('text/event-stream')) {
    events = parseSse(text);
    messages = events.filter((e) => e.data.trim()).map((e) => JSON.parse(e.data));
  } else if (text) {
    messages = [JSON.parse(text)];
  }
  for (const m of messages) checkServerMessage(era, m, 'id' in m && !('method' in m) ? method : undefined);
  const response = messages.find((m) => !('method' in m));
  return { status: res.status, headers: res.headers, messages, response, events, text };
}

/** A 2025 session over raw HTTP. */
export class Session2025 {
  sessionId = '';
  private nextId = 1;
  constructor(
    readonly url: string,
    readonly version = '2025-11-25',
  ) {}

  async initialize(capabilities: Record<string, unknown> = {}): Promise<Reply> {
    const r = await post(this.url, {
      jsonrpc: '2.0',
      id: this.nextId++,
      method: 'initialize',
      params: { protocolVersion: this.version, capabilities, clientInfo: { name: 'raw-test', version: '1.0.0' } },
    });
    this.sessionId = r.headers.get('mcp-session-id') ?? '';
    await this.notify('notifications/initialized');
    return r;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': this.version, ...extra };
  }

  request(method: string, params?: Record<string, unknown>, extra: Record<string, string> = {}): Promise<Reply> {
    const msg: Record<string, unknown> = { jsonrpc: '2.0', id: this.nextId++, method };
    if (params) msg.params = params;
    return post(this.url, msg, this.headers(extra));
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<Reply> {
    const msg: Record<string, unknown> = { jsonrpc: '2.0', method };
    if (params) msg.params = params;
    return post(this.url, msg, this.headers());
  }

  /** Result of a request, failing loudly on an error response. */
  async call(method: string, params?: Record<string, unknown>): Promise<any> {
    const r = await this.request(method, params);
    if (!r.response || r.response.error) throw new Error(`${method} failed: ${r.text}`);
    return r.response.result;
  }
}

/** `_meta` for a 2026 request. */
export function meta26(caps: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': V26,
    'io.modelcontextprotocol/clientCapabilities': caps,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1.0.0' },
    ...extra,
  };
}

let id26 = 1000;
/** A 2026 request with the right headers. */
export function post26(url: string, method: string, params: Record<string, unknown> = {}, opts: { caps?: Record<string, unknown>; headers?: Record<string, string>; meta?: Record<string, unknown> } = {}): Promise<Reply> {
  const p = { ...params, _meta: { ...meta26(opts.caps), ...opts.meta } };
  const headers: Record<string, string> = { 'mcp-protocol-version': V26, 'mcp-method': method };
  const nameKey = method === 'resources/read' ? 'uri' : method === 'tools/call' || method === 'prompts/get' ? 'name' : method.startsWith('tasks/') ? 'taskId' : null;
  if (nameKey && typeof params[nameKey] === 'string') headers['mcp-name'] = params[nameKey] as string;
  return post(url, { jsonrpc: '2.0', id: id26++, method, params: p }, { ...headers, ...opts.headers }, '2026');
}
