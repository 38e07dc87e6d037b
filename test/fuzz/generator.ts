/**
 * Seeded mutation of valid MCP traffic, shared by the fuzz runner (`npm run fuzz`) and its CI-sized
 * test. Every case is reproducible from (seed, index): a failure report names both.
 */

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const V26 = '2026-07-28';
const META26 = { 'io.modelcontextprotocol/protocolVersion': V26, 'io.modelcontextprotocol/clientCapabilities': {} };

/** Valid messages of both eras that mutations start from. */
export function seeds(): Record<string, unknown>[] {
  const init = { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'fuzz', version: '1' } };
  return [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: init },
    { jsonrpc: '2.0', id: 2, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: 'x' } },
    { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } },
    { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: { progressToken: 7 } } },
    { jsonrpc: '2.0', id: 6, method: 'resources/read', params: { uri: 'test://items/alpha' } },
    { jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'test://fail' } },
    { jsonrpc: '2.0', id: 8, method: 'prompts/get', params: { name: 'greet', arguments: { who: 'x' } } },
    { jsonrpc: '2.0', id: 9, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'w' } } },
    { jsonrpc: '2.0', id: 10, method: 'logging/setLevel', params: { level: 'debug' } },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4, reason: 'r' } },
    { jsonrpc: '2.0', id: 11, result: { content: [] } },
    { jsonrpc: '2.0', id: 12, error: { code: -1, message: 'm' } },
    { jsonrpc: '2.0', id: 13, method: 'server/discover', params: { _meta: META26 } },
    { jsonrpc: '2.0', id: 14, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: META26 } },
    { jsonrpc: '2.0', id: 15, method: 'resources/read', params: { uri: 'test://static', _meta: { ...META26, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } } },
    { jsonrpc: '2.0', id: 16, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: META26 } },
    { jsonrpc: '2.0', id: 17, method: 'resources/subscribe', params: { uri: 'test://static' } },
    { jsonrpc: '2.0', id: 18, method: 'tasks/get', params: { taskId: 'nope' } },
  ];
}

const SCALARS: unknown[] = [null, 0, -1, 1.5, 2 ** 53 + 1, 1e308, '', 'x', '\u0000', '\ud800', true, false, [], {}, [null], { _meta: null }];
const DEEP = '\u0000DEEP\u0000';

function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, del = false): unknown {
  if (path.length === 0) return value;
  if (root === null || typeof root !== 'object') return root;
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    o = o[k] as Record<string | number, unknown>;
    // An earlier mutation replaced this subtree: nothing to set.
    if (o === null || typeof o !== 'object') return root;
  }
  if (del) delete o[path[path.length - 1]!];
  else o[path[path.length - 1]!] = value;
  return root;
}

function deepText(r: Rand): string {
  const d = pick(r, [63, 64, 65, 100, 1000, 100_000]);
  return r() < 0.5 ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
}

/** Mutation kinds, for the summary. */
export const KINDS = ['type', 'meta', 'delete', 'deep', 'huge', 'badutf8', 'truncate', 'id', 'flip', 'batch', 'garbage', 'valid'] as const;
export type Kind = (typeof KINDS)[number];

/** One mutated message: its bytes and what was done to it. */
export interface Mutant {
  kind: Kind;
  body: Buffer;
}

/** A mutated MCP message (as bytes: some mutations are not valid UTF-8). */
export function mutate(r: Rand): Mutant {
  const base = structuredClone(pick(r, seeds()));
  const kind = pick(r, KINDS);
  let value: unknown = base;
  const ps = paths(base);
  switch (kind) {
    case 'type':
      for (let i = 0, n = 1 + int(r, 3); i < n; i++) value = setAt(value, pick(r, ps), structuredClone(pick(r, SCALARS)));
      break;
    case 'meta': {
      const params = ((base as Record<string, unknown>).params ??= {}) as Record<string, unknown>;
      if (params && typeof params === 'object') params._meta = pick(r, [null, 1, 'x', true, [], { traceparent: null }, { traceparent: 5 }, { progressToken: {} }, { 'io.modelcontextprotocol/protocolVersion': null }]);
      break;
    }
    case 'delete':
      if (ps.length > 1) value = setAt(base, pick(r, ps.slice(1)), undefined, true);
      break;
    case 'deep':
      value = setAt(base, pick(r, ps), DEEP);
      break;
    case 'huge':
      value = setAt(base, pick(r, ps), pick(r, ['x', 'é', '😀', '"', '\\']).repeat(pick(r, [1000, 70_000, 300_000])));
      break;
    case 'id':
      (base as Record<string, unknown>).id = pick(r, [null, 1.5, -0, {}, [], 'a'.repeat(10_000), 2 ** 64, true, 'sentinel-0']);
      break;
    case 'batch':
      value = [base, base];
      break;
    default:
      break;
  }
  let text = value === undefined ? '' : JSON.stringify(value);
  if (kind === 'deep') text = text.replace(JSON.stringify(DEEP), deepText(r));
  if (kind === 'garbage') text = pick(r, ['', ' ', '{', '}', 'null', '[]', '"x"', '1', '{"jsonrpc":"2.0"}', '\u0000', '{"a":1}{"b":2}', 'ÿ']);
  if (kind === 'truncate' && text.length > 1) text = text.slice(0, int(r, text.length));
  let body = Buffer.from(text, 'utf8');
  if (kind === 'badutf8' || kind === 'flip') {
    body = Buffer.from(body);
    for (let i = 0, n = 1 + int(r, 4); i < n && body.length; i++) {
      const at = int(r, body.length);
      body[at] = kind === 'badutf8' ? pick(r, [0xff, 0xc3, 0xe2, 0xf0, 0x80, 0xed]) : int(r, 256);
    }
  }
  return { kind, body };
}

