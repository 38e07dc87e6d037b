/**
 * Bearer tokens on the transports next to Streamable HTTP (WebSocket, legacy HTTP+SSE): the part
 * of the OAuth resource server they use ({@link BearerAuth}) and how a refused token is answered
 * over HTTP — the status of the refusal (401, 503) with its `WWW-Authenticate` challenge and
 * `Retry-After`, and a JSON-RPC error body (`id: null`), as the MCP listener's guard answers.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AndonError, Errors } from '../errors/catalogue.js';
import { errorResponse } from '../protocol/jsonrpc.js';
import type { AuthInfo } from '../auth/verifier.js';

/** What the transports need of the resource server (src/auth/resource-server.ts). */
export interface BearerAuth {
  /** Validates the request's token; the stage then finds it by `req.headers`. Rejects with an AndonError (401, 503). */
  authenticate(req: IncomingMessage): Promise<AuthInfo>;
  /** Validates the token of a connection's opening request; `headers` go on every message of the connection. */
  authenticateConnection(req: IncomingMessage): Promise<{ info: AuthInfo; headers: IncomingHttpHeaders }>;
}

/** The refusal of a token as an HTTP status, headers and body. */
export function bearerRefusal(err: unknown): { status: number; headers: Record<string, string>; body: string } {
  const e = err instanceof AndonError ? err : new AndonError(Errors.Unauthenticated, 'Unauthorized: the token could not be validated');
  const body = JSON.stringify(errorResponse(null, e.toMcpError()));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  if (typeof e.data.wwwAuthenticate === 'string') headers['www-authenticate'] = e.data.wwwAuthenticate;
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  return { status: e.httpStatus ?? 401, headers, body };
}

/** Answers a refused token on a plain HTTP response. */
export function refuseBearer(res: ServerResponse, err: unknown, extra: Record<string, string> = {}): void {
  const r = bearerRefusal(err);
  res.writeHead(r.status, { ...r.headers, ...extra }).end(r.body);
}

/** Answers a refused token on a socket that asked to upgrade (nothing was written on it yet), then closes it. */
export function refuseBearerUpgrade(socket: Duplex, err: unknown): void {
  const r = bearerRefusal(err);
  const head = Object.entries({ ...r.headers, connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\n${head}\r\n${r.body}`);
}
