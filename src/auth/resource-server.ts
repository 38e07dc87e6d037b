/**
 * The OAuth 2.1 resource server of the MCP listener (MCP authorization, 2025-06-18 and later):
 *
 * - Protected Resource Metadata (RFC 9728) at `/.well-known/oauth-protected-resource` and at the
 *   path-suffixed form for the MCP path (`/.well-known/oauth-protected-resource/mcp`).
 * - An HTTP guard in front of the MCP handler: every other request needs `Authorization: Bearer`
 *   with a valid token (see {@link TokenVerifier}), else 401 with
 *   `WWW-Authenticate: Bearer resource_metadata="…"` (plus `error="invalid_token"` and a
 *   description when a token was presented but refused). An unreachable authorization server is
 *   a 503 with `Retry-After`, never a pass.
 * - An admission stage in the `auth` phase (after `node`, before halts, limits and rates): it sets
 *   the token's subject as the request's client identity (`clientKey` → `sub:<subject>`) and checks
 *   the scopes `auth.scopes` requires for the tool, resource or prompt: a missing scope is
 *   ANDON_FORBIDDEN_SCOPE, 403 with `error="insufficient_scope", scope="…"`.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AndonError, Errors } from '../errors/catalogue.js';
import { AuthErrors } from '../errors/auth.js';
import type { Stage } from '../admission/pipeline.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { errorResponse } from '../protocol/jsonrpc.js';
import type { IncomingRequest } from '../server/incoming.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { TokenError, TokenVerifier, type AuthInfo } from './verifier.js';

/** Scopes required per tool, resource (exact URI) and prompt; `default` for those without an entry. */
export interface ScopeMap {
  default?: string[];
  tools?: Record<string, string[]>;
  resources?: Record<string, string[]>;
  prompts?: Record<string, string[]>;
}

/** Options of {@link ResourceServer} (the `auth` config section). */
export interface AuthOptions {
  /** The authorization server's issuer identifier; tokens must carry exactly this `iss`. */
  issuer: string;
  /** This resource's canonical URL (RFC 8707 / RFC 9728 `resource`). Default: the MCP listener's URL. */
  resource?: string;
  /** Accepted `aud` values. Default: the resource URL. */
  audience?: string | string[];
  /** Default: `jwks_uri` of the issuer's metadata. */
  jwksUrl?: string;
  /** RFC 7662 introspection for opaque tokens; the credentials come from the named environment variables. */
  introspection?: { url: string; clientIdEnv: string; clientSecretEnv: string };
  /** Default 30. */
  clockSkewSec?: number;
  /** Shortest time between two JWKS re-fetches for unknown key ids, ms. Default 30 000. */
  jwksCooldownMs?: number;
  scopes?: ScopeMap;
  /** The MCP endpoint path (for the path-suffixed metadata URL). Default `/mcp`. */
  path?: string;
  clock?: Clock;
  logger?: Logger;
  /** Where the introspection credentials are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const PRM = '/.well-known/oauth-protected-resource';
/** Sessions whose owner is remembered; past this the oldest binding is forgotten (and re-claimed on its next request). */
const MAX_OWNERS = 100_000;

/** The resource server: metadata document, HTTP guard and admission stage (see the module comment). */
export class ResourceServer {
  readonly verifier: TokenVerifier;
  private resourceUrl: string | undefined;
  /** Tokens the guard validated, by the request's headers object (the transport hands the same object to the stage). */
  private readonly byHeaders = new WeakMap<IncomingHttpHeaders, AuthInfo>();
  private readonly path: string;
  private readonly scopes: ScopeMap;
  /** The subject that opened each 2025 session (bounded, oldest out): another subject cannot use its id. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly o: AuthOptions) {
    if (!o.issuer) throw new AndonError(AuthErrors.Misconfigured, 'ANDON_AUTH_CONFIG: auth.issuer is required when auth is enabled');
    let introspection: { url: string; clientId: string; clientSecret: string } | undefined;
    if (o.introspection) {
      const env = o.env ?? process.env;
      const clientId = env[o.introspection.clientIdEnv];
      const clientSecret = env[o.introspection.clientSecretEnv];
      if (!clientId || !clientSecret) {
        const missing = [!clientId && o.introspection.clientIdEnv, !clientSecret && o.introspection.clientSecretEnv].filter(Boolean).join(', ');
        throw new AndonError(AuthErrors.Misconfigured, `ANDON_AUTH_CONFIG: auth.introspection needs the environment variable(s) ${missing}`);
      }
      introspection = { url: o.introspection.url, clientId, clientSecret };
    }
    this.resourceUrl = o.resource;
    this.path = o.path ?? '/mcp';
    this.scopes = o.scopes ?? {};
    const audience = o.audience === undefined ? undefined : Array.isArray(o.audience) ? o.audience : [o.audience];
    this.verifier = new TokenVerifier({
      issuer: o.issuer,
      audience: () => audience ?? (this.resourceUrl ? [this.resourceUrl] : []),
      jwksUrl: o.jwksUrl,
      introspection,
      clockSkewSec: o.clockSkewSec,
      jwksCooldownMs: o.jwksCooldownMs,
      clock: o.clock,
    });
  }

  /** The resource URL, when configured or known from the listener. */
  get resource(): string | undefined {
    return this.resourceUrl;
  }

