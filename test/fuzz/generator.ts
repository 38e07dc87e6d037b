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
    { jsonrpc: '2.0', id: 19, method: 'prompts/get', params: { name: 'greet', arguments: { who: 'y' }, _meta: META26 } },
    { jsonrpc: '2.0', id: 20, method: 'tasks/get', params: { taskId: 'nope', _meta: META26 } },
    { jsonrpc: '2.0', id: 21, method: 'tools/list', params: { _meta: { ...META26, 'io.modelcontextprotocol/logLevel': 'debug', 'io.modelcontextprotocol/clientInfo': { name: 'f', version: '1' } } } },
    { jsonrpc: '2.0', id: 23, method: 'tools/call', params: { name: 'unserialisable', arguments: {} } },
    { jsonrpc: '2.0', id: 24, method: 'prompts/get', params: { name: 'bad_prompt', arguments: { x: '1' } } },
    { jsonrpc: '2.0', id: 25, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'bad_prompt' }, argument: { name: 'x', value: '' } } },
  ];
}

const SCALARS: unknown[] = [null, 0, -1, 1.5, 2 ** 53 + 1, 1e308, '', 'x', '\u0000', '\ud800', true, false, [], {}, [null], { _meta: null }];
const DEEP = '\u0000DEEP\u0000';
/** Placeholder for raw JSON text no JSON.stringify can produce (huge numbers, escapes, duplicate keys). */
const RAW = '\u0000RAW\u0000';

/** Numbers at and past the edges of IEEE 754 and of what JSON allows. */
const NUMBERS = ['1e400', '-1e400', '1E+9999', '-0', '0.0', '1e-400', '123456789012345678901234567890', '9007199254740993', '-9007199254740993', '0.1e1', '1.7976931348623157e308', '5e-324', '1' + '0'.repeat(400), '0.' + '0'.repeat(400) + '1', 'NaN', 'Infinity', '-Infinity', '0x10', '01', '.5', '1.', '+1', '1e', '--1'];
/** Strings with escapes and code points that trip careless code: lone surrogates, NUL, BOM, bidi, line separators. */
const UNICODE = ['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"a\\u0000b"', '"\\u2028\\u2029"', '"\\ufeff"', '"\\u202e"', '"\\uffff\\ufffe"', '"\u00e9\u0301"', '"\ud83d\ude00\u200d\ud83d\udc69"', '"\\/\\b\\f\\n\\r\\t"', '"\\x41"', '"\\u12"', '"\\"', '"\t"', '"\u0001\u001f"'];
/** Objects whose keys collide with Object.prototype or repeat. */
const OBJECTS = ['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"toString":1,"valueOf":"x","hasOwnProperty":null}', '{"a":1,"a":2}', '{"":1}', '{"\\u0000":1}', '{"__proto__":null}', '[' + '1,'.repeat(9999) + '1]', '{' + Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(',') + '}'];
/** Method names that are near misses or Object.prototype members. */
export const METHODS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'TOOLS/CALL', 'tools/call ', ' tools/call', 'tools/call\u0000', 'tools//call', 'tools/', '/', '', 'rpc.discover', 'notifications/cancelled', 'notifications/initialized', 'initialize', 'server/discover', 'subscriptions/listen', 'tasks/cancel', 'sampling/createMessage', 'x'.repeat(10_000)];

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

