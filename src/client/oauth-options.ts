/**
 * The options and shapes of the client's OAuth: grants, the options of {@link OAuthFlow}, the
 * Bearer challenge and its parser. Split from oauth.ts so the flow stays one concept per file.
 */

/**
 * A grant without a browser, for agents and gateways: `client_credentials` (with `clientId` and
 * `clientSecret`, or a private key for `private_key_jwt`), or an RFC 7523 JWT-bearer assertion
 * such as a workload identity token.
 */
export type MachineGrant =
  | { type: 'client_credentials'; privateKeyPem?: string; signingAlgorithm?: string }
  | { type: 'jwt_bearer'; assertion: string | (() => string | Promise<string>) }
  /**
   * Enterprise-managed authorization (SEP-990): the user's identity-provider ID token is exchanged
   * at the IdP for an ID-JAG (RFC 8693), which is then presented to the MCP authorization server as
   * a JWT-bearer grant with this client's credentials.
   */
  | { type: 'id_jag'; idpTokenEndpoint: string; idToken: string | (() => string | Promise<string>); idpClientId?: string };

/** Options of the OAuth flow. `authorize` is needed for the browser flow, `grant` instead of it. */
export interface OAuthOptions {
  /**
   * Sends the user to the authorization URL and resolves with the redirect URL the authorization
   * server sent the browser back to (the one carrying `code`, `state` and maybe `iss`).
   */
  authorize?: (authorizationUrl: URL) => Promise<string | URL>;
  /** Use a machine grant instead of the authorization-code flow. Default none. */
  grant?: MachineGrant;
  /** The redirect URI registered for this client. Default `http://127.0.0.1:33418/callback`. */
  redirectUri?: string;
  /** `client_name` for dynamic registration. Default `andon-mcp-client`. */
  clientName?: string;
  /** A pre-registered client id (no registration is made). */
  clientId?: string;
  /** Its secret, for confidential clients. */
  clientSecret?: string;
  /** The issuer the pre-registered credentials belong to; other issuers get a fresh registration. Default: any. */
  clientIssuer?: string;
  /** An HTTPS URL of this client's metadata document, used as `client_id` where the server supports it. */
  clientMetadataUrl?: string;
  /** Scope to ask for instead of the server's hints. */
  scope?: string;
  /** Add `offline_access` when the authorization server lists it (to get a refresh token). Default true. */
  offlineAccess?: boolean;
  /** Authorization requests per MCP request before giving up (step-up loops). Default 3. */
  maxAuthorizations?: number;
  /** Timeout of each metadata, registration and token request, ms. Default 10,000. */
  httpTimeoutMs?: number;
  /** Ask for DPoP-bound tokens (RFC 9449) when the authorization server offers ES256 DPoP. Default true. */
  dpop?: boolean;
}

/** What a `WWW-Authenticate: Bearer …` challenge says. */
export interface BearerChallenge {
  error?: string;
  scope?: string;
  resourceMetadata?: string;
}

/** Credentials of this client at one authorization server. */
export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  method: 'none' | 'client_secret_basic' | 'client_secret_post';
}

/** The tokens held for one resource. */
export interface Tokens {
  accessToken: string;
  /** `DPoP` for a sender-constrained token, else `Bearer`. */
  tokenType: 'Bearer' | 'DPoP';
  refreshToken?: string;
  expiresAt?: number;
  issuer: string;
  resource?: string;
}

/** Parses the Bearer challenge of a `WWW-Authenticate` header (auth-params, quoted or not). */
export function parseBearerChallenge(header: string | string[] | undefined): BearerChallenge {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: BearerChallenge = {};
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    const key = m[1]!.toLowerCase();
    if (key === 'error') out.error = value;
    else if (key === 'scope') out.scope = value;
    else if (key === 'resource_metadata') out.resourceMetadata = value;
  }
  return out;
}

