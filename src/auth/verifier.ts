/**
 * Bearer-token validation for the resource server. A JWT access token is verified with `jose`
 * against the authorization server's JWKS (`createRemoteJWKSet`: fetched once, cached, re-fetched
 * when a token names an unknown key id, so key rotation needs no restart): signature, `iss` equal
 * to the configured issuer, `aud` containing this resource (RFC 8707), `exp` required and checked
 * with a small clock skew on the injected clock. An opaque token (not a JWS) goes to the token
 * introspection endpoint (RFC 7662) when one is configured, authenticated with client credentials
 * read from environment variables. Valid results are cached until the token expires (at most
 * `cacheMs`), so a session's requests cost one map lookup.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { systemClock, type Clock } from '../util/clock.js';

/** What a valid token grants. */
export interface AuthInfo {
  /** The token's `sub` (or, for a token without one, its `client_id`). */
  subject: string | undefined;
  clientId: string | undefined;
  scopes: ReadonlySet<string>;
  /** Expiry, ms since the epoch (undefined when the token has none: introspection only). */
  expiresAt: number | undefined;
  /** The verified claims (JWT) or the introspection response. */
  claims: Record<string, unknown>;
}

/** Why a token is refused; `unavailable` means the authorization server could not be asked. */
export class TokenError extends Error {
  constructor(
    readonly kind: 'invalid_token' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link TokenVerifier}. */
export interface VerifierOptions {
  /** Exact `iss` every token must carry. */
  issuer: string;
  /** Accepted `aud` values (the resource URL, RFC 8707). A function: resolved per token (the URL is known after listen). */
  audience: () => string[];
  /** JWKS URL; default `jwks_uri` of the issuer's metadata (RFC 8414, then OpenID discovery). */
  jwksUrl?: string;
  /** RFC 7662 introspection for opaque tokens. */
  introspection?: { url: string; clientId: string; clientSecret: string };
  /** Accepted clock skew for `exp`/`nbf`, seconds. Default 30. */
  clockSkewSec?: number;
  /** Longest a valid result is cached, ms. Default 60 000. */
  cacheMs?: number;
  /** Largest number of cached tokens. Default 10 000. */
  cacheSize?: number;
  clock?: Clock;
  /** Timeout of JWKS, metadata and introspection requests, ms. Default 5000. */
  timeoutMs?: number;
  /** Shortest time between two JWKS fetches triggered by unknown key ids, ms. Default 30 000 (jose's). */
  jwksCooldownMs?: number;
}

type Jwks = ReturnType<typeof createRemoteJWKSet>;

/** Signature algorithms accepted: asymmetric only (no `none`, no HMAC with a published key). */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Validates bearer tokens (see the module comment). */
export class TokenVerifier {
  private jwks: Promise<Jwks> | undefined;
  private readonly cache = new Map<string, { info: AuthInfo; until: number }>();
  private readonly clock: Clock;

  constructor(private readonly o: VerifierOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** The cached result of `token`, when it is still valid. */
  cached(token: string): AuthInfo | undefined {
    const hit = this.cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.until > this.clock.now()) return hit.info;
    this.cache.delete(token);
    return undefined;
  }

