/**
 * The 2025 `initialize` handshake: validates the client's offer, agrees a protocol version and
 * records what the client declared on its session.
 */
import type { JsonRpcRequest } from '../protocol/jsonrpc.js';
import { invalidParams } from '../protocol/errors.js';
import { SESSION_VERSIONS } from '../protocol/versions.js';
import type { McpServer } from './server.js';
import type { Session } from './session.js';
import type { ClientCapabilities, Implementation } from './types.js';

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Answers `initialize`; with a session (HTTP, stdio) the agreed version and client details are stored on it. */
export function initialize(server: McpServer, request: JsonRpcRequest, session: Session | undefined): Record<string, unknown> {
  const p = request.params ?? EMPTY;
  const requested = p.protocolVersion;
  if (typeof requested !== 'string') throw invalidParams('protocolVersion', 'must be a string');
  if (p.capabilities !== undefined && (typeof p.capabilities !== 'object' || p.capabilities === null)) {
    throw invalidParams('capabilities', 'must be an object');
  }
  const info = p.clientInfo as Implementation | undefined;
  if (info !== undefined && (typeof info !== 'object' || info === null || typeof info.name !== 'string')) {
    throw invalidParams('clientInfo', 'must be an object with a string "name"');
  }
  // The client offers its latest; we echo it when we speak it, else offer our latest session version.
  const version = SESSION_VERSIONS.includes(requested) ? requested : SESSION_VERSIONS[0]!;
  if (session) {
    session.protocolVersion = version;
    session.clientCapabilities = (p.capabilities as ClientCapabilities) ?? {};
    session.clientInfo = info;
  }
  const result: Record<string, unknown> = {
    protocolVersion: version,
    capabilities: server.capabilities('2025'),
    serverInfo: server.info,
  };
  if (server.instructions) result.instructions = server.instructions;
  return result;
}