  /** Sets the resource URL from the listener once it listens (when the configuration gave none). */
  setResource(url: string): void {
    this.resourceUrl ??= url;
  }

  /** The URL of the protected resource metadata document (path-suffixed, RFC 9728 §3.1). */
  metadataUrl(req?: IncomingMessage): string {
    const u = new URL(this.resourceFor(req));
    return `${u.origin}${PRM}${u.pathname === '/' ? '' : u.pathname}`;
  }

  /** The protected resource metadata document (RFC 9728 §2). */
  metadata(req?: IncomingMessage): Record<string, unknown> {
    const supported = new Set<string>(this.scopes.default ?? []);
    for (const m of [this.scopes.tools, this.scopes.resources, this.scopes.prompts]) for (const list of Object.values(m ?? {})) for (const s of list) supported.add(s);
    return {
      resource: this.resourceFor(req),
      authorization_servers: [this.o.issuer],
      bearer_methods_supported: ['header'],
      ...(supported.size ? { scopes_supported: [...supported] } : {}),
    };
  }

  /**
   * The HTTP guard (serveHttp's `guard`): answers the metadata document and refuses requests
   * without a valid token; resolves false to pass an authenticated request on.
   */
  readonly guard = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (pathname === PRM || pathname.startsWith(`${PRM}/`)) return this.serveMetadata(req, res, pathname);
    // CORS preflights carry no credentials; the handler answers them without touching MCP state.
    if (req.method === 'OPTIONS') return false;
    try {
      const info = await this.authenticate(req);
      const sid = req.headers['mcp-session-id'];
      if (typeof sid === 'string') this.checkOwner(sid, info);
      this.byHeaders.set(req.headers, info);
      return false;
    } catch (err) {
      const e = err as AndonError;
      // No request id is known (the body is not read): MCP's schema omits `id` then.
      const body = JSON.stringify(errorResponse(null, new McpError(e.wireCode ?? ErrorCode.InvalidRequest, e.message, { code: e.code, reason: e.data.reason })));
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      if (typeof e.data.wwwAuthenticate === 'string') headers['www-authenticate'] = e.data.wwwAuthenticate;
      if (e.retryAfterSeconds !== undefined) headers['retry-after'] = e.retryAfterSeconds;
      // The body was not read: close the connection rather than drain an unbounded upload.
      if (req.method === 'POST' && !req.complete) headers.connection = 'close';
      res.writeHead(e.httpStatus ?? 401, headers).end(body);
      return true;
    }
  };

  /**
   * Validates the request's bearer token; rejects with ANDON_UNAUTHENTICATED (401) or
   * ANDON_AUTH_UNAVAILABLE (503), each with its `wwwAuthenticate` challenge in `data`. Other
   * transports (a WebSocket upgrade) call this with their upgrade request.
   */
  async authenticate(req: IncomingMessage): Promise<AuthInfo> {
    const info = await this.authenticateHeaders(req.headers, req);
    // Requests carrying these headers (a legacy SSE POST) reach the stage with the token verified.
    this.byHeaders.set(req.headers, info);
    return info;
  }

  /**
   * For a connection that carries many messages under the token of its opening request (a
   * WebSocket upgrade): validates it like {@link authenticate} and returns, with the token, the
   * headers object to give every message of the connection (`Incoming.headers`). The stage finds
   * the token by that object: the subject and the scope checks apply to each message, and a
   * message after the token's expiry is refused (ANDON_UNAUTHENTICATED: reconnect with a new token).
   */
  async authenticateConnection(req: IncomingMessage): Promise<{ info: AuthInfo; headers: IncomingHttpHeaders }> {
    const info = await this.authenticateHeaders(req.headers, req);
    // Only the credential: the upgrade's other headers (trace context) are not every message's.
    const headers: IncomingHttpHeaders = { authorization: req.headers.authorization };
    this.byHeaders.set(headers, info);
    return { info, headers };
  }

  /** The admission stage of the `auth` phase (subject and scopes). */
  stage(): Stage {
    return {
      name: 'auth',
      phase: 'auth',
      admit: (req) => {
        const h = req.headers;
        // No HTTP headers: stdio (a local process; MCP authorization is for HTTP transports).
        if (h === undefined) return undefined;
        const info = this.byHeaders.get(h);
        if (info !== undefined) return this.authorize(req, info);
        return this.authenticateHeaders(h).then((i) => this.authorize(req, i));
      },
    };
  }

  /** The scopes `req` needs: its tool's, resource's or prompt's entry, else `default`; none for other methods. */
  requiredScopes(req: IncomingRequest): string[] {
    const { method, params } = req.request;
    const p = params as Record<string, unknown> | undefined;
    const s = this.scopes;
    const pick = (m: Record<string, string[]> | undefined, key: unknown) => (typeof key === 'string' && m && Object.hasOwn(m, key) ? m[key]! : (s.default ?? []));
    switch (method) {
      case 'tools/call':
        return pick(s.tools, p?.name);
      case 'prompts/get':
        return pick(s.prompts, p?.name);
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return pick(s.resources, p?.uri);
      default:
        return [];
    }
  }

