/**
 * WebSocket transport: subprotocol `mcp`, one JSON-RPC message per text frame, each connection its
 * own peer (a {@link MessageConnection}, as on stdio). It mounts on an HTTP server's `upgrade`
 * event — the MCP listener's (default, path `/ws`) or its own port ({@link serveWebSocket}).
 *
 * Limits: a frame over `maxPayloadBytes` closes the connection with 1009 (ws enforces it while
 * reading, so the frame is never buffered whole); more than `maxBufferedBytes` queued unsent
 * (the peer is not reading) closes it with 1008; a peer that answers no ping within
 * `pingIntervalMs` is terminated; past `maxConnections` an upgrade is answered 503.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { TransportErrors } from '../errors/transports.js';
import { HttpErrors } from '../errors/http.js';
import { errorResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { McpServer } from '../server/server.js';
import type { Timer } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { hostOriginRefusal, LOCAL_HOSTS } from './http-origin.js';
import { MessageConnection } from './message-connection.js';
import { refuseBearerUpgrade, type BearerAuth } from './bearer.js';

/** Options of the WebSocket transport. */
export interface WebSocketOptions {
  /** Upgrade path. Default `/ws`. */
  path?: string;
  /** Largest accepted message (frame payload), bytes. Default 4 MiB (the HTTP `maxBodyBytes`). */
  maxPayloadBytes?: number;
  /** Open connections at most; further upgrades get 503. Default 1000. */
  maxConnections?: number;
  /** Ping every this many ms; a peer without a pong by the next ping is terminated. 0: no pings. Default 30,000. */
  pingIntervalMs?: number;
  /** Bytes queued unsent on one connection before it is closed (1008). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Accepted `Origin`s (browsers). Default localhost origins only; `'*'` allows all. */
  allowedOrigins?: string[] | '*';
  /** Accepted `Host` hostnames. Default localhost, 127.0.0.1, [::1]; `'*'` allows all. */
  allowedHosts?: string[] | '*';
  /**
   * OAuth (docs/security.md): the upgrade request must carry a valid bearer token (else 401 with
   * `WWW-Authenticate`); its subject and scopes apply to every message on the connection.
   */
  auth?: BearerAuth;
  logger?: Logger;
}

/** The subprotocol a client must offer. */
export const WS_SUBPROTOCOL = 'mcp';

interface Conn {
  ws: WebSocket;
  mc: MessageConnection;
  alive: boolean;
}

