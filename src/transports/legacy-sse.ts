/**
 * The legacy HTTP+SSE server transport (protocol 2024-11-05), so older clients connect: `GET /sse`
 * opens an event stream whose first event, `endpoint`, names `/messages?sessionId=<id>`; each
 * `POST /messages?sessionId=<id>` carries one JSON-RPC message, is answered 202, and whatever the
 * server sends back (responses included) goes on that stream. Every stream is its own peer (a
 * {@link MessageConnection}, as on stdio and WebSocket); closing the stream ends it.
 *
 * Mounted on the MCP listener by default (its request listener is wrapped: these two paths come
 * here, everything else goes where it went before) or on its own port ({@link serveLegacySse}).
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { HttpErrors } from '../errors/http.js';
import { TransportErrors } from '../errors/transports.js';
import { decodeMessage, errorResponse, type RequestId } from '../protocol/jsonrpc.js';
import type { McpServer } from '../server/server.js';
import { newSessionId } from '../server/session.js';
import type { Timer } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { hostOriginRefusal, LOCAL_HOSTS } from './http-origin.js';
import { MessageConnection } from './message-connection.js';
import { SSE_HEADERS } from './sse.js';
import { listenOn } from './websocket.js';
import { refuseBearer, type BearerAuth } from './bearer.js';
import { AuthErrors } from '../errors/auth.js';

/** Options of the legacy HTTP+SSE transport. */
export interface LegacySseServerOptions {
  /** Path of the event stream. Default `/sse`. */
  ssePath?: string;
  /** Path messages are POSTed to. Default `/messages`. */
  messagesPath?: string;
  /** Largest accepted POST body, bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Open streams at most; a further GET gets 503. Default 1000. */
  maxConnections?: number;
  /** Bytes queued unread on one stream before its connection is closed. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Keep-alive comment interval on every stream, ms. Default 15,000; 0: none. */
  keepAliveMs?: number;
  /** Accepted `Origin`s (browsers). Default localhost origins only; `'*'` allows all. */
  allowedOrigins?: string[] | '*';
  /** Accepted `Host` hostnames. Default localhost, 127.0.0.1, [::1]; `'*'` allows all. */
  allowedHosts?: string[] | '*';
  /**
   * OAuth (docs/security.md): the GET and every POST must carry a valid bearer token (else 401
   * with `WWW-Authenticate`); a stream belongs to the subject that opened it, and a POST to it
   * under another subject is refused like an unknown session (ANDON_SESSION_SUBJECT_MISMATCH, 404).
   */
  auth?: BearerAuth;
  /** `Strict-Transport-Security` on every response (served over HTTPS: the TLS context's `hsts`). */
  hsts?: string;
  logger?: Logger;
}

interface Stream {
  res: ServerResponse;
  mc: MessageConnection;
  /** The token subject that opened the stream (with `auth`). */
  subject?: string;
}

