/**
 * The OAuth 2.1 resource server on a real runtime, against an authorization server stand-in
 * (test/security/auth-server.ts): the protected resource metadata document, 401 with the right
 * `WWW-Authenticate` for no/expired/wrong-audience/wrong-issuer/forged tokens, 403 naming the
 * missing scope, the subject as the client identity, introspection of opaque tokens, both eras,
 * and the official SDK client's OAuth flow (discovery, registration, PKCE, resource indicator).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { createServer, createRuntime, type Runtime } from '../../src/index.js';
import { createClient } from '../../src/client/index.js';
import { clientKey } from '../../src/server/incoming.js';
import { post, post26 } from '../helpers/mcp-http.js';
import { startAuthServer, type StandIn } from './auth-server.js';
import { SignJWT } from 'jose';
import type { IncomingMessage } from 'node:http';
import { ResourceServer } from '../../src/auth/resource-server.js';
import { AndonError } from '../../src/errors/catalogue.js';

let as: StandIn;
let rt: Runtime;
let url: string;
let stateDir: string;
const keys: string[] = [];

before(async () => {
  as = await startAuthServer();
  const server = createServer({ name: 'protected', version: '1' });
  server.tool('add', { annotations: { readOnlyHint: true } }, ({ a, b }: { a: number; b: number }) => String(a + b));
  server.tool('divide', { annotations: { readOnlyHint: true } }, ({ a, b }: { a: number; b: number }) => String(a / b));
  stateDir = await mkdtemp(join(tmpdir(), 'andon-oauth-'));
  rt = createRuntime({
    server,
    stateDir,
    http: {
      port: 0,
      auth: {
        issuer: as.issuer,
        scopes: { tools: { divide: ['calc:write'] } },
        introspection: { url: `${as.issuer}/introspect`, clientIdEnv: 'RS_ID', clientSecretEnv: 'RS_SECRET' },
        env: { RS_ID: 'rs-client', RS_SECRET: 'rs-secret' },
        jwksCooldownMs: 0,
      },
    },
    ops: false,
    observability: false,
    signals: false,
    adminToken: 't',
  });
  // A later stage (halt phase) sees the identity the auth stage set.
  rt.admission.use({ name: 'who', phase: 'halt', admit: (req) => void keys.push(clientKey(req)) });
  await rt.start();
  url = rt.url!;
});
after(async () => {
  await rt.drain('test end');
  await as.close();
  await rm(stateDir, { recursive: true, force: true });
});

const metadataUrl = () => `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`;
const init = (id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'oauth-test', version: '1' } } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Initializes a 2025 session with `token`; returns its headers for the next requests. */
async function session(token: string): Promise<Record<string, string>> {
  const r = await post(url, init(), bearer(token));
  assert.equal(r.status, 200, r.text);
  const h = { ...bearer(token), 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  const n = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  assert.equal(n.status, 202);
  return h;
}

test('the protected resource metadata document (RFC 9728) names this resource, the issuer and the scopes', async () => {
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const res = await fetch(`${new URL(url).origin}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await res.json(), { resource: url, authorization_servers: [as.issuer], bearer_methods_supported: ['header'], scopes_supported: ['calc:write'] });
  }
  assert.equal((await fetch(`${new URL(url).origin}/.well-known/oauth-protected-resource/other`)).status, 404);
});

test('no token → 401 with resource_metadata and no error code', async () => {
  const r = await post(url, init());
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl()}"`);
  assert.equal(r.response.error.data.code, 'ANDON_UNAUTHENTICATED');
  // GET (the standalone stream) and DELETE need the token too.
  assert.equal((await fetch(url, { headers: { accept: 'text/event-stream' } })).status, 401);
  assert.equal((await fetch(url, { method: 'DELETE' })).status, 401);
  // Not a bearer token.
  const basic = await post(url, init(), { authorization: 'Basic dXNlcjpwdw==' });
  assert.equal(basic.status, 401);
  assert.match(basic.headers.get('www-authenticate')!, /error="invalid_token"/);
});

test('expired, wrong audience, wrong issuer, forged signature → 401 invalid_token with a description', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Promise<string>, RegExp]> = [
    ['expired', as.sign({ aud: url, exp: now - 120, iat: now - 600 }), /expired/],
    ['wrong audience', as.sign({ aud: 'https://other.example/mcp' }), /audience/],
    ['wrong issuer', as.sign({ aud: url, iss: 'https://evil.example' }), /issuer/],
    ['issuer with a trailing slash (exact match)', as.sign({ aud: url, iss: `${as.issuer}/` }), /issuer/],
    ['forged signature', as.sign({ aud: url }, { key: as.forgeKey }), /signature/],
    ['no exp', as.sign({ aud: url, exp: undefined }), /exp/],
    ['HMAC (symmetric) signature', new SignJWT({ sub: 'mallory', aud: url, iss: as.issuer }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32))), /not valid/],
    ['garbage', Promise.resolve('not-a-jwt-and-unknown-to-introspection'), /not active/],
  ];
  for (const [name, token, why] of cases) {
    const r = await post(url, init(), bearer(await token));
    assert.equal(r.status, 401, name);
    const h = r.headers.get('www-authenticate')!;
    assert.ok(h.startsWith(`Bearer resource_metadata="${metadataUrl()}", error="invalid_token", error_description="`), `${name}: ${h}`);
    assert.match(h, why, name);
  }
});