/** Header sets for Streamable HTTP: mostly valid, often wrong. `sid` is a live session id. */
export function httpHeaders(r: Rand, sid: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const n = int(r, 4);
  for (let i = 0; i < n; i++) {
    switch (int(r, 10)) {
      case 0: h['content-type'] = pick(r, ['text/plain', '', 'application/json; charset=latin1', 'application/jsonx']); break;
      case 1: h.accept = pick(r, ['', 'application/json', 'text/event-stream', '*/*', 'text/*']); break;
      case 2: h['mcp-session-id'] = pick(r, [sid, sid, 'nope', '', 'x'.repeat(5000)]); break;
      case 3: h['mcp-protocol-version'] = pick(r, ['2025-11-25', '2025-06-18', V26, '1999-01-01', '', 'x']); break;
      case 4: h['mcp-method'] = pick(r, ['tools/call', 'ping', '', 'x']); break;
      case 5: h['mcp-name'] = pick(r, ['echo', '', '=?base64?!!?=']); break;
      case 6: h['mcp-param-text'] = pick(r, ['=?base64?aGk=?=', '=?base64?***?=', 'hi']); break;
      case 7: h.origin = pick(r, ['http://evil.example', 'null', 'http://localhost:1', '::::', 'http://[']); break;
      case 8: h['last-event-id'] = pick(r, [`${sid}-standalone.1`, 'x', '.', `${sid}.`]); break;
      default: h.traceparent = pick(r, ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'garbage', '']); break;
    }
  }
  if (sid && !('mcp-session-id' in h) && r() < 0.6) h['mcp-session-id'] = sid;
  return h;
}

/** HTTP methods for the MCP endpoint. */
export function httpMethod(r: Rand): string {
  return r() < 0.85 ? 'POST' : pick(r, ['GET', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'PATCH']);
}

const OPS_PATHS = ['/metrics', '/health', '/health/live', '/health/ready', '/admin/components', '/admin/components/tool:echo', '/admin/components/tool:echo/halt', '/admin/alerts', '/admin/alerts/test', '/admin/drain', '/admin/node', '/', '/dashboard', '/dashboard/login', '/dashboard/logout', '/dashboard/assets/app.js', '/dashboard/api/state', '/dashboard/api/events', '/dashboard/api/components/tool:echo/halt', '/dashboard/api/drain'];

/** A request target for the ops listener: known routes, broken encodings, authority look-alikes. */
export function opsTarget(r: Rand): string {
  const base = pick(r, OPS_PATHS);
  switch (int(r, 8)) {
    case 0: return `${base}/${pick(r, ['%E0%A4%A', '%', '%zz', '%C0%AF', '%00', '%FF'])}`;
    case 1: return pick(r, ['//x:99999/', '//[', '//[::1', '///', '//', '//a@b:c/', '/..', '/./.', '/%2e%2e/']);
    case 2: return `${base}?${pick(r, ['limit=', 'limit=-1', 'limit=1e9', 'limit=%E0', '%%%', 'a=b&&&c'])}`;
    case 3: return `/admin/components/${pick(r, ['%E0%A4%A', 'x'.repeat(8000), 'tool%3Aecho', '😀'.repeat(3)])}/halt`;
    case 4: return base.replace(/\//g, pick(r, ['//', '/./', '\\']));
    default: return base;
  }
}

/** HTTP methods for the ops listener. */
export function opsMethod(r: Rand): string {
  return pick(r, ['GET', 'GET', 'GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']);
}

/** True when a response body looks like it carries a stack trace. */
export function hasStack(text: string): boolean {
  return /\n\s+at [^\n]+:\d+:\d+/.test(text) || text.includes('node:internal') || /\bat (?:async )?[\w$.<>]+ \((?:file|\/)/.test(text);
}
