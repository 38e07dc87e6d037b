/**
 * Opening the MCP HTTP listener at start. A bind failure (port in use, no permission) is a start
 * failure, ANDON_LISTEN_FAILED naming host:port, never a supervised crash: a crash would be
 * restarted, then persisted as `transport:http` halted_fatal, and the next start would serve
 * nothing while readiness said ready.
 */
import { AndonError, RuntimeErrors } from '../errors/catalogue.js';
import type { McpServer } from '../server/server.js';
import { serveHttp, type HttpEndpoint } from '../transports/serve-http.js';
import type { HttpTransportOptions, StreamableHttpHandler } from '../transports/streamable-http.js';
import type { Logger } from '../util/logger.js';

/** Listens for MCP over HTTP; `beforeListen` restores state into the handler first. */
export async function listenHttp(
  server: McpServer,
  o: HttpTransportOptions & { port?: number; host?: string },
  log: Logger,
  beforeListen: (handler: StreamableHttpHandler) => Promise<void>,
): Promise<HttpEndpoint> {
  const port = o.port ?? Number(process.env.PORT ?? 3000);
  const host = o.host ?? '127.0.0.1';
  let restoring = true;
  try {
    return await serveHttp(server, {
      ...o,
      port,
      host,
      logger: log,
      beforeListen: async (h) => {
        await beforeListen(h);
        restoring = false;
      },
    });
  } catch (err) {
    if (restoring) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'the address is already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new AndonError(RuntimeErrors.ListenFailed, `ANDON_LISTEN_FAILED: cannot listen for MCP on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}${e.code ? ` (${e.code})` : ''}`, { host, port }, { cause: err });
  }
}