function refuse(res: ServerResponse, def: ErrorDef, message: string, id: RequestId | null = null, extra: Record<string, string> = {}): void {
  const status = def.httpStatus ?? 400;
  const body = JSON.stringify(errorResponse(id ?? null, new AndonError(def, message).toMcpError()));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

/** The legacy HTTP+SSE transport of one server. */
export class LegacySseTransport {
  readonly ssePath: string;
  readonly messagesPath: string;
  private readonly streams = new Map<string, Stream>();
  private readonly log: Logger;
  private readonly maxBody: number;
  private readonly maxConnections: number;
  private readonly maxBuffered: number;
  private readonly allowedHosts: string[] | '*';
  private readonly allowedOrigins: string[] | '*';
  private readonly auth: BearerAuth | undefined;
  private readonly hsts: string | undefined;
  private ticker: Timer | undefined;
  private closing = false;

  constructor(
    private readonly server: McpServer,
    opts: LegacySseServerOptions = {},
  ) {
    this.ssePath = opts.ssePath ?? '/sse';
    this.messagesPath = opts.messagesPath ?? '/messages';
    this.log = opts.logger ?? nullLogger;
    this.maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    this.maxConnections = opts.maxConnections ?? 1000;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.allowedHosts = opts.allowedHosts ?? LOCAL_HOSTS;
    this.allowedOrigins = opts.allowedOrigins ?? [];
    this.auth = opts.auth;
    this.hsts = opts.hsts;
    const every = opts.keepAliveMs ?? 15_000;
    if (every > 0) {
      this.ticker = server.clock.setInterval(() => {
        for (const s of this.streams.values()) this.write(s, ': keep-alive\n\n');
      }, every);
      this.ticker.unref?.();
    }
  }

  /** Open streams. */
  get connections(): number {
    return this.streams.size;
  }

  /**
   * Wraps `http`'s request listeners: requests to the stream and messages paths are served here,
   * every other request goes to the listeners it went to before.
   */
  attach(http: HttpServer): void {
    const before = http.listeners('request') as RequestListener[];
    http.removeAllListeners('request');
    http.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.handle(req, res)) return;
      for (const l of before) l.call(http, req, res);
    });
  }

  /** Serves `req` when it is for this transport's paths; false otherwise (nothing was written). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== this.ssePath && path !== this.messagesPath) return false;
    // Merged into whatever writeHead sends below (these paths bypass the MCP listener's front handler).
    if (this.hsts !== undefined) res.setHeader('strict-transport-security', this.hsts);
    const refusal = hostOriginRefusal(req, this.allowedHosts, this.allowedOrigins);
    if (refusal) {
      refuse(res, refusal.def, refusal.message);
      return true;
    }
    let serve: (subject: string | undefined) => void;
    if (path === this.ssePath) {
      if (req.method !== 'GET') {
        refuse(res, HttpErrors.MethodNotAllowed, `Method not allowed: ${this.ssePath} takes GET`, null, { allow: 'GET' });
        return true;
      }
      serve = (subject) => this.open(req, res, subject);
    } else if (req.method !== 'POST') {
      refuse(res, HttpErrors.MethodNotAllowed, `Method not allowed: ${this.messagesPath} takes POST`, null, { allow: 'POST' });
      return true;
    } else serve = (subject) => this.post(req, res, q === -1 ? '' : url.slice(q + 1), subject);
    if (!this.auth) {
      serve(undefined);
      return true;
    }
    this.auth.authenticate(req).then(
      (info) => {
        if (!res.destroyed) serve(info.subject);
      },
      (err: unknown) => {
        // The body was not read: close the connection rather than drain an unbounded upload.
        if (!res.destroyed) refuseBearer(res, err, req.method === 'POST' && !req.complete ? { connection: 'close' } : {});
      },
    );
    return true;
  }

  /** Writes to a stream; a peer that does not read past `maxBufferedBytes` is cut off. */
  private write(s: Stream, text: string): void {
    if (s.res.destroyed) return;
    s.res.write(text);
    if (s.res.writableLength > this.maxBuffered) {
      this.log.warn({ code: TransportErrors.Backpressure.code, transport: 'sse', sessionId: s.mc.session.id, queuedBytes: s.res.writableLength, limit: this.maxBuffered }, 'legacy SSE client is not reading; closing the stream');
      s.res.destroy();
    }
  }

  private open(req: IncomingMessage, res: ServerResponse, subject: string | undefined): void {
    if (this.closing) {
      refuse(res, TransportErrors.TooManyConnections, 'Service Unavailable: the transport is closing', null, { 'retry-after': '5' });
      return;
    }
    if (this.streams.size >= this.maxConnections) {
      refuse(res, TransportErrors.TooManyConnections, `Service Unavailable: too many SSE streams (limit ${this.maxConnections})`, null, { 'retry-after': '5' });
      return;
    }
    const id = newSessionId();
    const stream = { res, ...(subject !== undefined ? { subject } : {}) } as Stream;
    const mc = new MessageConnection(this.server, {
      kind: 'sse',
      sessionId: id,
      remote: req.socket.remoteAddress,
      write: (m) => this.write(stream, `event: message\ndata: ${JSON.stringify(m)}\n\n`),
    });
    stream.mc = mc;
    this.streams.set(id, stream);
    res.writeHead(200, SSE_HEADERS);
    this.write(stream, `event: endpoint\ndata: ${this.messagesPath}?sessionId=${id}\n\n`);
    res.on('error', () => {});
    res.once('close', () => {
      this.streams.delete(id);
      mc.close('SSE stream closed');
    });
  }

  private post(req: IncomingMessage, res: ServerResponse, query: string, subject: string | undefined): void {
    const sessionId = new URLSearchParams(query).get('sessionId');
    if (!sessionId) {
      req.resume();
      refuse(res, TransportErrors.SseSessionRequired, 'Bad Request: sessionId query parameter required');
      return;
    }
    const stream = this.streams.get(sessionId);
    if (!stream) {
      req.resume();
      refuse(res, TransportErrors.SseSessionNotFound, 'Not Found: no open SSE stream has this sessionId; open a new one');
      return;
    }
    if (this.auth && stream.subject !== subject) {
      req.resume();
      refuse(res, AuthErrors.SessionMismatch, 'Session not found: the SSE stream was opened under another subject');
      return;
    }
    const tooLarge = () => refuse(res, TransportErrors.SsePayloadTooLarge, `Payload Too Large: the body exceeds ${this.maxBody} bytes`, null, { connection: 'close' });
    if (Number(req.headers['content-length'] ?? 0) > this.maxBody) {
      tooLarge();
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > this.maxBody) {
        over = true;
        tooLarge();
        res.once('finish', () => req.destroy());
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (over) return;
      const c = decodeMessage(Buffer.concat(chunks).toString('utf8'));
      if (c.kind === 'invalid') {
        // Not JSON: the catalogued parse error; JSON but not a message: its -32600. Both 400.
        const err = c.error.code === -32700 ? new AndonError(TransportErrors.SseParseError, c.error.message).toMcpError() : c.error;
        const body = JSON.stringify(errorResponse(c.id, err));
        res.writeHead(400, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
        return;
      }
      res.writeHead(202, { 'content-type': 'text/plain', 'content-length': '8' });
      res.end('Accepted');
      // With auth, the POST's headers carry its verified token to the auth stage (scopes per message).
      stream.mc.receiveDecoded(c, this.auth ? req.headers : undefined);
    });
  }

  /** Ends every stream (their peers' in-flight requests are aborted) and refuses new ones. */
  close(): Promise<void> {
    this.closing = true;
    if (this.ticker) this.server.clock.clearInterval(this.ticker);
    this.ticker = undefined;
    for (const s of this.streams.values()) s.res.end();
    this.streams.clear();
    return Promise.resolve();
  }
}