/** Nesting around the depth cap (64) and far past it, arrays or objects: built once, picked per mutant. */
const DEEP_TEXTS = [63, 64, 65, 100, 1000, 100_000].map((d) => [Buffer.from(`${'['.repeat(d)}${']'.repeat(d)}`), Buffer.from(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`)]);

function deepText(r: Rand): Buffer {
  const pair = pick(r, DEEP_TEXTS);
  return r() < 0.5 ? pair[0]! : pair[1]!;
}

/** Long strings (1-, 2-, 4-byte characters, characters JSON escapes), as JSON text: built once. */
const HUGE_TEXTS = ['x', 'é', '😀', '"', '\\'].map((c) => [1000, 70_000, 300_000].map((n) => Buffer.from(JSON.stringify(c.repeat(n)))));

/** Mutation kinds, for the summary. */
export const KINDS = ['type', 'meta', 'delete', 'deep', 'huge', 'badutf8', 'truncate', 'id', 'flip', 'batch', 'garbage', 'valid', 'number', 'unicode', 'object', 'dupkey', 'method', 'era', 'pad'] as const;
export type Kind = (typeof KINDS)[number];

/** One mutated message: its bytes and what was done to it. */
export interface Mutant {
  kind: Kind;
  body: Buffer;
  /** The method and name (or uri, taskId) of the message it started from, for mirrored 2026 headers. */
  method?: string;
  name?: string;
}

/** A mutated MCP message (as bytes: some mutations are not valid UTF-8). */
export function mutate(r: Rand): Mutant {
  const base = structuredClone(pick(r, SEEDS));
  const kind = pick(r, KINDS);
  const params0 = base.params as Record<string, unknown> | undefined;
  const method = typeof base.method === 'string' ? base.method : undefined;
  const name0 = params0?.name ?? params0?.uri ?? params0?.taskId;
  const name = typeof name0 === 'string' ? name0 : undefined;
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
      value = setAt(base, pick(r, ps), RAW);
      break;
    case 'id':
      (base as Record<string, unknown>).id = pick(r, [null, 1.5, -0, {}, [], 'a'.repeat(10_000), 2 ** 64, true, 'sentinel-0']);
      break;
    case 'batch':
      value = pick(r, [[base, base], [], [base], [base, 1, null, 'x'], Array.from({ length: 200 }, () => base)]);
      break;
    case 'number':
    case 'unicode':
    case 'object':
      value = setAt(base, pick(r, ps), RAW);
      break;
    case 'method':
      (base as Record<string, unknown>).method = pick(r, METHODS);
      if (r() < 0.3) (base as Record<string, unknown>).id ??= 99;
      break;
    case 'era': {
      // A message of one revision carrying the other's markers, or half of them.
      const b = base as Record<string, unknown>;
      const params = (b.params ??= {}) as Record<string, unknown>;
      if (params && typeof params === 'object') {
        const meta = (params._meta = { ...((params._meta as object) ?? {}) }) as Record<string, unknown>;
        switch (int(r, 6)) {
          case 0: meta['io.modelcontextprotocol/protocolVersion'] = pick(r, ['2025-11-25', '2026-07-28', '2099-01-01', '', 7, null]); break;
          case 1: delete meta['io.modelcontextprotocol/clientCapabilities']; meta['io.modelcontextprotocol/protocolVersion'] = V26; break;
          case 2: meta['io.modelcontextprotocol/clientCapabilities'] = pick(r, [null, 1, [], { elicitation: null }, { sampling: 'x' }]); meta['io.modelcontextprotocol/protocolVersion'] = V26; break;
          case 3: b.method = pick(r, ['initialize', 'notifications/initialized', 'logging/setLevel', 'resources/subscribe']); meta['io.modelcontextprotocol/protocolVersion'] = V26; break;
          case 4: meta['io.modelcontextprotocol/logLevel'] = pick(r, ['debug', 'nope', 5, null]); meta['io.modelcontextprotocol/protocolVersion'] = V26; break;
          default: meta['io.modelcontextprotocol/subscriptionId'] = pick(r, ['x', 5, null, {}]); meta['io.modelcontextprotocol/related-task'] = pick(r, [{ taskId: 'nope' }, 'x', null]); break;
        }
      }
      break;
    }
    default:
      break;
  }
  let text = value === undefined ? '' : JSON.stringify(value);
  // (A function replacement: the raw text is inserted as it is, no `$&` patterns.)
  if (kind === 'number' || kind === 'unicode' || kind === 'object') {
    const raw = pick(r, kind === 'number' ? NUMBERS : kind === 'unicode' ? UNICODE : OBJECTS);
    text = text.replace(JSON.stringify(RAW), () => raw);
  }
  if (kind === 'huge' || kind === 'deep') {
    // Spliced in as bytes: encoding a megabyte string per mutant would cost more than sending it.
    const mark = JSON.stringify(kind === 'huge' ? RAW : DEEP);
    const at = text.indexOf(mark);
    const big = kind === 'huge' ? pick(r, pick(r, HUGE_TEXTS)) : deepText(r);
    if (at !== -1) return { kind, body: Buffer.concat([Buffer.from(text.slice(0, at)), big, Buffer.from(text.slice(at + mark.length))]), ...(method ? { method } : {}), ...(name ? { name } : {}) };
  }
  if (kind === 'dupkey' && text.startsWith('{') && text.length > 2) {
    // JSON.parse keeps the last of duplicate keys: a duplicate before the real key loses, after it wins.
    const dup = pick(r, ['"jsonrpc":"1.0"', '"id":"dup"', '"id":null', '"method":"tools/call"', '"method":"initialize"', '"params":null', '"params":{"name":"echo","arguments":{"text":"dup"}}', '"result":{}', '"error":{"code":1,"message":"m"}', '"__proto__":{"id":1}']);
    text = r() < 0.5 ? `{${dup},${text.slice(1)}` : `${text.slice(0, -1)},${dup}}`;
  }
  if (kind === 'pad') text = `${pick(r, ['\ufeff', ' ', '\t', '\r', '\u00a0', '\u2028', ''])}${text}${pick(r, ['', ' ', '\r', '\t\t', 'x', ',', '}', '\u0000', '\r\r'])}`;
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
  return { kind, body, ...(method ? { method } : {}), ...(name ? { name } : {}) };
}
const SEEDS = seeds();

/**
 * Header sets for Streamable HTTP: mostly valid, often wrong. `sid` is a live session id. Two
 * styles: a 2025 client (session id, 2025 version) or a 2026 stateless one (no session, the
 * 2026 version and the Mcp-Method / Mcp-Name mirrors of the body, sometimes wrong). An array value
 * is sent as repeated header lines.
 */
export function httpHeaders(r: Rand, sid: string, m?: Pick<Mutant, 'method' | 'name'>): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const stateless = r() < 0.35;
  if (stateless) {
    h['mcp-protocol-version'] = V26;
    if (m?.method) h['mcp-method'] = m.method;
    if (m?.name) h['mcp-name'] = m.name;
  }
  const n = int(r, 4);
  for (let i = 0; i < n; i++) {
    switch (int(r, 14)) {
      case 0: h['content-type'] = pick(r, ['text/plain', '', 'application/json; charset=latin1', 'application/jsonx', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;;;', 'multipart/form-data; boundary=x', ['application/json', 'text/plain']]); break;
      case 1: h.accept = pick(r, ['', 'application/json', 'text/event-stream', '*/*', 'text/*', 'application/json;q=0, text/event-stream;q=0', 'application/*', ',,,', ['application/json', 'text/event-stream']]); break;
      case 2: h['mcp-session-id'] = pick(r, [sid, sid, 'nope', '', 'x'.repeat(5000), [sid, sid], [sid, 'other'], `${sid} `, sid.toUpperCase(), '\u00e9']); break;
      case 3: h['mcp-protocol-version'] = pick(r, ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', V26, '2026-07-29', '1999-01-01', '', 'x', [V26, '2025-11-25'], `${V26},${V26}`]); break;
      case 4: h['mcp-method'] = pick(r, ['tools/call', 'ping', '', 'x', 'TOOLS/CALL', ['tools/call', 'ping'], m?.method ?? 'ping']); break;
      case 5: h['mcp-name'] = pick(r, ['echo', '', '=?base64?!!?=', '=?base64?ZWNobw==?=', ['echo', 'add'], `${m?.name ?? 'echo'} `]); break;
      case 6: h['mcp-param-text'] = pick(r, ['=?base64?aGk=?=', '=?base64?***?=', 'hi', '=?base64??=', '=?base64?' + 'A'.repeat(10_000) + '?=']); break;
      case 7: h.origin = pick(r, ['http://evil.example', 'null', 'http://localhost:1', '::::', 'http://[', 'http://127.0.0.1', 'file://', ['http://127.0.0.1', 'http://evil.example']]); break;
      case 8: h['last-event-id'] = pick(r, [`${sid}-standalone.1`, 'x', '.', `${sid}.`, `${sid}.-1`, `${sid}.1e400`, `${sid}.99999999999999999999`, '', 'nope.1']); break;
      case 9: h.host = pick(r, ['evil.example', 'evil.example:80', '127.0.0.1:1', 'localhost', '[::1', '[::1]:99999', 'x'.repeat(3000), '']); break;
      case 10: delete h['mcp-method']; delete h['mcp-name']; break;
      case 11: h['content-encoding'] = pick(r, ['gzip', 'br', 'identity', 'x']); break;
      case 12: h['transfer-encoding'] = 'chunked'; break;
      default: h.traceparent = pick(r, ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'garbage', '', 'ff-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01']); break;
    }
  }
  if (!stateless && sid && !('mcp-session-id' in h) && r() < 0.6) h['mcp-session-id'] = sid;
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

/** How a WebSocket mutant is framed: mostly one text frame; sometimes binary, fragmented, or with control frames between fragments. */
export type WsFraming = 'text' | 'binary' | 'fragmented' | 'pinged';

export function wsFraming(r: Rand): WsFraming {
  const x = r();
  return x < 0.7 ? 'text' : x < 0.8 ? 'binary' : x < 0.92 ? 'fragmented' : 'pinged';
}

/**
 * A line-transport mutant as the writes that carry it: the mutant (newlines as spaces), ended by
 * `\n` or `\r\n`, sometimes split into pieces at arbitrary byte offsets (also inside a multi-byte
 * character), so the server's framing sees partial lines.
 */
export function lineWrites(r: Rand, mutant: Buffer): Buffer[] {
  const body = Buffer.from(mutant);
  for (let j = 0; j < body.length; j++) if (body[j] === 0x0a) body[j] = 0x20;
  const line = Buffer.concat([body, Buffer.from(r() < 0.15 ? '\r\n' : '\n')]);
  if (r() < 0.75 || line.length < 2) return [line];
  const cuts = Array.from({ length: 1 + int(r, 3) }, () => 1 + int(r, line.length - 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (c > at) out.push(line.subarray(at, c));
    at = c;
  }
  out.push(line.subarray(at));
  return out;
}
