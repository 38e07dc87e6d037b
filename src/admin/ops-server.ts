/**
 * The ops listener: a separate node:http server (default 127.0.0.1:9464, `OPS_PORT` overrides)
 * for the admin API, metrics and health. Kept apart from the MCP listener so that operators can
 * reach a node that is draining, halted or overloaded on its MCP port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { WireErrors } from '../errors/wire.js';
import { OpsErrors, opsErrorFor } from '../errors/ops.js';

/** A route handler. Throw an {@link OpsError} for a clear 4xx. */
export type OpsHandler = (req: IncomingMessage, res: ServerResponse, ctx: OpsRequest) => void | Promise<void>;

export interface OpsRequest {
  url: URL;
  /** Route parameters, e.g. `{ id }` for `/admin/components/:id/halt`. */
  params: Record<string, string>;
  /** Reads and parses a JSON body (limit 64 KiB); `{}` when empty. */
  json(): Promise<Record<string, unknown>>;
}

export interface RouteOptions {
  /** Require the admin bearer token. Default true. */
  auth?: boolean;
}

/**
 * An error with an HTTP status and a message for the operator. Give the catalogue entry
 * (`new OpsError(OpsErrors.NotFound, msg)`) or, as before, a status (`new OpsError(404, msg)`),
 * which picks the entry of that status. The answer is `{ error: message, code }`.
 */
export class OpsError extends AndonError {
  /** HTTP status of the answer. */
  readonly status: number;
  constructor(defOrStatus: ErrorDef | number, message?: string) {
    const def = typeof defOrStatus === 'number' ? opsErrorFor(defOrStatus) : defOrStatus;
    super(def, message);
    this.name = 'OpsError';
    this.status = typeof defOrStatus === 'number' ? defOrStatus : (def.httpStatus ?? 500);
  }
}

/** The JSON body of an error answer. */
function errorBody(def: ErrorDef, message = def.message): { error: string; code: string } {
  return { error: message, code: def.code };
}

interface Route {
  method: string;
  parts: string[];
  handler: OpsHandler;
  auth: boolean;
}

export interface OpsServerOptions {
  /** Bearer token for routes that need it. */
  token: string;
  /** Default 9464 (or OPS_PORT). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** The ops HTTP server with a small route table. */
export class OpsServer {
  private readonly routes: Route[] = [];
  private server: Server | undefined;
  private readonly token: Buffer;
  private readonly closers: Array<() => void> = [];
  url = '';

  constructor(private readonly options: OpsServerOptions) {
    this.token = Buffer.from(options.token);
  }

  /** Adds a route; `:name` segments become params. */
  route(method: string, path: string, handler: OpsHandler, opts: RouteOptions = {}): this {
    this.routes.push({ method, parts: path.split('/').filter(Boolean), handler, auth: opts.auth ?? true });
    return this;
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (!h || !h.startsWith('Bearer ')) return false;
    const given = Buffer.from(h.slice(7).trim());
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  /**
   * The request listener. Nothing a client sends may throw out of it (an exception in a 'request'
   * listener ends the process): a target that does not parse or decode is a 400, anything else
   * unexpected a 500.
   */
  private handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.dispatch(req, res);
    } catch (err) {
      if (err instanceof OpsError) safeSendJson(res, err.status, { error: err.message, code: err.code });
      else safeSendJson(res, 500, errorBody(OpsErrors.Internal));
    }
  };

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = parseTarget(req.url ?? '/');
    const parts = url.pathname.split('/').filter(Boolean);
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const want = r.parts[i]!;
        if (want.startsWith(':')) params[want.slice(1)] = decodeSegment(parts[i]!);
        else if (want !== parts[i]) ok = false;
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      if (r.auth && !this.authorized(req)) {
        sendJson(res, 401, errorBody(OpsErrors.Unauthorized), { 'www-authenticate': 'Bearer' });
        return;
      }
      const ctx: OpsRequest = { url, params, json: () => readJson(req, res) };
      Promise.resolve()
        .then(() => r.handler(req, res, ctx))
        .catch((err: unknown) => {
          if (err instanceof OpsError) safeSendJson(res, err.status, { error: err.message, code: err.code });
          else safeSendJson(res, 500, errorBody(OpsErrors.Internal));
        });
      return;
    }
    if (pathMatched) sendJson(res, 405, errorBody(OpsErrors.MethodNotAllowed, `method ${req.method} not allowed on ${url.pathname}`));
    else sendJson(res, 404, errorBody(OpsErrors.NotFound, `not found: ${url.pathname}`));
  }

  /** Starts listening; resolves with the base URL. */
  async listen(): Promise<string> {
    const server = createServer(this.handle);
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? Number(process.env.OPS_PORT ?? 9464), host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.url;
  }

  /** Runs `fn` when the listener closes (mounted parts release their subscriptions and timers). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.splice(0)) fn();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

/**
 * Parses a request target into a URL without ever treating it as an authority: `new URL(target,
 * base)` reads `//x:99999/` as host `x`, port 99999 and throws, as it does for `//[`. The path is
 * set on a fixed base instead, so it stays a path (dot segments are still resolved).
 */
function parseTarget(raw: string): URL {
  const q = raw.indexOf('?');
  try {
    const url = new URL('http://ops.local/');
    url.pathname = q === -1 ? raw : raw.slice(0, q);
    if (q !== -1) url.search = raw.slice(q);
    return url;
  } catch {
    throw badUrl(`bad request target ${JSON.stringify(raw.slice(0, 200))}`);
  }
}

/** `decodeURIComponent` that answers 400 for malformed percent-encoding (`%E0%A4%A`). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badUrl(`bad percent-encoding in path segment ${JSON.stringify(segment.slice(0, 200))}`);
  }
}

function badUrl(message: string): OpsError {
  const e = new AndonError(WireErrors.BadUrl, message);
  return new OpsError(e.httpStatus ?? 400, e.message);
}

/** {@link sendJson} for error paths: when the handler already started its answer, cut the connection. */
function safeSendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body);
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readJson(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > 64 * 1024) {
        // Stop reading and close after the answer, but let the 413 reach the client first
        // (destroying the request here cut the connection with no answer at all).
        over = true;
        chunks.length = 0;
        req.pause();
        res.setHeader('connection', 'close');
        reject(new OpsError(OpsErrors.BodyTooLarge));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(new OpsError(OpsErrors.BadRequest, 'body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (err) {
        reject(new OpsError(OpsErrors.BadRequest, `invalid JSON body: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}
