/**
 * An OAuth 2.1 authorization server stand-in for tests, on node:http at 127.0.0.1: RFC 8414
 * metadata, a JWKS (ES256 keys made with jose), dynamic client registration, the authorization
 * endpoint (answers at once with a redirect carrying the code), the token endpoint
 * (authorization_code with PKCE S256; the token's `aud` is the RFC 8707 `resource`), and RFC 7662
 * introspection of opaque tokens (client credentials `rs-client:rs-secret`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface StandIn {
  issuer: string;
  /** Signs an access token with the current key; `claims` override the defaults (iss, sub alice, exp +5 min). */
  sign(claims: JWTPayload & { aud?: string | string[] }, opts?: { key?: CryptoKey; kid?: string; expSec?: number }): Promise<string>;
  /** A key the JWKS does not publish, with the published kid (a forged signature). */
  forgeKey: CryptoKey;
  kid: string;
  /** Opaque tokens introspection knows: token → response. */
  opaque: Map<string, Record<string, unknown>>;
  introspections: number;
  /** The private key `rotate()` retired (its kid is no longer published). */
  retiredKey: CryptoKey | undefined;
  /** Publishes a new key (kid `k2`, …) in place of the current one and signs with it from now on. */
  rotate(): Promise<string>;
  /** What the token endpoint was asked (form fields), last first. */
  tokenRequests: Array<Record<string, string>>;
  close(): Promise<void>;
}

export async function startAuthServer(): Promise<StandIn> {
  let { publicKey, privateKey } = await generateKeyPair('ES256');
  const forge = await generateKeyPair('ES256');
  let kid = 'k1';
  let jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { challenge: string; resource?: string; scope?: string; redirectUri: string }>();
  const opaque = new Map<string, Record<string, unknown>>();
  const tokenRequests: Array<Record<string, string>> = [];
  let issuer = '';
  const state: { introspections: number; retired?: CryptoKey } = { introspections: 0 };

  const sign: StandIn['sign'] = async (claims, opts = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const { aud, ...rest } = claims;
    const jwt = new SignJWT({ sub: 'alice', iss: issuer, iat: now, exp: now + (opts.expSec ?? 300), ...rest }).setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? kid, typ: 'at+jwt' });
    if (aud !== undefined) jwt.setAudience(aud);
    return jwt.sign(opts.key ?? privateKey);
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const form = async (req: IncomingMessage): Promise<Record<string, string>> => {
    let s = '';
    for await (const c of req) s += String(c);
    return req.headers['content-type']?.includes('json') ? (JSON.parse(s) as Record<string, string>) : Object.fromEntries(new URLSearchParams(s));
  };

  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', issuer);
      if (u.pathname === '/.well-known/oauth-authorization-server' || u.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer,
          jwks_uri: `${issuer}/jwks`,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          registration_endpoint: `${issuer}/register`,
          introspection_endpoint: `${issuer}/introspect`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
          authorization_response_iss_parameter_supported: true,
        });
      }
      if (u.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
      if (u.pathname === '/register' && req.method === 'POST') {
        const body = await form(req);
        return json(res, 201, { ...body, client_id: `client-${randomBytes(4).toString('hex')}`, client_id_issued_at: Math.floor(Date.now() / 1000), token_endpoint_auth_method: 'none' });
      }
      if (u.pathname === '/authorize') {
        const p = u.searchParams;
        const code = randomBytes(12).toString('hex');
        codes.set(code, { challenge: p.get('code_challenge') ?? '', resource: p.get('resource') ?? undefined, scope: p.get('scope') ?? undefined, redirectUri: p.get('redirect_uri') ?? '' });
        const back = new URL(p.get('redirect_uri')!);
        back.searchParams.set('code', code);
        if (p.get('state')) back.searchParams.set('state', p.get('state')!);
        back.searchParams.set('iss', issuer);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (u.pathname === '/token' && req.method === 'POST') {
        const f = await form(req);
        tokenRequests.unshift(f);
        const c = codes.get(f.code ?? '');
        if (f.grant_type !== 'authorization_code' || !c) return json(res, 400, { error: 'invalid_grant' });
        codes.delete(f.code!);
        const pkce = createHash('sha256').update(f.code_verifier ?? '').digest('base64url');
        if (pkce !== c.challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        const resource = f.resource ?? c.resource;
        const scope = f.scope ?? c.scope ?? '';
        const token = await sign({ aud: resource, scope });
        return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 300, scope }, { 'cache-control': 'no-store' });
      }
      if (u.pathname === '/introspect' && req.method === 'POST') {
        state.introspections++;
        if (req.headers.authorization !== `Basic ${Buffer.from('rs-client:rs-secret').toString('base64')}`) return json(res, 401, { error: 'invalid_client' });
        const f = await form(req);
        return json(res, 200, opaque.get(f.token ?? '') ?? { active: false });
      }
      json(res, 404, { error: 'not_found' });
    })().catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign,
    forgeKey: forge.privateKey,
    kid,
    opaque,
    get introspections() {
      return state.introspections;
    },
    tokenRequests,
    get retiredKey() {
      return state.retired;
    },
    async rotate() {
      state.retired = privateKey;
      ({ publicKey, privateKey } = await generateKeyPair('ES256'));
      kid = `k${Number(kid.slice(1)) + 1}`;
      jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
      return kid;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
