/**
 * OAuth against a real protected endpoint (andon-mcp behind a bearer check, with its own
 * authorization server): discovery, registration, authorization code + PKCE with `resource`,
 * step-up on 403 with the union of scopes, refresh of an expired token, client credentials, and
 * the refusals (wrong `iss`, a foreign PRM resource, no OAuth configured).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type OAuthOptions } from '../../src/client/index.js';
import { serveOAuthProtected, type OAuthServerOptions } from './servers/oauth-server.js';
import { forbidUnhandledRejections, rejectsWith, text } from './helpers.js';

const guard = forbidUnhandledRejections();
test.after(() => guard.check());

/** The "browser": follows the authorization redirect and hands back its Location. */
const authorize: OAuthOptions['authorize'] = async (url) => {
  const res = await fetch(url, { redirect: 'manual' });
  return res.headers.get('location') ?? '';
};

async function withServer(opts: OAuthServerOptions, fn: (srv: Awaited<ReturnType<typeof serveOAuthProtected>>) => Promise<void>): Promise<void> {
  const srv = await serveOAuthProtected(opts);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

test('401 → discovery, registration, PKCE authorization with resource, token; then step-up to mcp:write', () =>
  withServer({}, async (srv) => {
    const c = createClient(srv.url, { oauth: { authorize, redirectUri: 'http://127.0.0.1:9/callback' } });
    try {
      await c.connect();
      assert.equal(c.server.era, '2026');
      assert.equal(srv.log.registrations, 1);
      assert.deepEqual(srv.log.authorizations[0], { scope: 'mcp:read offline_access', resource: srv.url });
      assert.equal((await c.listTools()).length > 0, true);
      // tools/call needs mcp:write: 403 insufficient_scope → re-authorize with the union of scopes.
      assert.equal(text(await c.callTool('echo', { text: 'authorized' })), 'authorized');
      assert.equal(srv.log.authorizations.length, 2);
      assert.deepEqual(srv.log.authorizations[1]!.scope!.split(' ').sort(), ['mcp:read', 'mcp:write', 'offline_access']);
      assert.equal(srv.log.registrations, 1, 'the registration is reused');
      assert.equal(text(await c.callTool('echo', { text: 'again' })), 'again');
      assert.equal(srv.log.authorizations.length, 2, 'no further authorization');
    } finally {
      await c.close();
    }
  }));

test('an expiring token is refreshed, not re-authorized', () =>
  withServer({ expiresIn: 1 }, async (srv) => {
    const c = createClient(srv.url, { oauth: { authorize } });
    try {
      await c.connect();
      await c.listTools();
      await c.listResources();
      assert.equal(srv.log.authorizations.length, 1);
      assert.ok(srv.log.tokens.filter((g) => g === 'refresh_token').length >= 1, 'refresh_token grant used');
    } finally {
      await c.close();
    }
  }));

test('client_credentials: a machine grant without a browser', () =>
  withServer({}, async (srv) => {
    const c = createClient(srv.url, { oauth: { grant: { type: 'client_credentials' }, clientId: 'robot', clientSecret: 's3cret' } });
    try {
      await c.connect();
      assert.equal(text(await c.callTool('echo', { text: 'bot' })), 'bot');
      assert.deepEqual(srv.log.tokens, ['client_credentials']);
      assert.equal(srv.log.authorizations.length, 0);
    } finally {
      await c.close();
    }
  }));

test('a wrong iss in the authorization response is refused before the token request', () =>
  withServer({ iss: 'wrong' }, async (srv) => {
    const err = await rejectsWith(createClient(srv.url, { oauth: { authorize } }).connect(), 'UNAUTHORIZED');
    assert.match(err.message, /issuer/);
    assert.deepEqual(srv.log.tokens, []);
  }));

test('a missing iss is refused when the server advertised it', () =>
  withServer({ iss: 'omit' }, async (srv) => {
    await rejectsWith(createClient(srv.url, { oauth: { authorize } }).connect(), 'UNAUTHORIZED');
    assert.deepEqual(srv.log.tokens, []);
  }));

test('a PRM resource that is not this server is refused before authorization', () =>
  withServer({ prmResource: 'https://evil.example.com/mcp' }, async (srv) => {
    const err = await rejectsWith(createClient(srv.url, { oauth: { authorize } }).connect(), 'UNAUTHORIZED');
    assert.match(err.message, /not this server/);
    assert.equal(srv.log.authorizations.length, 0);
  }));

test('without the oauth option a 401 is UNAUTHORIZED, naming the challenge', () =>
  withServer({}, async (srv) => {
    const err = await rejectsWith(createClient(srv.url).connect(), 'UNAUTHORIZED');
    assert.equal(err.status, 401);
    assert.match(err.message, /resource_metadata/);
  }));
