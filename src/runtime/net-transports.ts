/**
 * The optional network transports next to Streamable HTTP — WebSocket (`transport:ws`), TCP
 * (`transport:tcp`) and the legacy HTTP+SSE transport (`transport:sse`): opening them at start
 * (on the MCP listener or their own port), and each one's supervised component. Halting one
 * refuses its new messages with ANDON_HALTED (the halt stage tells transports apart by the
 * exchange's `transport`); its connections stay open and resume serves them again. A drain
 * refuses new work on every transport (the node stage), lets in-flight requests finish within
 * the grace, then closes them ({@link NetTransport.close}).
 *
 * Security (docs/security.md): the transports use the MCP listener's TLS context and OAuth
 * resource server (or, with the listener off, their own from `transportSecurity`). TLS: TCP is
 * served over TLS, and WebSocket / legacy SSE on their own ports over HTTPS (on the MCP listener
 * they inherit it); every such server is attached to the context, so a reloaded certificate is
 * served to the next handshake. OAuth: WebSocket upgrades and legacy SSE requests need a bearer
 * token; TCP cannot carry one, so auth with TCP refuses to start unless `tcp.allowUnauthenticated`.
 */
import type { RequestListener, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
import { TransportSecurityErrors } from '../errors/transport-security.js';
import type { BearerAuth } from '../transports/bearer.js';
import type { TlsContext } from '../transports/tls.js';
import type { Clock } from '../util/clock.js';
import { prepareHttpSecurity, type HttpSecurity, type HttpSecurityOptions } from './http-security.js';
import type { McpServer } from '../server/server.js';
import { LegacySseTransport, serveLegacySse, type ServeLegacySseOptions } from '../transports/legacy-sse.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import { serveTcp, type TcpOptions } from '../transports/tcp.js';
import { serveWebSocket, WebSocketTransport, type ServeWebSocketOptions } from '../transports/websocket.js';
import type { Logger } from '../util/logger.js';
import type { HaltRegistry } from './halt.js';
import { listenFailed } from './http-listen.js';
import type { ChildLink, ChildSpec } from './supervisor.js';

/** The transports' options in RuntimeOptions. Without `port`, WebSocket and legacy SSE share the MCP listener. */
export interface NetTransportOptions {
  /** WebSocket (`transport:ws`), subprotocol `mcp`, default path `/ws`. Default off (false). */
  websocket?: ServeWebSocketOptions | false;
  /**
   * Newline-delimited JSON-RPC over TCP (`transport:tcp`); `port` default 0 (ephemeral). Default off (false).
   * `allowUnauthenticated`: with OAuth on, serve TCP anyway (its clients present no token).
   */
  tcp?: (TcpOptions & { allowUnauthenticated?: boolean }) | false;
  /** Legacy HTTP+SSE, GET `/sse` + POST `/messages?sessionId=` (`transport:sse`). Default off (false). */
  legacySse?: ServeLegacySseOptions | false;
  /**
   * TLS and OAuth for these transports when the MCP HTTP listener is off (`http: false`). With the
   * listener on they use its `http.tls` and `http.auth`, and this is ignored.
   */
  transportSecurity?: HttpSecurityOptions;
}

/** The TLS context and resource server the transports use (the MCP listener's). */
export interface NetSecurity {
  tls?: TlsContext;
  auth?: BearerAuth;
}

/** One open network transport, as the runtime supervises it. */
export interface NetTransport {
  kind: 'ws' | 'tcp' | 'sse';
  /** Where clients connect. */
  url: string;
  /** Open connections. */
  readonly connections: number;
  /** The listening server whose `error` is this transport's crash (its own port), if any. */
  listener: HttpServer | NetServer | undefined;
  /** Closes every connection (in-flight requests were given the drain grace before). */
  close(): Promise<void>;
  /** The TLS context its listener is attached to (reload it on SIGHUP), if any. */
  tls?: TlsContext;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The refusal to serve TCP, which carries no bearer token, while OAuth is on. */
export function tcpAuthRefusal(): AndonError {
  return new AndonError(
    TransportSecurityErrors.TcpUnauthenticated,
    'ANDON_TCP_UNAUTHENTICATED: tcp: auth.enabled needs a transport that carries a bearer token; TCP does not — disable tcp or auth, or set tcp.allowUnauthenticated: true to accept unauthenticated TCP clients (e.g. on a private network)',
  );
}

/**
 * Opens the transports `o` enables, with the MCP listener's TLS and OAuth (see the module
 * comment). A bind failure is ANDON_LISTEN_FAILED; what opened before it is closed. TCP with
 * OAuth on and no `allowUnauthenticated` is ANDON_TCP_UNAUTHENTICATED, before anything opens.
 */
export async function listenNetTransports(server: McpServer, o: NetTransportOptions, http: HttpEndpoint | undefined, log: Logger, clock?: Clock): Promise<NetTransport[]> {
  if (!o.websocket && !o.tcp && !o.legacySse) return [];
  let sec: NetSecurity = { tls: http?.tls, auth: http?.auth };
  // The MCP listener is off: the transports' own TLS context and resource server (one of each).
  let own: HttpSecurity | undefined;
  if (!http && o.transportSecurity && (o.transportSecurity.tls || o.transportSecurity.auth)) {
    own = await prepareHttpSecurity(server, o.transportSecurity, log, clock);
    sec = { tls: own.tls, auth: own.resourceServer };
  }
  if (o.tcp && sec.auth && !o.tcp.allowUnauthenticated) {
    own?.close();
    throw tcpAuthRefusal();
  }
  if (o.tcp && sec.auth) log.warn({ transport: 'tcp' }, 'OAuth is on but tcp.allowUnauthenticated is set: TCP clients are served without a token');
  const opened: NetTransport[] = [];
  try {
    if (o.websocket) opened.push(await openWebSocket(server, o.websocket, http, log, sec));
    if (o.tcp) opened.push(await openTcp(server, o.tcp, log, sec));
    if (o.legacySse) opened.push(await openLegacySse(server, o.legacySse, http, log, sec));
  } catch (err) {
    await Promise.all(opened.map((t) => t.close()));
    own?.close();
    throw err;
  }
  if (own) {
    // Without a configured resource URL, the first transport's URL is this resource's.
    own.listening(opened[0]!.url);
    let left = opened.length;
    for (const t of opened) {
      const close = t.close;
      t.close = async () => {
        await close();
        if (--left === 0) own.close();
      };
    }
  }
  for (const t of opened) log.info({ transport: t.kind, url: t.url, tls: t.tls !== undefined, auth: sec.auth !== undefined && !(t.kind === 'tcp') }, `transport:${t.kind} listening`);
  return opened;
}

/** An HTTPS server making factory attached to `tls` (certificate reload), for a transport's own port. */
function httpsFactory(tls: TlsContext): (h: RequestListener) => HttpServer {
  return (h) => {
    const s = createHttpsServer(tls.serverOptions(), h);
    tls.attach(s);
    return s as unknown as HttpServer;
  };
}

/** A transport on the MCP HTTP listener: the listener's crash is transport:http's, not its own. */
function onShared(kind: 'ws' | 'sse', url: string, t: { readonly connections: number; close(): Promise<void> }): NetTransport {
  return {
    kind,
    url,
    get connections() {
      return t.connections;
    },
    listener: undefined,
    close: () => t.close(),
  };
}

/** A transport on its own HTTP(S) port (its listener's `error` is its crash). */
function onOwnPort(kind: 'ws' | 'sse', url: string, tls: TlsContext | undefined, ep: { transport: { readonly connections: number }; httpServer: HttpServer; close(): Promise<void> }): NetTransport {
  return {
    kind,
    url,
    ...(tls ? { tls } : {}),
    get connections() {
      return ep.transport.connections;
    },
    listener: ep.httpServer,
    close: () => ep.close(),
  };
}

function noListener(what: string, key: string): AndonError {
  return new AndonError(RuntimeErrors.ListenFailed, `ANDON_LISTEN_FAILED: ${what} shares the MCP HTTP listener, which is off; set ${key}.port to give it its own`, {});
}

async function openWebSocket(server: McpServer, o: ServeWebSocketOptions, http: HttpEndpoint | undefined, log: Logger, sec: NetSecurity): Promise<NetTransport> {
  const opts = { logger: log, ...(sec.auth ? { auth: sec.auth } : {}), ...o };
  if (o.port === undefined) {
    if (!http) throw noListener('the WebSocket transport', 'websocket');
    const t = new WebSocketTransport(server, opts);
    t.attach(http.httpServer);
    return onShared('ws', `${http.tls ? 'wss' : 'ws'}://${new URL(http.url).host}${t.path}`, t);
  }
  const host = o.host ?? '127.0.0.1';
  try {
    const ep = await serveWebSocket(server, sec.tls ? { createServer: httpsFactory(sec.tls), ...opts } : opts);
    return onOwnPort('ws', sec.tls ? ep.url.replace(/^ws:/, 'wss:') : ep.url, sec.tls, ep);
  } catch (err) {
    throw listenFailed('WebSocket', host, o.port, err);
  }
}

async function openTcp(server: McpServer, o: TcpOptions, log: Logger, sec: NetSecurity): Promise<NetTransport> {
  const host = o.host ?? '127.0.0.1';
  const tls = sec.tls;
  // TLS: the same newline-delimited JSON-RPC inside a TLS session (the next handshake gets a reloaded certificate).
  const createServer = tls
    ? (onConnection: (socket: Socket) => void) => {
        const s = createTlsServer({ ...tls.serverOptions(), allowHalfOpen: true }, onConnection);
        s.on('tlsClientError', (err: Error) => log.debug({ err: err.message, transport: 'tcp' }, 'TLS handshake failed'));
        tls.attach(s);
        return s;
      }
    : undefined;
  try {
    const ep = await serveTcp(server, { logger: log, ...o, ...(createServer ? { createServer } : {}) });
    return {
      kind: 'tcp',
      url: `${tls ? 'tls' : 'tcp'}://${hostPort(host, ep.port)}`,
      ...(tls ? { tls } : {}),
      get connections() {
        return ep.connections;
      },
      listener: ep.netServer,
      close: () => ep.close(),
    };
  } catch (err) {
    throw listenFailed('MCP over TCP', host, o.port ?? 0, err);
  }
}

async function openLegacySse(server: McpServer, o: ServeLegacySseOptions, http: HttpEndpoint | undefined, log: Logger, sec: NetSecurity): Promise<NetTransport> {
  // Served over HTTPS (the MCP listener's, or its own with the node's certificate): HSTS as on the listener.
  const tls = o.port === undefined ? http?.tls : sec.tls;
  const hsts = tls?.hsts;
  const opts = { logger: log, ...(sec.auth ? { auth: sec.auth } : {}), ...(hsts !== undefined ? { hsts } : {}), ...o };
  if (o.port === undefined) {
    if (!http) throw noListener('the legacy SSE transport', 'legacySse');
    const t = new LegacySseTransport(server, opts);
    t.attach(http.httpServer);
    return onShared('sse', `${new URL(http.url).origin}${t.ssePath}`, t);
  }
  const host = o.host ?? '127.0.0.1';
  try {
    const ep = await serveLegacySse(server, sec.tls ? { createServer: httpsFactory(sec.tls), ...opts } : opts);
    return onOwnPort('sse', sec.tls ? ep.url.replace(/^http:/, 'https:') : ep.url, sec.tls, ep);
  } catch (err) {
    throw listenFailed('legacy SSE', host, o.port, err);
  }
}

/**
 * The supervised component of `t`: running, its messages are admitted; stopped (halted, or
 * restarting after its listener failed), they are refused with ANDON_HALTED, `data.component`
 * = `transport:<kind>`. A halt persisted by a previous run applies before anything is served.
 */
export function netTransportSpec(t: NetTransport, server: McpServer, halts: HaltRegistry): ChildSpec {
  const id = `transport:${t.kind}`;
  const refuse = (reason: string) => server.halts.setComponent(id, reason, `Service Unavailable: transport halted (${reason})`);
  const saved = halts.get(id);
  if (saved) refuse(saved.reason);
  let current: ChildLink | undefined;
  t.listener?.on('error', (err: Error) => current?.crashed(err));
  return {
    id,
    kind: 'transport',
    start: (link: ChildLink) => {
      current = link;
      server.halts.setComponent(id, null);
      return {
        stop: async (reason: string) => {
          refuse(reason);
          await server.whenIdle(5000);
        },
      };
    },
  };
}