test('a valid token → 200; the token within the clock skew still passes; the subject becomes the client identity', async () => {
  const now = Math.floor(Date.now() / 1000);
  const h = await session(await as.sign({ aud: url, sub: 'alice' }));
  keys.length = 0;
  const r = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }, h);
  assert.equal(r.status, 200);
  assert.deepEqual(r.response.result.content, [{ type: 'text', text: '5' }]);
  assert.deepEqual(keys, ['sub:alice']);
  // Expired 10 s ago: inside the default 30 s skew.
  const late = await post(url, init(), bearer(await as.sign({ aud: url, sub: 'bob', exp: now - 10, iat: now - 300 })));
  assert.equal(late.status, 200);
});

test('a missing scope → 403 insufficient_scope naming the scope; with the scope → 200', async () => {
  const h = await session(await as.sign({ aud: url, scope: 'calc:read' }));
  const r = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'divide', arguments: { a: 6, b: 3 } } }, h);
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('www-authenticate'), `Bearer error="insufficient_scope", scope="calc:write", resource_metadata="${metadataUrl()}", error_description="the token lacks the scope calc:write"`);
  assert.equal(r.response.error.data.code, 'ANDON_FORBIDDEN_SCOPE');
  assert.equal(r.response.error.data.scope, 'calc:write');
  // Tools without an entry need no scope.
  assert.equal((await post(url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 } } }, h)).status, 200);

  const ok = await session(await as.sign({ aud: url, scope: 'calc:read calc:write' }));
  const r2 = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'divide', arguments: { a: 6, b: 3 } } }, ok);
  assert.equal(r2.status, 200);
  assert.deepEqual(r2.response.result.content, [{ type: 'text', text: '2' }]);
});

test("a 2025 session is bound to the subject that opened it: another token's subject gets 404 on POST, GET and DELETE", async () => {
  const alice = await session(await as.sign({ aud: url, sub: 'alice' }));
  const bob = { ...alice, ...bearer(await as.sign({ aud: url, sub: 'bob' })) };
  const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 } } };
  const stolen = await post(url, call, bob);
  assert.equal(stolen.status, 404);
  assert.equal(stolen.response.error.data.code, 'ANDON_SESSION_SUBJECT_MISMATCH');
  assert.equal((await fetch(url, { headers: { ...bob, accept: 'text/event-stream' } })).status, 404);
  assert.equal((await fetch(url, { method: 'DELETE', headers: bob })).status, 404);
  // The owner goes on (the DELETE above did not end the session).
  const mine = await post(url, { ...call, id: 8 }, alice);
  assert.equal(mine.status, 200, mine.text);
});

test('2026 era: stateless requests carry the token too (401 without, 403 for the scope, 200 with)', async () => {
  const tok = await as.sign({ aud: url, scope: 'calc:write' });
  const none = await post26(url, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } });
  assert.equal(none.status, 401);
  const weak = await post26(url, 'tools/call', { name: 'divide', arguments: { a: 1, b: 2 } }, { headers: bearer(await as.sign({ aud: url })) });
  assert.equal(weak.status, 403);
  assert.match(weak.headers.get('www-authenticate')!, /insufficient_scope/);
  const good = await post26(url, 'tools/call', { name: 'divide', arguments: { a: 1, b: 2 } }, { headers: bearer(tok) });
  assert.equal(good.status, 200, good.text);
  // Our client with a static bearer header, in whichever era it negotiates.
  const c = createClient(url, { headers: bearer(tok) });
  await c.connect();
  assert.deepEqual((await c.callTool('divide', { a: 9, b: 3 })).content, [{ type: 'text', text: '3' }]);
  await c.close();
});

