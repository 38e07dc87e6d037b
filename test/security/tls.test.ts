/**
 * TLS on the MCP HTTP listener, with a CA made in the test (openssl): our client and the official
 * SDK client over HTTPS, HSTS, TLS 1.1 and a CBC suite refused, and certificate reload — a
 * certificate swapped on disk (polled) or announced by SIGHUP is served to the next connection
 * while a connection opened before keeps working on its old certificate.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { createServer, createRuntime, type Runtime } from '../../src/index.js';
import { createClient, StreamableHttpTransport } from '../../src/client/index.js';
import { makePki, type TestPki } from './tls-helpers.js';
import { TlsContext } from '../../src/transports/tls.js';
import { TestClock } from '../../src/util/clock.js';

let pki: TestPki;
let one: { certFile: string; keyFile: string };
let two: { certFile: string; keyFile: string };
const cleanup: Array<() => Promise<void> | void> = [];

before(() => {
  pki = makePki();
  one = pki.leaf('one');
  two = pki.leaf('two');
  cleanup.push(() => rmSync(pki.dir, { recursive: true, force: true }));
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A runtime serving HTTPS from `live.crt`/`live.key` (a copy of `leaf`), in a fresh state dir. */
async function httpsRuntime(name: string, leaf: { certFile: string; keyFile: string }, tls: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<{ rt: Runtime; certFile: string; keyFile: string; port: number }> {
  const certFile = join(pki.dir, `${name}.crt`);
  const keyFile = join(pki.dir, `${name}.key`);
  copyFileSync(leaf.certFile, certFile);
  copyFileSync(leaf.keyFile, keyFile);
  const server = createServer({ name: 'tls', version: '1' });
  server.tool('echo', { annotations: { readOnlyHint: true } }, ({ text }: { text?: string }) => text ?? '');
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-tls-'));
  const rt = createRuntime({ server, stateDir, http: { port: 0, tls: { certFile, keyFile, ...tls } }, ops: false, observability: false, signals: false, adminToken: 't', ...extra });
  await rt.start();
  cleanup.push(async () => {
    await rt.drain('test end');
    await rm(stateDir, { recursive: true, force: true });
  });
  return { rt, certFile, keyFile, port: Number(new URL(rt.url!).port) };
}

/** The common name of the certificate a fresh TLS connection to `port` is served. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost' }, () => {
      const cn = String(s.getPeerCertificate().subject.CN);
      s.end();
      resolve(cn);
    });
    s.once('error', reject);
  });
}

/** How a TLS handshake with these client settings ends: the protocol, or the error code. */
function handshake(port: number, opts: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ...opts }, () => {
      const p = String(s.getProtocol());
      s.destroy();
      resolve(p);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
  });
}

