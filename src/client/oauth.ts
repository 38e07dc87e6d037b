/**
 * OAuth 2.1 for the HTTP transports, as the MCP authorization spec describes it (2025-03-26
 * through 2026-07-28): a 401 from the MCP server starts discovery of the protected resource
 * metadata (RFC 9728) and the authorization server metadata (RFC 8414 / OIDC), then client
 * registration (pre-registered, a client ID metadata document, or dynamic registration), the
 * authorization-code flow with PKCE S256 and the `resource` indicator (RFC 8707), the RFC 9207
 * `iss` check, and the token request. A 403 `insufficient_scope` asks again for the union of the
 * scopes held and challenged. Tokens are refreshed when they expire; credentials are kept per
 * authorization server and never reused at another one.
 *
 * The browser step is the application's: `authorize(url)` must send the user to `url` and resolve
 * with the URL the authorization server redirected back to.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ClientError } from './errors.js';
import { base64url, signJwt } from './jwt.js';
import { parseBearerChallenge, type BearerChallenge, type ClientCredentials, type MachineGrant, type OAuthOptions, type Tokens } from './oauth-options.js';
import { authorizationServerMetadata, canonicalResource, protectedResourceMetadata, resourceMatches, type AsMetadata } from './oauth-discovery.js';

export { parseBearerChallenge, type BearerChallenge, type MachineGrant, type OAuthOptions };

/** The OAuth state of one client: credentials per issuer, the current tokens, scopes asked for. */
export class OAuthFlow {
  private tokens: Tokens | undefined;
  private readonly clients = new Map<string, ClientCredentials>();
  private requestedScopes = new Set<string>();
  private inflight: Promise<void> | undefined;
  private readonly redirectUri: string;
  private dpopKey: { privateKey: KeyObject; jwk: JsonWebKey } | undefined;
  private resourceNonce: string | undefined;
  private asNonce: string | undefined;

  constructor(private readonly options: OAuthOptions) {
    this.redirectUri = options.redirectUri ?? 'http://127.0.0.1:33418/callback';
  }

  /** Authorizations allowed per request before the request fails. */
  get maxAuthorizations(): number {
    return this.options.maxAuthorizations ?? 3;
  }

  /**
   * The headers that authorize one HTTP request to the MCP server (`authorization`, and a fresh
   * `dpop` proof for a DPoP-bound token), refreshing an expired token first. Empty before any
   * authorization.
   */
  async headers(method: string, url: URL): Promise<Record<string, string>> {
    const t = this.tokens;
    if (!t) return {};
    if (t.expiresAt !== undefined && t.refreshToken && Date.now() > t.expiresAt - 30_000) {
      await this.single(() => this.refresh(t)).catch(() => {
        // A failed refresh leaves the old token; the server's 401 then starts a new authorization.
      });
    }
    const now = this.tokens;
    if (!now) return {};
    if (now.tokenType === 'DPoP' && this.dpopKey) {
      const ath = base64url(createHash('sha256').update(now.accessToken).digest());
      return { authorization: `DPoP ${now.accessToken}`, dpop: this.dpopProof(method, url.href, { ath, nonce: this.resourceNonce }) };
    }
    return { authorization: `Bearer ${now.accessToken}` };
  }

  /** A `use_dpop_nonce` challenge from the MCP server: remember the nonce for the next proofs. */
  setResourceNonce(nonce: string): void {
    this.resourceNonce = nonce;
  }

  /** An RFC 9449 proof: `typ: dpop+jwt`, the public key in the header, htm/htu/iat/jti (+ath, nonce). */
  private dpopProof(htm: string, htu: string, extra: { ath?: string; nonce?: string } = {}): string {
    const k = this.dpopKey!;
    const u = new URL(htu);
    const payload: Record<string, unknown> = { jti: randomUUID(), htm, htu: `${u.origin}${u.pathname}`, iat: Math.floor(Date.now() / 1000) };
    if (extra.ath) payload.ath = extra.ath;
    if (extra.nonce) payload.nonce = extra.nonce;
    return signJwt(payload, k.privateKey, 'ES256', { typ: 'dpop+jwt', jwk: k.jwk });
  }

  /** Makes the DPoP key on first use (one per flow, so every token is bound to it). */
  private ensureDpopKey(meta: AsMetadata): boolean {
    if (this.options.dpop === false || !meta.dpop_signing_alg_values_supported?.includes('ES256')) return false;
    if (!this.dpopKey) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      this.dpopKey = { privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
    }
    return true;
  }

