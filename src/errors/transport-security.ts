/**
 * Catalogue section: TLS and OAuth on the transports next to Streamable HTTP (WebSocket, TCP,
 * legacy HTTP+SSE; src/runtime/net-transports.ts). Their token refusals reuse the resource
 * server's entries (ANDON_UNAUTHENTICATED, ANDON_FORBIDDEN_SCOPE, ANDON_SESSION_SUBJECT_MISMATCH);
 * this is the start failure of a transport that cannot carry a token.
 */
import { defineError } from './catalogue.js';

/** Start failures of the transports' security. */
export const TransportSecurityErrors = {
  TcpUnauthenticated: defineError({
    code: 'ANDON_TCP_UNAUTHENTICATED',
    message: 'tcp: auth.enabled needs a transport that carries a bearer token; TCP does not',
    retryable: false,
    when: 'at start: OAuth (`auth`) on and TCP enabled without `tcp.allowUnauthenticated: true`; newline-delimited JSON-RPC has no place for a bearer token, so TCP clients would bypass auth (from a configuration file the same rule is a config error: exit 2)',
  }),
} as const;
