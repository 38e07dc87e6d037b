/** Protocol revisions andon-mcp speaks, and the era each belongs to. */

/** The sessionful revision most deployed clients speak. */
export const V2025_11_25 = '2025-11-25';
/** The stateless revision: no handshake, no sessions, `_meta` on every request. */
export const V2026_07_28 = '2026-07-28';

/** Versions accepted by `initialize`, newest first (the first is offered when the client's is unknown). */
export const SESSION_VERSIONS: readonly string[] = [V2025_11_25, '2025-06-18', '2025-03-26'];
/** Versions served statelessly, newest first. */
export const STATELESS_VERSIONS: readonly string[] = [V2026_07_28];
/** Every version this runtime supports, newest first. */
export const ALL_VERSIONS: readonly string[] = [...STATELESS_VERSIONS, ...SESSION_VERSIONS];

/** `2025`: sessions and initialize; `2026`: stateless per-request `_meta`. */
export type Era = '2025' | '2026';

export function isSessionVersion(v: string): boolean {
  return SESSION_VERSIONS.includes(v);
}

export function isStatelessVersion(v: string): boolean {
  return STATELESS_VERSIONS.includes(v);
}

/** `_meta` keys of the 2026 era. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
  relatedTask: 'io.modelcontextprotocol/related-task',
} as const;
