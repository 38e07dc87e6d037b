/**
 * OAuth on the transports next to Streamable HTTP, in a real runtime on 127.0.0.1 against the
 * authorization server stand-in (test/security/auth-server.ts): a WebSocket upgrade without a
 * valid token is 401 with the `WWW-Authenticate` challenge; with one, its subject is every
 * message's client identity, the per-tool scopes apply, and a message after the token expired is
 * refused. Legacy SSE: GET and POST need the token; a stream belongs to its subject. TCP with
 * auth refuses to start (in-process and via the CLI, exit 2) unless `tcp.allowUnauthenticated`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { clientKey } from '../../src/server/incoming.js';
import { validateConfig } from '../../src/config/schema.js';
import { buildTestServer } from '../server/test-server.js';
import { freePort } from '../helpers/node-process.js';
import { CLI } from '../helpers/paths.js';
import { INIT, INITIALIZED, tcpPeer } from '../helpers/wire-clients.js';
import { startAuthServer, type StandIn } from './auth-server.js';
import { refusedUpgrade, wsPeerWith } from './secure-peers.js';
import { createClient } from '../../src/client/index.js';

let as: StandIn;
let rt: Runtime;
let url: string;
let wsUrl: string;
let sseUrl: string;
const keys: string[] = [];
const dirs: string[] = [];

const authOptions = () => ({ issuer: as.issuer, scopes: { tools: { add: ['calc:write'] } }, jwksCooldownMs: 0, clockSkewSec: 0 });

before(async () => {
  as = await startAuthServer();
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-tauth-'));
  dirs.push(stateDir);
  rt = createRuntime({ server: buildTestServer(), stateDir, http: { port: 0, auth: authOptions() }, websocket: {}, legacySse: {}, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 500, haltMs: 2000 } });
  // A later stage (halt phase) sees the identity the auth stage set.
  rt.admission.use({ name: 'who', phase: 'halt', admit: (req) => void keys.push(clientKey(req)) });
  await rt.start();
  url = rt.url!;
  wsUrl = rt.transports.find((t) => t.kind === 'ws')!.url;
  sseUrl = rt.transports.find((t) => t.kind === 'sse')!.url;
});
after(async () => {
  await rt.drain('test end');
  await as.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const metadataUrl = () => `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const CALL = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } });

test('WebSocket: an upgrade without a token is 401 with the challenge; a bad token is 401 invalid_token', async () => {
  const none = await refusedUpgrade(wsUrl);
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], `Bearer resource_metadata="${metadataUrl()}"`);
  assert.equal(none.body.error.data.code, 'ANDON_UNAUTHENTICATED');
  const now = Math.floor(Date.now() / 1000);
  for (const token of [await as.sign({ aud: 'https://other.example/mcp' }), await as.sign({ aud: url, exp: now - 60, iat: now - 600 }), await as.sign({ aud: url }, { key: as.forgeKey })]) {
    const bad = await refusedUpgrade(wsUrl, { headers: bearer(token) });
    assert.equal(bad.status, 401);
    assert.match(String(bad.headers['www-authenticate']), /^Bearer resource_metadata=".*", error="invalid_token", error_description="/);
  }
});

test('WebSocket with a valid token: the subject reaches a later stage; a tool needing a scope the token lacks is refused', async () => {
  keys.length = 0;
  const withScope = await wsPeerWith(wsUrl, { headers: bearer(await as.sign({ aud: url, sub: 'carol', scope: 'calc:write' })) });
  withScope.send(INIT(1));
  assert.equal((await withScope.answer(1)).result.protocolVersion, '2025-11-25');
  withScope.send(INITIALIZED);
  withScope.send(CALL(2));
  assert.deepEqual((await withScope.answer(2)).result.structuredContent, { sum: 5 });
  assert.deepEqual([...new Set(keys)], ['sub:carol'], 'every message of the connection carries the token subject');
  withScope.close();

  const noScope = await wsPeerWith(wsUrl, { headers: bearer(await as.sign({ aud: url, sub: 'dave' })) });
  noScope.send(INIT(1));
  await noScope.answer(1);
  noScope.send(INITIALIZED);
  noScope.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  assert.ok((await noScope.answer(2)).result.tools.length > 0, 'methods without a scope entry pass');
  noScope.send(CALL(3));
  const refused = await noScope.answer(3);
  assert.equal(refused.error.data.code, 'ANDON_FORBIDDEN_SCOPE');
  assert.match(refused.error.message, /calc:write/);
  assert.equal(noScope.ws.readyState, noScope.ws.OPEN, 'a refused call leaves the connection open');
  noScope.close();
});

test('our client over WebSocket with `headers: { authorization }`: 2026 and 2025 calls under the token; without a token it cannot connect', async () => {
  keys.length = 0;
  const c = createClient(wsUrl, { headers: bearer(await as.sign({ aud: url, sub: 'frank', scope: 'calc:write' })) });
  await c.connect();
  assert.equal(c.server.transport, 'websocket');
  assert.deepEqual((await c.callTool('add', { a: 1, b: 1 })).structuredContent, { sum: 2 });
  assert.ok(keys.length > 0 && keys.every((k) => k === 'sub:frank'), `identities: ${keys.join(', ')}`);
  await c.close();
  const pinned = createClient(wsUrl, { protocolVersion: '2025-11-25', headers: bearer(await as.sign({ aud: url, sub: 'frank' })) });
  await pinned.connect();
  await assert.rejects(pinned.callTool('add', { a: 1, b: 1 }), /calc:write/);
  await pinned.close();
  await assert.rejects(createClient(wsUrl).connect());
});

test('WebSocket: a message after the token expired is refused; the client must reconnect with a new token', async () => {
  const exp = Math.floor(Date.now() / 1000) + 2;
  const c = await wsPeerWith(wsUrl, { headers: bearer(await as.sign({ aud: url, sub: 'erin', scope: 'calc:write', exp })) });
  c.send(INIT(1));
  await c.answer(1);
  c.send(INITIALIZED);
  c.send(CALL(2));
  assert.ok((await c.answer(2)).result);
  await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
  c.send(CALL(3));
  const late = await c.answer(3);
  assert.equal(late.error.data.code, 'ANDON_UNAUTHENTICATED');
  assert.match(late.error.message, /expired/);
  c.close();
});

/** A raw legacy SSE stream opened with `headers`: its endpoint and the messages it carries. */
async function openStream(headers: Record<string, string>): Promise<{ endpoint: string; answer(id: unknown): Promise<any>; close(): void }> {
  const messages: any[] = [];
  let wake = () => {};
  const req = request(sseUrl, { headers: { accept: 'text/event-stream', ...headers } });
  const endpoint = await new Promise<string>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let end = buf.indexOf('\n\n');
        while (end !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'endpoint') resolve(data!);
          if (event === 'message') {
            messages.push(JSON.parse(data!));
            wake();
          }
          end = buf.indexOf('\n\n');
        }
      });
    });
    req.end();
  });
  return {
    endpoint,
    async answer(id) {
      const end = Date.now() + 5000;
      for (;;) {
        const m = messages.find((x) => x.id === id);
        if (m) return m;
        if (Date.now() > end) throw new Error(`no answer ${String(id)} on the stream`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
    close: () => req.destroy(),
  };
}

test('legacy SSE: GET and POST without a token are 401 with the challenge; with one, the stream is its subject\'s', async () => {
  const get = await fetch(sseUrl, { headers: { accept: 'text/event-stream' } });
  assert.equal(get.status, 401);
  assert.equal(get.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl()}"`);
  await get.body?.cancel();

  const alice = bearer(await as.sign({ aud: url, sub: 'alice', scope: 'calc:write' }));
  const s = await openStream(alice);
  const at = `${new URL(url).origin}${s.endpoint}`;
  const post = (body: unknown, headers: Record<string, string>) => fetch(at, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  const anon = await post(INIT(1), {});
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl()}"`);
  assert.equal(((await anon.json()) as any).error.data.code, 'ANDON_UNAUTHENTICATED');

  keys.length = 0;
  assert.equal((await post(INIT(1), alice)).status, 202);
  assert.equal((await s.answer(1)).result.protocolVersion, '2025-11-25');
  assert.equal((await post(INITIALIZED, alice)).status, 202);
  assert.equal((await post(CALL(2), alice)).status, 202);
  assert.deepEqual((await s.answer(2)).result.structuredContent, { sum: 5 });
  assert.deepEqual([...new Set(keys)], ['sub:alice']);

  // Another subject's valid token cannot post to alice's stream: answered like an unknown session.
  const bob = await post(CALL(3), bearer(await as.sign({ aud: url, sub: 'bob', scope: 'calc:write' })));
  assert.equal(bob.status, 404);
  assert.equal(((await bob.json()) as any).error.data.code, 'ANDON_SESSION_SUBJECT_MISMATCH');

  // Alice's token without the scope (same subject): the call is refused on the stream.
  assert.equal((await post(CALL(4), bearer(await as.sign({ aud: url, sub: 'alice' })))).status, 202);
  assert.equal((await s.answer(4)).error.data.code, 'ANDON_FORBIDDEN_SCOPE');
  s.close();
});

test('TCP with auth refuses to start without tcp.allowUnauthenticated (in-process and in the config); with it, TCP serves unauthenticated clients', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-tauth-tcp-'));
  dirs.push(stateDir);
  const tcpPort = await freePort();
  const base = (tcp: RuntimeOptions['tcp']): RuntimeOptions => ({ server: buildTestServer(), stateDir, http: { port: 0, auth: authOptions() }, tcp, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 500, haltMs: 2000 } });
  const refused = createRuntime(base({ port: tcpPort }));
  await assert.rejects(refused.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ANDON_TCP_UNAUTHENTICATED');
    assert.match(err.message, /auth\.enabled needs a transport that carries a bearer token; TCP does not .* tcp\.allowUnauthenticated: true/);
    return true;
  });
  await assert.rejects(tcpPeer(tcpPort), 'nothing listens on the TCP port');

  const cfg = validateConfig({ auth: { enabled: true, issuer: as.issuer }, tcp: { enabled: true } });
  assert.equal(cfg.ok, false);
  assert.match(!cfg.ok ? cfg.errors.join('\n') : '', /^tcp\.allowUnauthenticated: tcp: auth\.enabled needs a transport that carries a bearer token/m);
  assert.equal(validateConfig({ auth: { enabled: true, issuer: as.issuer }, tcp: { enabled: true, allowUnauthenticated: true } }).ok, true);

  const open = createRuntime(base({ port: tcpPort, allowUnauthenticated: true }));
  await open.start();
  try {
    const c = await tcpPeer(tcpPort);
    c.send(INIT(1));
    assert.equal((await c.answer(1)).result.protocolVersion, '2025-11-25');
    c.close();
  } finally {
    await open.drain('test end');
  }
});

test('andon start with auth and tcp enabled exits 2 naming tcp.allowUnauthenticated', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'andon-tauth-cli-'));
  dirs.push(cwd);
  writeFileSync(join(cwd, 'andon.config.yaml'), `http:\n  port: 0\nops:\n  enabled: false\nstateDir: ${join(cwd, 'state')}\nauth:\n  enabled: true\n  issuer: ${as.issuer}\ntcp:\n  enabled: true\n  port: 0\n`);
  const child = spawn(process.execPath, [CLI, 'start'], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`andon start did not exit\n${err}`));
    }, 15_000);
    child.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  assert.equal(code, 2, err);
  assert.match(err, /config error: tcp\.allowUnauthenticated: tcp: auth\.enabled needs a transport that carries a bearer token; TCP does not/);
});
