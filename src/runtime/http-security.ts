/**
 * The security parts of the MCP HTTP listener, built from `http.tls` and `http.auth` before it
 * listens: the TLS context (HTTPS, HSTS, certificate reload) and the OAuth resource server (its
 * HTTP guard on the listener and its stage in the `auth` admission phase).
 */
import type { AuthOptions } from '../auth/resource-server.js';
import { ResourceServer } from '../auth/resource-server.js';
import type { McpServer } from '../server/server.js';
import type { RequestGuard } from '../transports/http-front.js';
import { TlsContext, type TlsOptions } from '../transports/tls.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** TLS and OAuth settings of the MCP listener (RuntimeOptions `http.tls`, `http.auth`). */
export interface HttpSecurityOptions {
  /** Serve HTTPS with these files (see docs/security.md). */
  tls?: TlsOptions;
  /** Require OAuth bearer tokens (the MCP server is an OAuth 2.1 resource server). */
  auth?: AuthOptions;
}

/** What the listener gets: the serveHttp options, and what to call once it listens. */
export interface HttpSecurity {
  tls?: TlsContext;
  guard?: RequestGuard;
  resourceServer?: ResourceServer;
  /** Tells the resource server its URL (unless configured) once the listener has one. */
  listening(url: string): void;
  /** Removes the admission stage and stops the certificate polling. */
  close(): void;
}

/** Loads the certificate files (a bad pair fails the start) and installs the auth stage. */
export async function prepareHttpSecurity(server: McpServer, o: HttpSecurityOptions & { path?: string }, log: Logger, clock?: Clock): Promise<HttpSecurity> {
  const tls = o.tls ? await TlsContext.load({ clock, logger: log, ...o.tls }) : undefined;
  const rs = o.auth ? new ResourceServer({ clock, logger: log, path: o.path, ...o.auth }) : undefined;
  const unuse = rs ? server.admission.use(rs.stage()) : undefined;
  if (rs) log.info({ issuer: o.auth!.issuer, resource: rs.resource }, 'OAuth resource server on: MCP requests need a bearer token');
  return {
    tls,
    guard: rs?.guard,
    resourceServer: rs,
    listening: (url) => rs?.setResource(url),
    close: () => {
      unuse?.();
      tls?.close();
    },
  };
}
