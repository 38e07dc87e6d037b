/**
 * Rules across the `tcp` and `auth` sections (src/config/schema.ts runs them after the schema):
 * newline-delimited JSON-RPC over TCP has no place for a bearer token, so with OAuth on a TCP
 * listener would let its clients bypass auth. That combination is refused unless the operator
 * opts out explicitly with `tcp.allowUnauthenticated: true` (docs/security.md).
 */
import type { AndonConfig } from './schema.js';

/** The problems of `c` across sections, as `path: message` lines (none: empty). */
export function transportSecurityProblems(c: Pick<AndonConfig, 'tcp' | 'auth'>): string[] {
  if (c.auth.enabled && c.tcp.enabled && !c.tcp.allowUnauthenticated) {
    return [
      'tcp.allowUnauthenticated: tcp: auth.enabled needs a transport that carries a bearer token; TCP does not — disable tcp or auth, or set tcp.allowUnauthenticated: true to accept unauthenticated TCP clients (e.g. on a private network)',
    ];
  }
  return [];
}
