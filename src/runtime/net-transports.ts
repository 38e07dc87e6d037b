/**
 * The optional network transports next to Streamable HTTP — WebSocket (`transport:ws`), TCP
 * (`transport:tcp`) and the legacy HTTP+SSE transport (`transport:sse`): opening them at start
 * (on the MCP listener or their own port), and each one's supervised component. Halting one
 * refuses its new messages with ANDON_HALTED (the halt stage tells transports apart by the
 * exchange's `transport`); its connections stay open and resume serves them again. A drain
 * refuses new work on every transport (the node stage), lets in-flight requests finish within
 * the grace, then closes them ({@link NetTransport.close}).
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
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
  /** Newline-delimited JSON-RPC over TCP (`transport:tcp`); `port` default 0 (ephemeral). Default off (false). */
  tcp?: TcpOptions | false;
  /** Legacy HTTP+SSE, GET `/sse` + POST `/messages?sessionId=` (`transport:sse`). Default off (false). */
  legacySse?: ServeLegacySseOptions | false;
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
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Opens the transports `o` enables. A bind failure is ANDON_LISTEN_FAILED; what opened before it is closed. */
export async function listenNetTransports(server: McpServer, o: NetTransportOptions, http: HttpEndpoint | undefined, log: Logger): Promise<NetTransport[]> {
  const opened: NetTransport[] = [];
  try {
    if (o.websocket) opened.push(await openWebSocket(server, o.websocket, http, log));
    if (o.tcp) opened.push(await openTcp(server, o.tcp, log));
    if (o.legacySse) opened.push(await openLegacySse(server, o.legacySse, http, log));
  } catch (err) {
    await Promise.all(opened.map((t) => t.close()));
    throw err;
  }
  for (const t of opened) log.info({ transport: t.kind, url: t.url }, `transport:${t.kind} listening`);
  return opened;
}

function noListener(what: string, key: string): AndonError {
  return new AndonError(RuntimeErrors.ListenFailed, `ANDON_LISTEN_FAILED: ${what} shares the MCP HTTP listener, which is off; set ${key}.port to give it its own`, {});
}

async function openWebSocket(server: McpServer, o: ServeWebSocketOptions, http: HttpEndpoint | undefined, log: Logger): Promise<NetTransport> {
  const opts = { logger: log, ...o };
  if (o.port === undefined) {
    if (!http) throw noListener('the WebSocket transport', 'websocket');
    const t = new WebSocketTransport(server, opts);
    t.attach(http.httpServer);
    const base = new URL(http.url);
    return {
      kind: 'ws',
      url: `ws://${base.host}${t.path}`,
      get connections() {
        return t.connections;
      },
      listener: undefined,
      close: () => t.close(),
    };
  }
  const host = o.host ?? '127.0.0.1';
  try {
    const ep = await serveWebSocket(server, opts);
    return {
      kind: 'ws',
      url: ep.url,
      get connections() {
        return ep.transport.connections;
      },
      listener: ep.httpServer,
      close: () => ep.close(),
    };
  } catch (err) {
    throw listenFailed('WebSocket', host, o.port, err);
  }
}

async function openTcp(server: McpServer, o: TcpOptions, log: Logger): Promise<NetTransport> {
  const host = o.host ?? '127.0.0.1';
  try {
    const ep = await serveTcp(server, { logger: log, ...o });
    return {
      kind: 'tcp',
      url: `tcp://${hostPort(host, ep.port)}`,
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

async function openLegacySse(server: McpServer, o: ServeLegacySseOptions, http: HttpEndpoint | undefined, log: Logger): Promise<NetTransport> {
  const opts = { logger: log, ...o };
  if (o.port === undefined) {
    if (!http) throw noListener('the legacy SSE transport', 'legacySse');
    const t = new LegacySseTransport(server, opts);
    t.attach(http.httpServer);
    return {
      kind: 'sse',
      url: `${new URL(http.url).origin}${t.ssePath}`,
      get connections() {
        return t.connections;
      },
      listener: undefined,
      close: () => t.close(),
    };
  }
  const host = o.host ?? '127.0.0.1';
  try {
    const ep = await serveLegacySse(server, opts);
    return {
      kind: 'sse',
      url: ep.url,
      get connections() {
        return ep.transport.connections;
      },
      listener: ep.httpServer,
      close: () => ep.close(),
    };
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
