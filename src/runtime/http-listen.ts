/**
 * Opening the MCP HTTP listener at start. A bind failure (port in use, no permission) is a start
 * failure, ANDON_LISTEN_FAILED naming host:port, never a supervised crash: a crash would be
 * restarted, then persisted as `transport:http` halted_fatal, and the next start would serve
 * nothing while readiness said ready.
 */
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
import type { McpServer } from '../server/server.js';
import { serveHttp, type HttpEndpoint } from '../transports/serve-http.js';
import type { HttpTransportOptions, StreamableHttpHandler } from '../transports/streamable-http.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { prepareHttpSecurity, type HttpSecurityOptions } from './http-security.js';
import type { HaltRegistry } from './halt.js';
import type { Journal } from './journal.js';
import type { SessionPersistence } from './session-persistence.js';
import type { EventLog } from '../store/store.js';
import { RedisEventStore } from '../transports/redis-event-store.js';

/** What is restored into the handler before the socket listens. */
export interface RestoreState {
  halts: HaltRegistry;
  sessions: SessionPersistence;
  journal: Journal | undefined;
  /** The store is shared with other nodes (Redis). */
  sharedStore?: boolean;
  /** A shared store's SSE event logs: streams resume on any node (unless `eventStore` is given). */
  eventLog?: EventLog;
}

/** Applies halts and restores sessions and the journal into a handler that is not listening yet. */
export async function restore(handler: StreamableHttpHandler, st: RestoreState, log: Logger): Promise<void> {
  const node = st.halts.get('node');
  const transport = st.halts.get('transport:http');
  if (node) handler.setAccepting(false, `Service Unavailable: node halted (${node.reason})`);
  else if (transport) handler.setAccepting(false, `Service Unavailable: transport halted (${transport.reason})`);
  const n = await st.sessions.restoreInto(handler);
  if (n) log.info({ sessions: n }, 'restored sessions from the previous run');
  await st.journal?.restore(handler.sessions);
}

/** Listens for MCP over HTTP, after restoring state into the handler (nothing is served before). */
export async function listenHttp(server: McpServer, o: HttpTransportOptions & HttpSecurityOptions & { port?: number; host?: string }, log: Logger, st: RestoreState, clock?: Clock): Promise<HttpEndpoint> {
  const port = o.port ?? Number(process.env.PORT ?? 3000);
  const host = o.host ?? '127.0.0.1';
  let restoring = true;
  // TLS files and the OAuth stage (docs/security.md); a bad certificate pair fails the start here.
  const { tls: tlsOptions, auth, ...http } = o;
  const sec = await prepareHttpSecurity(server, { tls: tlsOptions, auth, path: o.path }, log, clock);
  try {
    const ep = await serveHttp(server, {
      ...http,
      tls: sec.tls,
      guard: sec.guard,
      port,
      host,
      logger: log,
      // Nodes sharing a store serve each other's sessions: look up an unknown session id first.
      ...(st.sharedStore
        ? {
            loadSession: async (id: string) => {
              const s = await st.sessions.loadOne(id);
              // Its journal records come with it: a retry here is answered, never run twice.
              if (s) await st.journal?.adopt(s);
              return s;
            },
            peekSession: (id: string) => st.sessions.loadOne(id),
            ...(st.eventLog && !o.eventStore ? { eventStore: new RedisEventStore(st.eventLog, log) } : {}),
          }
        : {}),
      beforeListen: async (h) => {
        await restore(h, st, log);
        restoring = false;
      },
    });
    sec.listening(ep.url);
    if (sec.resourceServer) ep.auth = sec.resourceServer;
    const close = ep.close.bind(ep);
    ep.close = async () => {
      await close();
      sec.close();
    };
    return ep;
  } catch (err) {
    sec.close();
    if (restoring) throw err;
    throw listenFailed('MCP', host, port, err);
  }
}

/** The start failure for a listener (`what`: "MCP", "the ops API") that cannot bind host:port. */
export function listenFailed(what: string, host: string, port: number, err: unknown): AndonError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'EADDRINUSE' ? 'the address is already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return new AndonError(RuntimeErrors.ListenFailed, `ANDON_LISTEN_FAILED: cannot listen for ${what} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}${e.code ? ` (${e.code})` : ''}`, { host, port }, { cause: err });
}
