/** The tls and auth configuration sections: validation messages and the mapping into RuntimeOptions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOptionsFromConfig, validateConfig } from '../../src/config/index.js';

test('tls and auth are off by default and map to nothing', () => {
  const r = validateConfig({});
  assert.ok(r.ok);
  const http = runtimeOptionsFromConfig(r.config).http as Record<string, unknown>;
  assert.equal(http.tls, undefined);
  assert.equal(http.auth, undefined);
});

test('enabling tls without files, or auth without an issuer, is refused with the key path', () => {
  const r = validateConfig({ tls: { enabled: true }, auth: { enabled: true } });
  assert.ok(!r.ok);
  assert.deepEqual(r.errors.sort(), ['auth.issuer: required when auth.enabled is true', 'tls.certFile: required when tls.enabled is true', 'tls.keyFile: required when tls.enabled is true']);
  const v = validateConfig({ tls: { enabled: true, certFile: 'c', keyFile: 'k', minVersion: 'TLSv1.1' } });
  assert.ok(!v.ok && v.errors.some((e) => e.startsWith('tls.minVersion: expected TLSv1.2 or TLSv1.3')), JSON.stringify(v));
  const s = validateConfig({ auth: { enabled: true, issuer: 'https://a.example', introspection: { url: 'https://a.example/i', clientIdEnv: 'ID', clientSecret: 'literal' } } });
  assert.ok(!s.ok && s.errors.some((e) => /auth\.introspection\.clientSecret: unknown key/.test(e)), 'no literal secrets: only variable names');
});

test('the sections map into RuntimeOptions http.tls and http.auth', () => {
  const r = validateConfig({
    tls: { enabled: true, certFile: '/c.pem', keyFile: '/k.pem', hsts: { maxAgeSec: 600 } },
    auth: { enabled: true, issuer: 'https://auth.example', audience: ['https://mcp.example/mcp'], introspection: { url: 'https://auth.example/introspect', clientIdEnv: 'ID', clientSecretEnv: 'SECRET' }, scopes: { tools: { divide: ['calc:write'] } } },
  });
  assert.ok(r.ok, JSON.stringify(r));
  const http = runtimeOptionsFromConfig(r.config).http as Record<string, any>;
  assert.deepEqual(http.tls, { certFile: '/c.pem', keyFile: '/k.pem', minVersion: 'TLSv1.2', reloadOnChange: true, hsts: { enabled: true, maxAgeSec: 600 } });
  assert.deepEqual(http.auth, {
    issuer: 'https://auth.example',
    audience: ['https://mcp.example/mcp'],
    introspection: { url: 'https://auth.example/introspect', clientIdEnv: 'ID', clientSecretEnv: 'SECRET' },
    clockSkewSec: 30,
    scopes: { default: [], tools: { divide: ['calc:write'] }, resources: {}, prompts: {} },
  });
});