  /** Validates `token`; rejects with a {@link TokenError}. */
  async verify(token: string): Promise<AuthInfo> {
    const hit = this.cached(token);
    if (hit) return hit;
    const info = isJws(token) ? await this.verifyJwt(token) : await this.introspect(token);
    const now = this.clock.now();
    const until = Math.min(now + (this.o.cacheMs ?? 60_000), info.expiresAt ?? Infinity);
    if (until > now) {
      if (this.cache.size >= (this.o.cacheSize ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, { info, until });
    }
    return info;
  }

  private async verifyJwt(token: string): Promise<AuthInfo> {
    const jwks = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.o.issuer,
        audience: this.o.audience(),
        clockTolerance: this.o.clockSkewSec ?? 30,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp'],
        algorithms: ASYMMETRIC,
      }));
    } catch (err) {
      throw joseFailure(err);
    }
    return infoOf(payload as Record<string, unknown>);
  }

  private async introspect(token: string): Promise<AuthInfo> {
    const i = this.o.introspection;
    if (!i) throw new TokenError('invalid_token', 'the token is not a JWT and no introspection endpoint is configured');
    let body: Record<string, unknown>;
    try {
      const res = await fetch(i.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(i.clientId)}:${encodeURIComponent(i.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      });
      if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
      body = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      throw new TokenError('unavailable', `token introspection failed: ${(err as Error).message}`);
    }
    if (body.active !== true) throw new TokenError('invalid_token', 'the token is not active');
    if (body.iss !== undefined && body.iss !== this.o.issuer) throw new TokenError('invalid_token', 'the token was issued by another issuer');
    if (body.aud !== undefined) {
      const aud = Array.isArray(body.aud) ? body.aud : [body.aud];
      const ok = this.o.audience();
      if (!aud.some((a) => ok.includes(String(a)))) throw new TokenError('invalid_token', 'the token is not meant for this resource (audience)');
    }
    const info = infoOf(body);
    if (info.expiresAt !== undefined && info.expiresAt + (this.o.clockSkewSec ?? 30) * 1000 <= this.clock.now()) throw new TokenError('invalid_token', 'the token has expired');
    return info;
  }

  /** The remote key set, from `jwksUrl` or the issuer's metadata (fetched once). */
  private keySet(): Promise<Jwks> {
    this.jwks ??= this.jwksUri().then(
      (uri) => createRemoteJWKSet(new URL(uri), { timeoutDuration: this.o.timeoutMs ?? 5000, cooldownDuration: this.o.jwksCooldownMs ?? 30_000 }),
      (err: unknown) => {
        this.jwks = undefined; // try the discovery again with the next token
        throw err;
      },
    );
    return this.jwks;
  }

  private async jwksUri(): Promise<string> {
    if (this.o.jwksUrl) return this.o.jwksUrl;
    const base = this.o.issuer.replace(/\/$/, '');
    const u = new URL(base);
    // RFC 8414 §3.1: the well-known suffix goes between the host and the issuer's path.
    const candidates = [`${u.origin}/.well-known/oauth-authorization-server${u.pathname === '/' ? '' : u.pathname}`, `${base}/.well-known/openid-configuration`];
    for (const c of candidates) {
      try {
        const res = await fetch(c, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000) });
        if (!res.ok) continue;
        const meta = (await res.json()) as { jwks_uri?: unknown };
        if (typeof meta.jwks_uri === 'string') return meta.jwks_uri;
      } catch {
        // next candidate
      }
    }
    throw new TokenError('unavailable', `no jwks_uri in the metadata of issuer ${this.o.issuer}`);
  }
}

/** A compact JWS has three base64url parts and a decodable protected header. */
function isJws(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

function infoOf(c: Record<string, unknown>): AuthInfo {
  const scope = typeof c.scope === 'string' ? c.scope.split(' ') : Array.isArray(c.scp) ? c.scp.map(String) : typeof c.scp === 'string' ? c.scp.split(' ') : [];
  const clientId = typeof c.client_id === 'string' ? c.client_id : typeof c.azp === 'string' ? c.azp : undefined;
  return {
    subject: typeof c.sub === 'string' ? c.sub : clientId,
    clientId,
    scopes: new Set(scope.filter(Boolean)),
    expiresAt: typeof c.exp === 'number' ? c.exp * 1000 : undefined,
    claims: c,
  };
}

/** jose's failure as a TokenError with a description safe to send back. */
function joseFailure(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  const e = err as { code?: string; claim?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenError('invalid_token', 'the token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return new TokenError('invalid_token', 'the token is not meant for this resource (audience)');
      if (e.claim === 'iss') return new TokenError('invalid_token', 'the token was issued by another issuer');
      return new TokenError('invalid_token', `the token's "${e.claim ?? '?'}" claim is not valid`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new TokenError('invalid_token', 'the token signature is not valid');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new TokenError('invalid_token', 'no key of the authorization server matches the token');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return new TokenError('unavailable', `the authorization server's key set could not be loaded (${e.code})`);
    case undefined:
      // fetch failures of the key set (connection refused) carry no jose code
      return new TokenError('unavailable', `the authorization server's key set could not be loaded: ${e.message ?? String(err)}`);
    default:
      return new TokenError('invalid_token', 'the token is not valid');
  }
}