test('an opaque token is introspected (RFC 7662) with the credentials from the environment', async () => {
  const now = Math.floor(Date.now() / 1000);
  as.opaque.set('opaque-good', { active: true, sub: 'carol', scope: 'calc:write', aud: url, iss: as.issuer, exp: now + 300 });
  as.opaque.set('opaque-other-aud', { active: true, sub: 'dave', aud: 'https://other.example/mcp', exp: now + 300 });
  const before = as.introspections;
  keys.length = 0;
  const h = await session('opaque-good');
  const r = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'divide', arguments: { a: 8, b: 2 } } }, h);
  assert.equal(r.status, 200);
  assert.ok(keys.every((k) => k === 'sub:carol') && keys.length >= 1);
  assert.equal(as.introspections - before, 1, 'one introspection, then the cached result');
  const bad = await post(url, init(), bearer('opaque-other-aud'));
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate')!, /audience/);
});

test('key rotation: a token signed with a newly published key is accepted without a restart; the retired key no longer verifies', async () => {
  const old = await as.sign({ aud: url, sub: 'erin' });
  assert.equal((await post(url, init(), bearer(old))).status, 200);
  const kid = await as.rotate();
  assert.equal(kid, 'k2');
  const fresh = await as.sign({ aud: url, sub: 'frank' });
  assert.equal((await post(url, init(), bearer(fresh))).status, 200, 'the unknown kid made the verifier re-fetch the JWKS');
  // A token of the retired key that was never seen before (not cached) no longer verifies.
  const stale = await post(url, init(), bearer(await as.sign({ aud: url, sub: 'gina' }, { key: as.retiredKey!, kid: 'k1' })));
  assert.equal(stale.status, 401);
});

test("the official SDK client's OAuth flow completes: discovery, registration, PKCE, resource indicator, token", async () => {
  let authUrl: URL | undefined;
  const store: { info?: any; tokens?: any; verifier?: string } = {};
  const provider: OAuthClientProvider = {
    get redirectUrl() {
      return 'http://127.0.0.1:1/callback';
    },
    get clientMetadata() {
      return { client_name: 'sdk-test', redirect_uris: ['http://127.0.0.1:1/callback'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    clientInformation: () => store.info,
    saveClientInformation: (i) => void (store.info = i),
    tokens: () => store.tokens,
    saveTokens: (t) => void (store.tokens = t),
    redirectToAuthorization: (u) => void (authUrl = u),
    saveCodeVerifier: (v) => void (store.verifier = v),
    codeVerifier: () => store.verifier!,
  };
  const first = new Client({ name: 'sdk-oauth', version: '1' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })), UnauthorizedError);
  assert.ok(authUrl, 'the SDK sent the user to the authorization endpoint');
  assert.equal(authUrl.searchParams.get('resource'), url, 'RFC 8707 resource = the PRM resource');
  assert.equal(authUrl.searchParams.get('scope'), 'calc:write', 'scope from scopes_supported');
  // The "browser": the stand-in redirects back at once with the code.
  const back = await fetch(authUrl, { redirect: 'manual' });
  const code = new URL(back.headers.get('location')!).searchParams.get('code')!;
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await transport.finishAuth(code);
  assert.equal(as.tokenRequests[0]!.resource, url);
  const client = new Client({ name: 'sdk-oauth', version: '1' });
  await client.connect(transport);
  const r = await client.callTool({ name: 'divide', arguments: { a: 10, b: 4 } });
  assert.deepEqual(r.content, [{ type: 'text', text: '2.5' }]);
  await client.close();
});

test('an unreachable authorization server is 503 ANDON_AUTH_UNAVAILABLE with Retry-After, never a pass', async () => {
  const rs = new ResourceServer({ issuer: as.issuer, resource: 'http://127.0.0.1:9/mcp', jwksUrl: 'http://127.0.0.1:9/jwks' });
  const token = await as.sign({ aud: 'http://127.0.0.1:9/mcp' });
  const err = await rs.authenticate({ headers: { authorization: `Bearer ${token}` } } as IncomingMessage).then(
    () => assert.fail('admitted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AndonError);
  assert.equal(err.code, 'ANDON_AUTH_UNAVAILABLE');
  assert.equal(err.httpStatus, 503);
  assert.equal(err.retryAfterSeconds, 5);
  // Introspection configured without its variables fails at construction (the start).
  assert.throws(() => new ResourceServer({ issuer: as.issuer, introspection: { url: `${as.issuer}/introspect`, clientIdEnv: 'NOPE_ID', clientSecretEnv: 'NOPE_SECRET' }, env: {} }), /ANDON_AUTH_CONFIG.*NOPE_ID, NOPE_SECRET/);
});
