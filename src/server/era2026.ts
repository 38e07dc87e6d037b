/**
 * The 2026 stateless-era request checks every transport and the dispatcher share: each request
 * carries its own protocol version and client capabilities in `_meta`, so both are validated per
 * request rather than once per session.
 */
import { ErrorCode, McpError } from '../protocol/errors.js';
import { META, STATELESS_VERSIONS, isStatelessVersion } from '../protocol/versions.js';
import type { RequestContext } from './context.js';
import type { StateSealer } from './request-state.js';

/**
 * 2026: `_meta` with protocolVersion and clientCapabilities is required on every request.
 * Returns the -32602 error naming what is missing, or null.
 */
export function check2026Meta(params: Record<string, unknown> | undefined): McpError | null {
  const meta = params?._meta as Record<string, unknown> | undefined;
  if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    return new McpError(ErrorCode.InvalidParams, `Invalid params: "_meta" is required on every ${STATELESS_VERSIONS[0]} request (with ${META.protocolVersion} and ${META.clientCapabilities})`);
  }
  const versionOk = typeof meta[META.protocolVersion] === 'string';
  const caps = meta[META.clientCapabilities];
  const capsOk = caps !== null && typeof caps === 'object' && !Array.isArray(caps);
  if (versionOk && capsOk) return null;
  const missing: string[] = [];
  if (!versionOk) missing.push(META.protocolVersion);
  if (!capsOk) missing.push(META.clientCapabilities);
  return new McpError(ErrorCode.InvalidParams, `Invalid params: missing or malformed _meta keys: ${missing.join(', ')}`);
}

/** 2026: -32022 with the requested and supported versions when `version` is not served statelessly. */
export function check2026Version(version: string): McpError | null {
  if (isStatelessVersion(version)) return null;
  return new McpError(ErrorCode.UnsupportedProtocolVersion, `Unsupported protocol version: ${version}`, { requested: version, supported: [...STATELESS_VERSIONS] });
}

/**
 * The `input_required` result of a 2026 request whose handler needs client input. The handler's
 * own state and the answers used so far travel sealed in `requestState`, since the server keeps
 * nothing between rounds.
 */
export function inputRequired(ctx: RequestContext, state: StateSealer, serverMeta: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = { resultType: 'input_required', inputRequests: ctx.pendingInputs ?? {} };
  const user = ctx.nextRequestState ?? ctx.requestState;
  const used = ctx.usedAnswers;
  if (user !== undefined || used) {
    const env: { u?: string; a?: Record<string, unknown> } = {};
    if (user !== undefined) env.u = user;
    if (used) env.a = used;
    r.requestState = state.seal(JSON.stringify(env));
  }
  r._meta = serverMeta;
  return r;
}
