/**
 * Header rules of Streamable HTTP that are pure functions of the request: the Accept checks of
 * POST and GET, and the 2026 binding's mirrored headers (Mcp-Method, Mcp-Name, Mcp-Param-*),
 * which must agree with the body so intermediaries can route on headers alone.
 */
import type { IncomingMessage } from 'node:http';
import type { JsonRpcMessage, JsonRpcRequest } from '../protocol/jsonrpc.js';
import { META, SESSION_VERSIONS, isStatelessVersion, type Era } from '../protocol/versions.js';
import type { McpServer } from '../server/server.js';

/**
 * 2026 `x-mcp-header`: a tool may mirror arguments into `Mcp-Param-<Name>` headers; when it does,
 * the header must be present and equal to the argument (values may be wrapped as =?base64?…?=).
 */
export function paramHeaderMismatch(req: IncomingMessage, request: JsonRpcRequest, server: McpServer): string | null {
  if (request.method !== 'tools/call') return null;
  const params = server.toolHeaderParams(request.params?.name as string);
  if (!params) return null;
  const args = (request.params?.arguments ?? {}) as Record<string, unknown>;
  for (const [arg, suffix] of params) {
    const value = args[arg];
    if (value === undefined || value === null) continue;
    const raw = req.headers[`mcp-param-${suffix.toLowerCase()}`];
    if (typeof raw !== 'string') return `Header mismatch: Mcp-Param-${suffix} header is required (mirrors arguments.${arg})`;
    let decoded = raw;
    const m = /^=\?base64\?(.*)\?=$/.exec(raw);
    if (m) {
      const b64 = m[1]!;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return `Header mismatch: Mcp-Param-${suffix} has invalid base64`;
      decoded = Buffer.from(b64, 'base64').toString('utf8');
    }
    if (decoded !== String(value)) return `Header mismatch: Mcp-Param-${suffix} header does not match arguments.${arg}`;
  }
  return null;
}

export function acceptsJson(accept: string): boolean {
  return accept.includes('application/json') || accept.includes('*/*') || accept.includes('application/*');
}

export function acceptsSse(accept: string): boolean {
  return accept.includes('text/event-stream') || accept.includes('*/*') || accept.includes('text/*');
}

/**
 * A body value for an error message. Not String(): params come from the client, and an object
 * whose toString is not callable ({"toString":1}) throws there (found by the wire fuzzer: an
 * unexpected 500 "Internal error" instead of the header-mismatch refusal).
 */
function shown(v: unknown): string {
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** 2026: Mcp-Method on every POST; Mcp-Name on tools/call, resources/read, prompts/get. */
export function headerMismatch(req: IncomingMessage, request: JsonRpcRequest): string | null {
  const method = req.headers['mcp-method'];
  if (method === undefined) return `Header mismatch: Mcp-Method header is required (expected "${request.method}")`;
  if (method !== request.method) return `Header mismatch: Mcp-Method header "${String(method)}" does not match body method "${request.method}"`;
  const m = request.method;
  const key = m === 'resources/read' ? 'uri' : m === 'tools/call' || m === 'prompts/get' ? 'name' : m === 'tasks/get' || m === 'tasks/update' || m === 'tasks/cancel' ? 'taskId' : null;
  if (key) {
    const expected = request.params?.[key];
    const name = req.headers['mcp-name'];
    if (name === undefined) return `Header mismatch: Mcp-Name header is required for ${request.method} (expected "${shown(expected)}")`;
    if (name !== expected) return `Header mismatch: Mcp-Name header "${shown(name)}" does not match params.${key} "${shown(expected)}"`;
  }
  return null;
}

/**
 * The header decides when present: a session-era version means 2025, anything else (2026-07-28
 * or an unknown version, which then gets -32022) means stateless. Without the header, a request
 * carrying the 2026 `_meta` version key, or server/discover, is stateless.
 */
export function eraOf(req: IncomingMessage, msg: JsonRpcMessage): Era {
  const pv = req.headers['mcp-protocol-version'];
  if (typeof pv === 'string') {
    if (SESSION_VERSIONS.includes(pv) || pv === '2024-11-05') return '2025';
    // An unknown version on a request that names a session is a 2025 client: it gets the 2025 400.
    return isStatelessVersion(pv) || req.headers['mcp-session-id'] === undefined ? '2026' : '2025';
  }
  if ('method' in msg) {
    if (msg.method === 'server/discover') return '2026';
    const meta = msg.params?._meta as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object' && META.protocolVersion in meta) return '2026';
  }
  return '2025';
}