/** Options of {@link serveLegacySse}: the transport on its own port. */
export interface ServeLegacySseOptions extends LegacySseServerOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Makes the listening server (e.g. `(h) => https.createServer(tlsOptions, h)`). Default node:http. */
  createServer?: (handler: RequestListener) => HttpServer;
}

/** A legacy SSE transport listening on its own port. */
export interface LegacySseEndpoint {
  /** URL of the event stream. */
  url: string;
  port: number;
  httpServer: HttpServer;
  transport: LegacySseTransport;
  close(): Promise<void>;
}

/** Serves `server` over the legacy HTTP+SSE transport on its own HTTP server (other paths: 404). */
export async function serveLegacySse(server: McpServer, options: ServeLegacySseOptions = {}): Promise<LegacySseEndpoint> {
  const transport = new LegacySseTransport(server, options);
  const handler: RequestListener = (req, res) => {
    if (!transport.handle(req, res)) refuse(res, HttpErrors.NotFound, `Not Found: the legacy SSE transport serves ${transport.ssePath} and ${transport.messagesPath}`);
  };
  const httpServer = (options.createServer ?? ((h) => createHttpServer(h)))(handler);
  const host = options.host ?? '127.0.0.1';
  await listenOn(httpServer, options.port ?? 0, host);
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${transport.ssePath}`,
    port,
    httpServer,
    transport,
    async close() {
      await transport.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}