  /** True once a token is held. */
  get authorized(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * Handles a 401 or a 403 `insufficient_scope` for `serverUrl`. Resolves once a new token is
   * held; rejects with UNAUTHORIZED when it cannot get one. Concurrent challenges share one flow.
   */
  handleChallenge(serverUrl: URL, status: number, challenge: BearerChallenge, protocolVersion: string | undefined): Promise<void> {
    return this.single(async () => {
      const previous = this.tokens;
      if (status === 401 && previous?.refreshToken) {
        // An expired or revoked token: a refresh is cheaper than a new authorization, if it works.
        try {
          await this.refresh(previous);
          if (this.tokens && this.tokens.accessToken !== previous.accessToken) return;
        } catch {
          // Fall through to a full authorization.
        }
      }
      this.tokens = undefined;
      await this.authorizeFlow(serverUrl, status, challenge, protocolVersion);
    });
  }

  private single(fn: () => Promise<void>): Promise<void> {
    if (this.inflight) return this.inflight;
    this.inflight = fn().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async authorizeFlow(serverUrl: URL, status: number, challenge: BearerChallenge, protocolVersion: string | undefined): Promise<void> {
    const prm = await protectedResourceMetadata(serverUrl, challenge.resourceMetadata, (url) => this.getJson(url));
    let issuer: string;
    let resource: string | undefined;
    if (prm) {
      resource = typeof prm.resource === 'string' ? prm.resource : undefined;
      if (resource !== undefined && !resourceMatches(resource, serverUrl)) {
        throw new ClientError('UNAUTHORIZED', `The protected resource metadata names resource ${resource}, which is not this server (${serverUrl.href}); refusing to authorize`);
      }
      const servers = Array.isArray(prm.authorization_servers) ? prm.authorization_servers.filter((s): s is string => typeof s === 'string') : [];
      if (servers.length === 0) throw new ClientError('UNAUTHORIZED', 'The protected resource metadata lists no authorization_servers');
      issuer = servers[0]!;
    } else {
      // 2025-03-26 servers have no resource metadata: the MCP server's origin is the authorization server.
      issuer = serverUrl.origin;
      resource = protocolVersion !== undefined && protocolVersion <= '2025-03-26' ? undefined : canonicalResource(serverUrl);
    }
    const meta = await authorizationServerMetadata(issuer, prm === undefined, (url) => this.getJson(url));
    if (this.options.grant) return this.machineGrant(this.options.grant, issuer, meta, resource, this.chooseScope(status, challenge, prm, meta, false));
    if (!this.options.authorize) throw new ClientError('UNAUTHORIZED', 'The server requires OAuth authorization, but neither oauth.authorize nor oauth.grant was given');
    const client = await this.client(issuer, meta);
    const scope = this.chooseScope(status, challenge, prm, meta);
    const verifier = base64url(randomBytes(32));
    const challengeS256 = base64url(createHash('sha256').update(verifier).digest());
    const state = base64url(randomBytes(16));
    const url = new URL(meta.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('code_challenge', challengeS256);
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    if (scope) url.searchParams.set('scope', scope);
    if (resource !== undefined) url.searchParams.set('resource', resource);
    let callback: URL;
    try {
      callback = new URL(String(await this.options.authorize(url)), this.redirectUri);
    } catch (err) {
      throw new ClientError('UNAUTHORIZED', `Authorization was not completed: ${(err as Error).message}`, { cause: err });
    }
    const q = callback.searchParams;
    if (q.get('error')) throw new ClientError('UNAUTHORIZED', `The authorization server refused: ${q.get('error')}${q.get('error_description') ? ` (${q.get('error_description')})` : ''}`);
    if (q.get('state') !== state) throw new ClientError('UNAUTHORIZED', 'The authorization response has the wrong state; refusing it');
    // RFC 9207: a present iss must be the issuer, compared as plain strings; an advertised one must be present.
    const iss = q.get('iss');
    if (iss !== null && iss !== meta.issuer) throw new ClientError('UNAUTHORIZED', `The authorization response comes from issuer "${iss}", not "${meta.issuer}"; refusing it`);
    if (iss === null && meta.authorization_response_iss_parameter_supported === true) throw new ClientError('UNAUTHORIZED', 'The authorization server promised an iss parameter but the response has none; refusing it');
    const code = q.get('code');
    if (!code) throw new ClientError('UNAUTHORIZED', 'The authorization response has no code');
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, code_verifier: verifier });
    if (resource !== undefined) body.set('resource', resource);
    await this.tokenRequest(meta, client, body, issuer, resource);
    if (scope) for (const s of scope.split(' ')) this.requestedScopes.add(s);
  }

  /** Credentials for `issuer`: cached, pre-registered, a metadata document URL, or a new registration. */
  private async client(issuer: string, meta: AsMetadata): Promise<ClientCredentials> {
    const cached = this.clients.get(issuer);
    if (cached) return cached;
    const o = this.options;
    const supported = meta.token_endpoint_auth_methods_supported;
    let creds: ClientCredentials;
    if (o.clientId && (o.clientIssuer === undefined || o.clientIssuer === issuer)) {
      creds = { clientId: o.clientId, clientSecret: o.clientSecret, method: o.clientSecret ? secretMethod(supported) : 'none' };
    } else if (o.clientMetadataUrl && meta.client_id_metadata_document_supported === true) {
      creds = { clientId: o.clientMetadataUrl, method: 'none' };
    } else if (meta.registration_endpoint) {
      const wanted = supported === undefined || supported.includes('none') ? 'none' : secretMethod(supported);
      const reg = await this.postJson(meta.registration_endpoint, {
        client_name: o.clientName ?? 'andon-mcp-client',
        redirect_uris: [this.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: wanted,
        application_type: 'native',
      });
      if (typeof reg.client_id !== 'string') throw new ClientError('UNAUTHORIZED', 'Dynamic client registration returned no client_id');
      const secret = typeof reg.client_secret === 'string' ? reg.client_secret : undefined;
      const granted = reg.token_endpoint_auth_method;
      const method = granted === 'none' || granted === 'client_secret_basic' || granted === 'client_secret_post' ? granted : secret && !(supported ?? []).includes('none') ? secretMethod(supported) : 'none';
      creds = { clientId: reg.client_id, clientSecret: secret, method };
    } else {
      throw new ClientError('UNAUTHORIZED', `The authorization server ${issuer} has no registration endpoint and no client credentials were configured for it`);
    }
    this.clients.set(issuer, creds);
    return creds;
  }

  /** client_credentials or jwt-bearer: one token request, no browser, no registration. */
  private async machineGrant(grant: MachineGrant, issuer: string, meta: AsMetadata, resource: string | undefined, scope: string | undefined): Promise<void> {
    const o = this.options;
    const body = new URLSearchParams();
    let client: ClientCredentials;
    if (grant.type === 'id_jag') {
      body.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      body.set('assertion', await this.exchangeForIdJag(grant, meta.issuer, resource, scope));
      client = { clientId: o.clientId ?? '', clientSecret: o.clientSecret, method: o.clientSecret ? secretMethod(meta.token_endpoint_auth_methods_supported) : 'none' };
    } else if (grant.type === 'jwt_bearer') {
      body.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      body.set('assertion', typeof grant.assertion === 'function' ? await grant.assertion() : grant.assertion);
      client = { clientId: o.clientId ?? '', clientSecret: o.clientSecret, method: o.clientSecret ? secretMethod(meta.token_endpoint_auth_methods_supported) : 'none' };
    } else {
      if (!o.clientId) throw new ClientError('UNAUTHORIZED', 'The client_credentials grant needs oauth.clientId');
      body.set('grant_type', 'client_credentials');
      if (grant.privateKeyPem) {
        // private_key_jwt (RFC 7523 §2.2): a short-lived assertion signed with the client's key.
        const now = Math.floor(Date.now() / 1000);
        const jwt = signJwt({ iss: o.clientId, sub: o.clientId, aud: meta.issuer, iat: now, exp: now + 300, jti: randomUUID() }, grant.privateKeyPem, grant.signingAlgorithm ?? 'ES256');
        body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        body.set('client_assertion', jwt);
        client = { clientId: o.clientId, method: 'none' };
      } else {
        client = { clientId: o.clientId, clientSecret: o.clientSecret, method: o.clientSecret ? secretMethod(meta.token_endpoint_auth_methods_supported) : 'none' };
      }
    }
    if (scope) body.set('scope', scope);
    if (resource !== undefined) body.set('resource', resource);
    // No client id to send (a bare workload assertion): the assertion identifies the client.
    await this.tokenRequest(meta, client, body, issuer, resource, undefined, client.clientId === '');
  }

  /** RFC 8693 token exchange at the IdP: ID token in, an ID-JAG for `audience` (the MCP authorization server) out. */
  private async exchangeForIdJag(grant: Extract<MachineGrant, { type: 'id_jag' }>, audience: string, resource: string | undefined, scope: string | undefined): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: typeof grant.idToken === 'function' ? await grant.idToken() : grant.idToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience,
    });
    if (resource !== undefined) body.set('resource', resource);
    if (scope) body.set('scope', scope);
    if (grant.idpClientId) body.set('client_id', grant.idpClientId);
    const res = await this.fetch(grant.idpTokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() });
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok || typeof json?.access_token !== 'string') {
      throw new ClientError('UNAUTHORIZED', `The token exchange at ${grant.idpTokenEndpoint} failed: ${typeof json?.error === 'string' ? json.error : `HTTP ${res.status}`}`, { status: res.status });
    }
    return json.access_token;
  }

  /** Scope: explicit option, else the challenge's (with what was asked before), else the PRM's; plus offline_access when offered. */
  private chooseScope(status: number, challenge: BearerChallenge, prm: Record<string, any> | undefined, meta: AsMetadata, offline = true): string | undefined {
    const scopes: string[] = [];
    const add = (s: string | undefined) => {
      for (const x of (s ?? '').split(/\s+/)) if (x && !scopes.includes(x)) scopes.push(x);
    };
    if (this.options.scope) add(this.options.scope);
    else if (challenge.scope) {
      // Step-up (SEP-2350): ask for the union of what was granted before and what is challenged.
      if (status === 403) for (const s of this.requestedScopes) add(s);
      add(challenge.scope);
    } else if (Array.isArray(prm?.scopes_supported)) add((prm.scopes_supported as unknown[]).filter((s) => typeof s === 'string').join(' '));
    if (offline && this.options.offlineAccess !== false && meta.scopes_supported?.includes('offline_access')) add('offline_access');
    return scopes.length ? scopes.join(' ') : undefined;
  }

  private async refresh(t: Tokens): Promise<void> {
    const meta = await authorizationServerMetadata(t.issuer, false, (url) => this.getJson(url)).catch(() => undefined);
    const client = this.clients.get(t.issuer);
    if (!meta || !client || !t.refreshToken) throw new ClientError('UNAUTHORIZED', 'Cannot refresh the token');
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refreshToken });
    if (t.resource !== undefined) body.set('resource', t.resource);
    await this.tokenRequest(meta, client, body, t.issuer, t.resource, t.refreshToken);
  }

  private async tokenRequest(meta: AsMetadata, client: ClientCredentials, body: URLSearchParams, issuer: string, resource: string | undefined, oldRefresh?: string, anonymous = false): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (client.method === 'client_secret_basic' && client.clientSecret !== undefined) {
      // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
    } else if (!anonymous) {
      body.set('client_id', client.clientId);
      if (client.method === 'client_secret_post' && client.clientSecret !== undefined) body.set('client_secret', client.clientSecret);
    }
    const dpop = this.ensureDpopKey(meta);
    let res: Response;
    let json: Record<string, unknown> | undefined;
    for (let attempt = 0; ; attempt++) {
      if (dpop) headers.dpop = this.dpopProof('POST', meta.token_endpoint, { nonce: this.asNonce });
      res = await this.fetch(meta.token_endpoint, { method: 'POST', headers, body: body.toString() });
      json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      // RFC 9449 §8: the authorization server wants a nonce in the proof; retry once with it.
      const nonce = res.headers.get('dpop-nonce');
      if (dpop && attempt === 0 && json?.error === 'use_dpop_nonce' && nonce) {
        this.asNonce = nonce;
        continue;
      }
      break;
    }
    if (!res.ok || !json || typeof json.access_token !== 'string') {
      const why = json && typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : `HTTP ${res.status}`;
      throw new ClientError('UNAUTHORIZED', `The token request to ${meta.token_endpoint} failed: ${why}`, { status: res.status });
    }
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : undefined;
    this.tokens = {
      accessToken: json.access_token,
      tokenType: dpop && String(json.token_type).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
      refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : oldRefresh,
      expiresAt: expiresIn !== undefined ? Date.now() + expiresIn * 1000 : undefined,
      issuer,
      resource,
    };
  }

  private async getJson(url: string): Promise<Record<string, any> | undefined> {
    let res: Response;
    try {
      res = await this.fetch(url, { headers: { accept: 'application/json' } });
    } catch {
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    const doc = (await res.json().catch(() => undefined)) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, any>) : undefined;
  }

  private async postJson(url: string, body: unknown): Promise<Record<string, any>> {
    const res = await this.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json().catch(() => undefined)) as Record<string, any> | undefined;
    if (!res.ok || !json) throw new ClientError('UNAUTHORIZED', `Client registration at ${url} failed with HTTP ${res.status}`, { status: res.status });
    return json;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 10_000) });
    } catch (err) {
      throw new ClientError('UNAUTHORIZED', `OAuth request to ${url} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** `client_secret_basic` unless only `client_secret_post` is supported. */
function secretMethod(supported: string[] | undefined): 'client_secret_basic' | 'client_secret_post' {
  if (supported && !supported.includes('client_secret_basic') && supported.includes('client_secret_post')) return 'client_secret_post';
  return 'client_secret_basic';
}