/** Writes an HTTP refusal on a socket that asked to upgrade, then closes it. */
function refuseUpgrade(socket: Duplex, status: number, def: ErrorDef, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(errorResponse(null, new AndonError(def, message).toMcpError()));
  const reason = status === 400 ? 'Bad Request' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Service Unavailable';
  const headers = Object.entries({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...extra })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers}\r\n${body}`);
  socket.once('error', () => {});
}

/** The WebSocket transport of one server: mount {@link handleUpgrade} on any HTTP server. */
export class WebSocketTransport {
  readonly path: string;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly log: Logger;
  private readonly maxConnections: number;
  private readonly maxBuffered: number;
  private readonly allowedHosts: string[] | '*';
  private readonly allowedOrigins: string[] | '*';
  private readonly auth: BearerAuth | undefined;
  private pinger: Timer | undefined;
  private closing = false;

  constructor(
    private readonly server: McpServer,
    opts: WebSocketOptions = {},
  ) {
    this.path = opts.path ?? '/ws';
    this.log = opts.logger ?? nullLogger;
    this.maxConnections = opts.maxConnections ?? 1000;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.allowedHosts = opts.allowedHosts ?? LOCAL_HOSTS;
    this.allowedOrigins = opts.allowedOrigins ?? [];
    this.auth = opts.auth;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayloadBytes ?? 4 * 1024 * 1024,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
    const every = opts.pingIntervalMs ?? 30_000;
    if (every > 0) {
      this.pinger = server.clock.setInterval(() => this.ping(), every);
      this.pinger.unref?.();
    }
  }

  /** Open connections. */
  get connections(): number {
    return this.conns.size;
  }

  /** Mounts on `http`'s `upgrade` event; upgrades to other paths are answered 404. */
  attach(http: HttpServer): void {
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.handleUpgrade(req, socket, head)) refuseUpgrade(socket, 404, HttpErrors.NotFound, `Not Found: WebSocket upgrades are served on ${this.path}`);
    });
  }

  /** Serves an upgrade request; false when its path is not this transport's (the caller answers). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (path !== this.path) return false;
    socket.on('error', () => {});
    const refusal = hostOriginRefusal(req, this.allowedHosts, this.allowedOrigins);
    if (refusal) {
      refuseUpgrade(socket, refusal.def.httpStatus ?? 403, refusal.def, refusal.message);
      return true;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(WS_SUBPROTOCOL)) {
      refuseUpgrade(socket, 400, TransportErrors.WsSubprotocol, `Bad Request: the WebSocket subprotocol must be "${WS_SUBPROTOCOL}" (offered: ${offered.filter(Boolean).join(', ') || 'none'})`);
      return true;
    }
    if (this.full(socket)) return true;
    if (!this.auth) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, req, undefined));
      return true;
    }
    this.auth.authenticateConnection(req).then(
      ({ headers }) => {
        // The token was being checked: the socket may have gone, or the transport filled up.
        if (socket.destroyed || this.full(socket)) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, req, headers));
      },
      (err: unknown) => {
        if (!socket.destroyed) refuseBearerUpgrade(socket, err);
      },
    );
    return true;
  }

  /** Refuses the upgrade (503) when closing or at the connection limit; true when it did. */
  private full(socket: Duplex): boolean {
    if (this.closing) {
      refuseUpgrade(socket, 503, TransportErrors.TooManyConnections, 'Service Unavailable: the transport is closing', { 'retry-after': '5' });
      return true;
    }
    if (this.conns.size >= this.maxConnections) {
      refuseUpgrade(socket, 503, TransportErrors.TooManyConnections, `Service Unavailable: too many WebSocket connections (limit ${this.maxConnections})`, { 'retry-after': '5' });
      return true;
    }
    return false;
  }

  private open(ws: WebSocket, req: IncomingMessage, headers: IncomingHttpHeaders | undefined): void {
    const remote = (req.socket as Socket).remoteAddress;
    const write = (m: JsonRpcMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(m));
      if (ws.bufferedAmount > this.maxBuffered) {
        this.log.warn({ code: TransportErrors.Backpressure.code, transport: 'ws', remote, queuedBytes: ws.bufferedAmount, limit: this.maxBuffered }, 'WebSocket peer is not reading; closing the connection');
        ws.close(1008, 'send buffer limit exceeded: the peer is not reading');
        // A peer that does not read will not read the close frame either.
        ws.terminate();
      }
    };
    const mc = new MessageConnection(this.server, { kind: 'ws', write, remote, ...(headers ? { headers } : {}) });
    const conn: Conn = { ws, mc, alive: true };
    this.conns.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.alive = true;
      if (isBinary) {
        mc.send(errorResponse(null, new AndonError(TransportErrors.WsBinaryFrame).toMcpError()));
        return;
      }
      mc.receive(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.log.warn({ code: TransportErrors.WsMessageTooLarge.code, remote }, 'WebSocket message over the size limit; connection closed (1009)');
      else this.log.debug({ err: err.message, remote }, 'WebSocket connection error');
    });
    ws.on('close', () => {
      this.conns.delete(conn);
      mc.close('WebSocket connection closed');
    });
  }

  private ping(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        this.log.warn({ code: TransportErrors.WsPingTimeout.code, transport: 'ws' }, 'WebSocket peer did not answer a ping; terminating the connection');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        // Closing already.
      }
    }
  }

  /**
   * Closes every connection with `code` (1001 going away) and refuses new upgrades. Resolves once
   * they are closed, or after `graceMs` (then the rest are terminated).
   */
  async close(code = 1001, reason = 'server shutting down', graceMs = 2000): Promise<void> {
    this.closing = true;
    if (this.pinger) this.server.clock.clearInterval(this.pinger);
    this.pinger = undefined;
    const all = [...this.conns];
    await Promise.all(
      all.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === c.ws.CLOSED) return resolve();
            const clock = this.server.clock;
            const t = clock.setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, graceMs);
            t.unref?.();
            c.ws.once('close', () => {
              clock.clearTimeout(t);
              resolve();
            });
            c.ws.close(code, reason);
          }),
      ),
    );
    this.wss.close();
  }
}

/** Options of {@link serveWebSocket}: the transport on its own port. */
export interface ServeWebSocketOptions extends WebSocketOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Makes the listening server (e.g. `(h) => https.createServer(tlsOptions, h)`). Default node:http. */
  createServer?: (handler: RequestListener) => HttpServer;
}

/** A WebSocket transport listening on its own port. */
export interface WebSocketEndpoint {
  url: string;
  port: number;
  httpServer: HttpServer;
  transport: WebSocketTransport;
  close(): Promise<void>;
}

/** Serves `server` over WebSocket on its own HTTP server (plain requests get 426 Upgrade Required). */
export async function serveWebSocket(server: McpServer, options: ServeWebSocketOptions = {}): Promise<WebSocketEndpoint> {
  const transport = new WebSocketTransport(server, options);
  const plain: RequestListener = (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
    res.end(`Upgrade Required: connect with WebSocket (subprotocol "${WS_SUBPROTOCOL}") to ${transport.path}\n`);
  };
  const httpServer = (options.createServer ?? ((h) => createHttpServer(h)))(plain);
  transport.attach(httpServer);
  const host = options.host ?? '127.0.0.1';
  await listenOn(httpServer, options.port ?? 0, host);
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}${transport.path}`,
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

/** Listens, rejecting on a bind error (the caller names the listener). */
export function listenOn(s: { once(e: 'error', l: (err: Error) => void): unknown; off(e: 'error', l: (err: Error) => void): unknown; listen(port: number, host: string, cb: () => void): unknown }, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}
