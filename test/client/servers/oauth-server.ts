/**
 * An OAuth-protected MCP endpoint for the client tests: andon-mcp's Streamable HTTP handler behind
 * a bearer check, with the protected resource metadata (RFC 9728) and a small authorization server
 * (RFC 8414 metadata, dynamic registration, authorization code + PKCE S256, refresh tokens,
 * client credentials) on the same origin. `tools/call` (by its 2026 Mcp-Method header) needs the
 * `mcp:write` scope, everything else `mcp:read`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHttpHandler } from '../../../src/index.js';
import { buildClientFixture } from './fixture.js';

/** How the authorization server misbehaves, and what it recorded. */
export interface OAuthServerOptions {
  /** `iss` in the redirect: right, wrong, or left out (the metadata always advertises it). */
  iss?: 'correct' | 'wrong' | 'omit';
  /** Override the PRM `resource` (to test the mismatch check). */
  prmResource?: string;
  /** Token lifetime in seconds. Default 3600. */
  expiresIn?: number;
}

export interface OAuthServer {
  url: string;
  base: string;
  log: { registrations: number; authorizations: Array<{ scope: string | null; resource: string | null }>; tokens: string[] };
  close(): Promise<void>;
}

export async function serveOAuthProtected(opts: OAuthServerOptions = {}): Promise<OAuthServer> {
  const mcp = new StreamableHttpHandler(buildClientFixture());
  const log: OAuthServer['log'] = { registrations: 0, authorizations: [], tokens: [] };
  const codes = new Map<string, { challenge: string; scope: string; resource: string | null }>();
  const tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  const refresh = new Map<string, string[]>();
  let n = 0;
  let base = '';

  const issue = (scopes: string[]) => {
    const access = `at-${++n}`;
    const rt = `rt-${n}`;
    tokens.set(access, { scopes, expiresAt: Date.now() + (opts.expiresIn ?? 3600) * 1000 });
    refresh.set(rt, scopes);
    return { access_token: access, token_type: 'Bearer', expires_in: opts.expiresIn ?? 3600, refresh_token: rt, scope: scopes.join(' ') };
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
  const body = async (req: IncomingMessage) => {
    let t = '';
    for await (const c of req) t += (c as Buffer).toString();
    return t;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', base);
      const prm = `${base}/.well-known/oauth-protected-resource/mcp`;
      if (u.pathname === '/.well-known/oauth-protected-resource/mcp') return json(res, 200, { resource: opts.prmResource ?? `${base}/mcp`, authorization_servers: [base], scopes_supported: ['mcp:read'] });
      if (u.pathname === '/.well-known/oauth-authorization-server') {
        return json(res, 200, {
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
          authorization_response_iss_parameter_supported: true,
          scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'],
        });
      }
      if (u.pathname === '/register' && req.method === 'POST') {
        log.registrations++;
        const reg = JSON.parse(await body(req)) as { redirect_uris: string[] };
        return json(res, 201, { client_id: `client-${log.registrations}`, redirect_uris: reg.redirect_uris, token_endpoint_auth_method: 'none' });
      }
      if (u.pathname === '/authorize') {
        const q = u.searchParams;
        log.authorizations.push({ scope: q.get('scope'), resource: q.get('resource') });
        const code = `code-${++n}`;
        codes.set(code, { challenge: q.get('code_challenge') ?? '', scope: q.get('scope') ?? '', resource: q.get('resource') });
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        if (opts.iss !== 'omit') back.searchParams.set('iss', opts.iss === 'wrong' ? 'https://evil.example.com' : base);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (u.pathname === '/token' && req.method === 'POST') {
        const f = new URLSearchParams(await body(req));
        const grant = f.get('grant_type')!;
        log.tokens.push(grant);
        if (grant === 'authorization_code') {
          const c = codes.get(f.get('code') ?? '');
          const verifier = f.get('code_verifier') ?? '';
          if (!c || createHash('sha256').update(verifier).digest('base64url') !== c.challenge || f.get('resource') !== c.resource) return json(res, 400, { error: 'invalid_grant' });
          codes.delete(f.get('code')!);
          return json(res, 200, issue(c.scope.split(' ').filter(Boolean)));
        }
        if (grant === 'refresh_token') {
          const scopes = refresh.get(f.get('refresh_token') ?? '');
          return scopes ? json(res, 200, issue(scopes)) : json(res, 400, { error: 'invalid_grant' });
        }
        if (grant === 'client_credentials') {
          const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
          return basic === 'robot:s3cret' ? json(res, 200, issue(['mcp:read', 'mcp:write'])) : json(res, 401, { error: 'invalid_client' });
        }
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      if (u.pathname === '/mcp') {
        const auth = req.headers.authorization ?? '';
        const t = tokens.get(auth.replace(/^Bearer /, ''));
        const need = req.headers['mcp-method'] === 'tools/call' ? 'mcp:write' : 'mcp:read';
        if (!t || t.expiresAt < Date.now()) {
          return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': `Bearer error="invalid_token", scope="mcp:read", resource_metadata="${prm}"` });
        }
        if (!t.scopes.includes(need)) {
          return json(res, 403, { error: 'insufficient_scope' }, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${need}", resource_metadata="${prm}"` });
        }
        return mcp.handle(req, res);
      }
      res.writeHead(404).end();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/mcp`,
    base,
    log,
    async close() {
      await mcp.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
