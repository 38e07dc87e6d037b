/**
 * TCP transport: newline-delimited JSON-RPC on a port, with stdio's framing rules (one message a
 * line, an over-long line discarded whole with one -32600, a bounded buffer) and its bad-input
 * answers, because both are built on {@link LineFramer} and {@link MessageConnection}. Every
 * connection is its own peer (its own 2025 session after `initialize`).
 *
 * TLS is layered on by the caller: `createServer` makes the listening server, e.g.
 * `(onConnection) => tls.createServer(tlsOptions, onConnection)`.
 */
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { AndonError } from '../errors/catalogue.js';
import { TransportErrors } from '../errors/transports.js';
import { McpError } from '../protocol/errors.js';
import { errorResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { McpServer } from '../server/server.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './line-framing.js';
import { MessageConnection } from './message-connection.js';
import { listenOn } from './websocket.js';

/** After the peer half-closes, how long its in-flight requests may still answer before our side ends. */
const HALF_CLOSE_WAIT_MS = 30_000;

/** Options of {@link serveTcp}. */
export interface TcpOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Open connections at most; a further one gets one error line and is closed. Default 1000. */
  maxConnections?: number;
  /** Largest accepted line, bytes. Default 4 MiB. */
  maxLineBytes?: number;
  /** Bytes queued unsent on one connection before it is closed (the peer is not reading). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Makes the listening server (e.g. `tls.createServer`). Default `net.createServer`. */
  createServer?: (onConnection: (socket: Socket) => void) => NetServer;
  logger?: Logger;
}

/** A listening TCP transport. */
export interface TcpEndpoint {
  port: number;
  host: string;
  netServer: NetServer;
  /** Open connections. */
  readonly connections: number;
  /** Stops listening and closes every connection (in-flight requests are aborted). */
  close(): Promise<void>;
}

/** Serves `server` over newline-delimited JSON-RPC on a TCP port. */
export async function serveTcp(server: McpServer, options: TcpOptions = {}): Promise<TcpEndpoint> {
  const log = options.logger ?? nullLogger;
  const maxConnections = options.maxConnections ?? 1000;
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const open = new Map<Socket, MessageConnection>();
  let closing = false;

  const onConnection = (socket: Socket) => {
    socket.on('error', (err) => log.debug({ err: err.message, remote: socket.remoteAddress }, 'TCP connection error'));
    if (closing || open.size >= maxConnections) {
      const message = closing ? 'Service Unavailable: the transport is closing' : `Service Unavailable: too many TCP connections (limit ${maxConnections})`;
      socket.end(`${JSON.stringify(errorResponse(null, new AndonError(TransportErrors.TooManyConnections, message, { retryAfterMs: 5000 }).toMcpError()))}\n`);
      return;
    }
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    // Messages produced in one event-loop turn leave in one write (as on stdio): the socket is
    // corked at the first and uncorked at the end of the turn.
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    const write = (m: JsonRpcMessage) => {
      if (socket.destroyed) return;
      const line = `${JSON.stringify(m)}\n`;
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(uncork);
      }
      socket.write(line);
      if (socket.writableLength > maxBuffered) {
        log.warn({ code: TransportErrors.Backpressure.code, transport: 'tcp', remote, queuedBytes: socket.writableLength, limit: maxBuffered }, 'TCP peer is not reading; closing the connection');
        socket.destroy();
      }
    };
    const mc = new MessageConnection(server, { kind: 'tcp', write, remote });
    open.set(socket, mc);
    const framer = new LineFramer(
      (line) => mc.receive(line),
      (max) => mc.send(errorResponse(null, new McpError(-32600, `Invalid Request: line exceeds ${max} bytes and was discarded`))),
      maxLine,
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    // The peer half-closed: serve a last line without a newline, answer, then close our side
    // once in-flight requests have answered (or the connection is closed for us), waiting at
    // most HALF_CLOSE_WAIT_MS (a 2026 subscriptions/listen stays in flight until cancelled).
    socket.on('end', () => {
      framer.end();
      const until = server.clock.now() + HALF_CLOSE_WAIT_MS;
      const done = () => {
        if (mc.session.inflight.size === 0 || socket.destroyed || server.clock.now() >= until) {
          socket.end();
          return;
        }
        server.clock.setTimeout(done, 20).unref?.();
      };
      done();
    });
    socket.on('close', () => {
      open.delete(socket);
      mc.close('TCP connection closed');
    });
  };

  const netServer = (options.createServer ?? ((l) => createNetServer({ allowHalfOpen: true }, l)))(onConnection);
  const host = options.host ?? '127.0.0.1';
  await listenOn(netServer, options.port ?? 0, host);
  const port = (netServer.address() as AddressInfo).port;
  return {
    port,
    host,
    netServer,
    get connections() {
      return open.size;
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const s of open.keys()) s.end();
      // A peer that does not finish its side within a moment is cut.
      const t = server.clock.setTimeout(() => {
        for (const s of open.keys()) s.destroy();
      }, 1000);
      t.unref?.();
      await closed;
      server.clock.clearTimeout(t);
    },
  };
}
