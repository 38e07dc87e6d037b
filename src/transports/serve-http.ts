/**
 * serveHttp: the Streamable HTTP handler on its own node:http server, for when andon owns the
 * listening socket (mount {@link StreamableHttpHandler} yourself to share one).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '../server/server.js';
import { StreamableHttpHandler, type HttpTransportOptions } from './streamable-http.js';
import { httpServerOptions, type LimitsSnapshot } from './http-limits.js';
import { frontHandler, type RequestGuard } from './http-front.js';
import type { TlsContext } from './tls.js';
import type { BearerAuth } from './bearer.js';

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions extends HttpTransportOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1: bind to loopback unless told otherwise. */
  host?: string;
  /**
   * Awaited after the handler exists and before the socket listens (andon:restore): the runtime
   * restores sessions and the journal here, so nothing is served before they are back.
   */
  beforeListen?: (handler: StreamableHttpHandler) => Promise<void> | void;
  /** Serve HTTPS with this context (HSTS on every response unless the context turns it off). */
  tls?: TlsContext;
  /** Runs before the handler and may answer itself (the OAuth resource server, src/auth). */
  guard?: RequestGuard;
}

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  url: string;
  port: number;
  httpServer: HttpServer;
  handler: StreamableHttpHandler;
  /** Degradation: refuse new connections (raw 503 + Retry-After) while set; null lifts it. New sessions are the degradation stage's to refuse. */
  refuseNew(reason: string | null): void;
  /** Sockets, sessions, SSE streams and body bytes against their caps, and refusals so far. */
  limitsSnapshot(): LimitsSnapshot;
  /** The TLS context when serving HTTPS (reload it on SIGHUP). */
  tls?: TlsContext;
  /** The OAuth resource server guarding this listener (set by the runtime); the other transports check tokens with it. */
  auth?: BearerAuth;
  close(): Promise<void>;
}

/** Serves `server` over Streamable HTTP on its own node:http server. */
export async function serveHttp(server: McpServer, options: ServeHttpOptions = {}): Promise<HttpEndpoint> {
  const handler = new StreamableHttpHandler(server, options);
  const handle = frontHandler(handler.handle, { hsts: options.tls?.hsts, guard: options.guard, logger: options.logger });
  // Slow clients: node:http answers 408 and closes past headersTimeout / requestTimeout.
  const serverOptions = httpServerOptions(handler.limits.c);
  const httpServer = options.tls ? (options.tls.createHttpsServer(serverOptions, handle) as unknown as HttpServer) : createHttpServer(serverOptions, handle);
  handler.limits.attach(httpServer);
  const host = options.host ?? '127.0.0.1';
  await options.beforeListen?.(handler);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err) => {
      void handler.close();
      reject(err);
    });
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${port}${options.path ?? '/mcp'}`,
    port,
    httpServer,
    handler,
    refuseNew: (reason) => handler.refuseNew(reason),
    limitsSnapshot: () => handler.limitsSnapshot(),
    tls: options.tls,
    async close() {
      await handler.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        // Streams are ended above; what remains are idle keep-alive sockets, which would otherwise
        // hold close() until the client's own keep-alive timeout.
        httpServer.closeAllConnections();
      });
    },
  };
}
