/**
 * Discovery for OAuth: which authorization server protects an MCP server (RFC 9728 protected
 * resource metadata) and where its endpoints are (RFC 8414 / OIDC metadata), and the server URL as
 * an RFC 8707 resource indicator. The HTTP requests are the caller's, through `getJson`.
 */
import { ClientError } from './errors.js';

/** GETs a JSON object; undefined when there is none (any failure, non-2xx status or non-object body). */
export type JsonGetter = (url: string) => Promise<Record<string, any> | undefined>;

/** RFC 8414 authorization server metadata, as far as the client uses it. */
export interface AsMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  scopes_supported?: string[];
  code_challenge_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  client_id_metadata_document_supported?: boolean;
  dpop_signing_alg_values_supported?: string[];
  /** Not from the server: true when no metadata was found and 2025-03-26 default endpoints are used. */
  fallback?: boolean;
}

/** RFC 9728 discovery: the challenge's URL, else path-based, else root. Undefined when there is none. */
export async function protectedResourceMetadata(serverUrl: URL, fromChallenge: string | undefined, getJson: JsonGetter): Promise<Record<string, any> | undefined> {
  const candidates: string[] = [];
  if (fromChallenge) candidates.push(fromChallenge);
  else {
    const path = serverUrl.pathname.replace(/\/+$/, '');
    if (path) candidates.push(`${serverUrl.origin}/.well-known/oauth-protected-resource${path}`);
    candidates.push(`${serverUrl.origin}/.well-known/oauth-protected-resource`);
  }
  for (const url of candidates) {
    const doc = await getJson(url);
    if (doc) return doc;
  }
  return undefined;
}

/**
 * RFC 8414 / OIDC discovery for `issuer`, trying the well-known locations in the order the MCP
 * spec gives. The document's `issuer` must be exactly the one asked about. With no metadata at
 * all and no resource metadata either (a 2025-03-26 server), the default endpoints are used.
 */
export async function authorizationServerMetadata(issuer: string, legacy: boolean, getJson: JsonGetter): Promise<AsMetadata> {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    throw new ClientError('UNAUTHORIZED', `The authorization server "${issuer}" is not a URL`);
  }
  const path = u.pathname.replace(/\/+$/, '');
  const candidates = path
    ? [`${u.origin}/.well-known/oauth-authorization-server${path}`, `${u.origin}/.well-known/openid-configuration${path}`, `${u.origin}${path}/.well-known/openid-configuration`]
    : [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
  for (const url of candidates) {
    const doc = await getJson(url);
    if (!doc) continue;
    if (doc.issuer !== issuer) {
      throw new ClientError('UNAUTHORIZED', `The authorization server metadata at ${url} names issuer "${String(doc.issuer)}", not "${issuer}"; refusing to use it`);
    }
    if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') {
      throw new ClientError('UNAUTHORIZED', `The authorization server metadata at ${url} lacks authorization_endpoint or token_endpoint`);
    }
    const methods = doc.code_challenge_methods_supported;
    if (!Array.isArray(methods) || !methods.includes('S256')) {
      throw new ClientError('UNAUTHORIZED', `The authorization server ${issuer} does not advertise PKCE S256 support; refusing to authorize`);
    }
    return doc as AsMetadata;
  }
  if (!legacy) throw new ClientError('UNAUTHORIZED', `No authorization server metadata found for ${issuer}`);
  return { issuer, authorization_endpoint: `${u.origin}/authorize`, token_endpoint: `${u.origin}/token`, registration_endpoint: `${u.origin}/register`, fallback: true };
}

/** The server URL as a resource indicator: no fragment, no trailing slash on the root. */
export function canonicalResource(u: URL): string {
  const s = `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}${u.search}`;
  return s;
}

/** A PRM `resource` covers the server URL when same origin and its path is a prefix of the server's. */
export function resourceMatches(resource: string, server: URL): boolean {
  let r: URL;
  try {
    r = new URL(resource);
  } catch {
    return false;
  }
  if (r.origin !== server.origin) return false;
  const rp = r.pathname.replace(/\/+$/, '');
  const sp = server.pathname.replace(/\/+$/, '');
  return rp === '' || sp === rp || sp.startsWith(`${rp}/`);
}