/** One GET on `agent`: status, HSTS header, the socket it went over and that socket's certificate CN. */
function get(url: string, agent: HttpsAgent): Promise<{ status: number; hsts: string | undefined; socket: TLSSocket; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { agent, method: 'GET', headers: { accept: 'text/event-stream' } }, (res) => {
      res.resume();
      const socket = res.socket as TLSSocket;
      res.on('end', () => resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined, socket, cn: String(socket.getPeerCertificate().subject.CN) }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function until(what: string, fn: () => Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('our client and the official SDK client speak MCP over HTTPS with a CA made in the test; responses carry HSTS', async () => {
  const { rt } = await httpsRuntime('both', one);
  assert.match(rt.url!, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/);

  const agent = new HttpsAgent({ ca: pki.ca, keepAlive: true });
  const ours = createClient({ transport: new StreamableHttpTransport(rt.url!, { agent }) });
  await ours.connect();
  const r1 = await ours.callTool('echo', { text: 'over tls' });
  assert.deepEqual(r1.content, [{ type: 'text', text: 'over tls' }]);
  await ours.close();
  agent.destroy();

  const dispatcher = new UndiciAgent({ connect: { ca: pki.ca } });
  const sdkFetch = ((u: string | URL, init?: RequestInit) => undiciFetch(u, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  const sdk = new Client({ name: 'sdk', version: '1' });
  await sdk.connect(new StreamableHTTPClientTransport(new URL(rt.url!), { fetch: sdkFetch }));
  const r2 = await sdk.callTool({ name: 'echo', arguments: { text: 'sdk over tls' } });
  assert.deepEqual(r2.content, [{ type: 'text', text: 'sdk over tls' }]);
  await sdk.close();
  await dispatcher.close();

  const raw = new HttpsAgent({ ca: pki.ca });
  const r = await get(rt.url!, raw);
  assert.equal(r.hsts, 'max-age=31536000');
  raw.destroy();

  // Without the test CA the certificate is not trusted (the client really verifies it).
  assert.match(await handshake(Number(new URL(rt.url!).port), { ca: undefined }), /^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER)/);
});

test('TLS 1.1 and a CBC suite are refused; TLS 1.2 and 1.3 with modern suites are accepted', async () => {
  const { port } = await httpsRuntime('floor', one);
  const old = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' };
  // Control: the same TLS 1.1 client completes a handshake with a server that allows it, so the
  // refusal below is the listener's doing, not this client's OpenSSL.
  const lax = createTlsServer({ ...readLeaf(one), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  await new Promise<void>((r) => lax.listen(0, '127.0.0.1', () => r()));
  const laxPort = (lax.address() as { port: number }).port;
  assert.equal(await handshake(laxPort, old), 'TLSv1.1');
  await new Promise<void>((r) => lax.close(() => r()));

  assert.match(await handshake(port, old), /^error /);
  assert.match(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^error /);
  assert.equal(await handshake(port, { maxVersion: 'TLSv1.2' }), 'TLSv1.2');
  assert.equal(await handshake(port, {}), 'TLSv1.3');
});

function readLeaf(leaf: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) };
}

test('a certificate swapped on disk is served to the next connection; a connection opened before stays up', async () => {
  const { rt, certFile, keyFile, port } = await httpsRuntime('swap', one, { pollMs: 100 });
  const keep = new HttpsAgent({ ca: pki.ca, keepAlive: true, maxSockets: 1 });
  const before = await get(rt.url!, keep);
  assert.equal(before.cn, 'one');

  // Key first, then certificate: between the two the pair does not match; that reload attempt
  // fails, keeps the old context, and the next poll takes the complete pair.
  copyFileSync(two.keyFile, keyFile);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await servedCn(port), 'one', 'a mismatched pair is not served');
  copyFileSync(two.certFile, certFile);
  await until('the new certificate to be served', async () => (await servedCn(port)) === 'two');

  const again = await get(rt.url!, keep);
  assert.equal(again.socket, before.socket, 'the keep-alive connection was not dropped');
  assert.equal(again.cn, 'one', 'the existing connection keeps its certificate');
  assert.equal(again.status, before.status);
  keep.destroy();
});

test('SIGHUP reloads the certificate (reloadOnChange off) without dropping the open connection', async () => {
  const exits: number[] = [];
  const { rt, certFile, keyFile, port } = await httpsRuntime('hup', one, { reloadOnChange: false }, { signals: true, exit: (c: number) => exits.push(c) });
  const agent = new HttpsAgent({ ca: pki.ca, keepAlive: true });
  const client = createClient({ transport: new StreamableHttpTransport(rt.url!, { agent }) });
  await client.connect();
  copyFileSync(two.keyFile, keyFile);
  copyFileSync(two.certFile, certFile);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await servedCn(port), 'one', 'without polling, nothing changes before the signal');
  process.emit('SIGHUP');
  await until('SIGHUP to reload the certificate', async () => (await servedCn(port)) === 'two');
  // The client's session and its keep-alive connection survive the reload.
  const r = await client.callTool('echo', { text: 'still here' });
  assert.deepEqual(r.content, [{ type: 'text', text: 'still here' }]);
  await client.close();
  agent.destroy();
  assert.deepEqual(exits, []);
});

test('a certificate and key that do not match fail the start', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-tls-bad-'));
  cleanup.push(() => rm(stateDir, { recursive: true, force: true }));
  const server = createServer({ name: 'tls', version: '1' });
  const rt = createRuntime({ server, stateDir, http: { port: 0, tls: { certFile: one.certFile, keyFile: two.keyFile } }, ops: false, observability: false, signals: false, adminToken: 't' });
  await assert.rejects(rt.start(), /key values mismatch|KEY_VALUES_MISMATCH/i);
});

test('the file poll runs on the injected clock: nothing reloads until the clock moves', async () => {
  const certFile = join(pki.dir, 'clock.crt');
  const keyFile = join(pki.dir, 'clock.key');
  copyFileSync(one.certFile, certFile);
  copyFileSync(one.keyFile, keyFile);
  const clock = new TestClock();
  const ctx = await TlsContext.load({ certFile, keyFile, clock, pollMs: 1000 });
  cleanup.push(() => ctx.close());
  copyFileSync(two.keyFile, keyFile);
  copyFileSync(two.certFile, certFile);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ctx.reloads, 0, 'no poll before the clock moves');
  await clock.advance(1000);
  await until('the poll to reload', async () => ctx.reloads === 1, 3000);
  assert.match(String(ctx.serverOptions().cert), /BEGIN CERTIFICATE/);
  assert.equal(String(ctx.serverOptions().cert), readFileSync(two.certFile, 'utf8'));
  // Unchanged files: further polls do nothing.
  await clock.advance(3000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ctx.reloads, 1);
});