  private authorize(req: IncomingRequest, info: AuthInfo): AndonError | undefined {
    // A token verified once for a long-lived connection (WebSocket) expires while it is open.
    const skewMs = (this.o.clockSkewSec ?? 30) * 1000;
    if (info.expiresAt !== undefined && info.expiresAt + skewMs <= (this.o.clock?.now() ?? Date.now())) {
      const why = 'the token has expired; reconnect with a new token';
      return new AndonError(Errors.Unauthenticated, `Unauthorized: ${why}`, { reason: why, wwwAuthenticate: this.challenge(undefined, 'the token has expired') });
    }
    if (info.subject !== undefined) req.subject = info.subject;
    if (req.session !== undefined) {
      const refused = this.claim(req.session.id, info);
      if (refused) return refused;
    }
    const need = this.requiredScopes(req);
    const missing = need.filter((x) => !info.scopes.has(x));
    if (missing.length === 0) return undefined;
    const scope = need.join(' ');
    return new AndonError(AuthErrors.ForbiddenScope, `Forbidden: the token lacks the scope ${missing.map((m) => `"${m}"`).join(', ')}`, {
      reason: `missing scope ${missing.join(' ')}`,
      scope,
      wwwAuthenticate: `Bearer error="insufficient_scope", scope="${scope}", resource_metadata="${this.metadataUrl()}", error_description="the token lacks the scope ${missing.join(' ')}"`,
    });
  }

  /** Binds session `sid` to the token's subject on first use; refuses another subject (MCP: bind sessions to the user). */
  private claim(sid: string, info: AuthInfo): AndonError | undefined {
    if (info.subject === undefined) return undefined;
    const owner = this.owners.get(sid);
    if (owner === undefined) {
      if (this.owners.size >= MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(sid, info.subject);
      return undefined;
    }
    return owner === info.subject ? undefined : new AndonError(AuthErrors.SessionMismatch, undefined, { reason: 'the session was opened under another subject' });
  }

  /** The guard's check of a session id header against its owner (GET, DELETE and notifications never reach the stage). */
  private checkOwner(sid: string, info: AuthInfo): void {
    const owner = this.owners.get(sid);
    if (owner !== undefined && owner !== info.subject) throw new AndonError(AuthErrors.SessionMismatch, undefined, { reason: 'the session was opened under another subject' });
  }

  private async authenticateHeaders(h: IncomingHttpHeaders, req?: IncomingMessage): Promise<AuthInfo> {
    const auth = h.authorization;
    const m = typeof auth === 'string' ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(auth) : null;
    if (!m) {
      const why = auth === undefined ? 'no bearer token' : 'the Authorization header is not a bearer token';
      throw new AndonError(Errors.Unauthenticated, `Unauthorized: ${why}`, { reason: why, wwwAuthenticate: this.challenge(req, auth === undefined ? undefined : 'the Authorization header is not a bearer token') });
    }
    try {
      return await this.verifier.verify(m[1]!);
    } catch (err) {
      const t = err instanceof TokenError ? err : new TokenError('invalid_token', 'the token is not valid');
      if (t.kind === 'unavailable') {
        this.o.logger?.warn({ err: t.message }, 'cannot validate a bearer token: the authorization server is unreachable');
        throw new AndonError(AuthErrors.Unavailable, undefined, { retryAfterMs: 5000, reason: t.message });
      }
      throw new AndonError(Errors.Unauthenticated, `Unauthorized: ${t.message}`, { reason: t.message, wwwAuthenticate: this.challenge(req, t.message) });
    }
  }

  /** `WWW-Authenticate` of a 401 (RFC 6750 §3, RFC 9728 §5.1); `invalid` when a token was refused. */
  private challenge(req: IncomingMessage | undefined, invalid: string | undefined): string {
    const parts = [`resource_metadata="${this.metadataUrl(req)}"`];
    if (this.scopes.default?.length) parts.push(`scope="${this.scopes.default.join(' ')}"`);
    if (invalid !== undefined) parts.push('error="invalid_token"', `error_description="${invalid.replace(/["\\]/g, "'")}"`);
    return `Bearer ${parts.join(', ')}`;
  }

  private serveMetadata(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'mcp-protocol-version' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return true;
    }
    const suffix = pathname.slice(PRM.length);
    const resourcePath = new URL(this.resourceFor(req)).pathname;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (suffix !== '' && suffix !== resourcePath)) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'application/json', ...cors }).end(JSON.stringify({ error: 'not_found' }));
      return true;
    }
    const body = JSON.stringify(this.metadata(req));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=300', ...cors }).end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** The resource URL; before the listener reported it, derived from the request (scheme, Host, MCP path). */
  private resourceFor(req: IncomingMessage | undefined): string {
    if (this.resourceUrl !== undefined) return this.resourceUrl;
    const host = req?.headers.host ?? 'localhost';
    const tls = (req?.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
    return `${tls ? 'https' : 'http'}://${host}${this.path}`;
  }
}
