/**
 * TLS on the transports next to Streamable HTTP, in a real runtime on 127.0.0.1 with certificates
 * made here (openssl): WebSocket on its own port over wss://, legacy SSE on its own port over
 * HTTPS, newline-delimited JSON-RPC over TLS on TCP (initialize + tools/call; a plain-text client
 * gets no answer), and a certificate swapped on disk served to the next TCP TLS connection while
 * an open one stays up — with the MCP listener off (`transportSecurity`), the transports' own context.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { buildTestServer } from '../server/test-server.js';
import { freePort } from '../helpers/node-process.js';
import { INIT, INITIALIZED, tcpPeer } from '../helpers/wire-clients.js';
import { makePki, type TestPki } from './tls-helpers.js';
import { tlsPeer, wsPeerWith } from './secure-peers.js';

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

/** A runtime whose certificate files are `<name>.crt`/`.key`, copies of `one`. */
async function start(name: string, opts: (files: { certFile: string; keyFile: string }) => Partial<RuntimeOptions>): Promise<{ rt: Runtime; certFile: string; keyFile: string }> {
  const certFile = join(pki.dir, `${name}.crt`);
  const keyFile = join(pki.dir, `${name}.key`);
  copyFileSync(one.certFile, certFile);
  copyFileSync(one.keyFile, keyFile);
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-ttls-'));
  const rt = createRuntime({ server: buildTestServer(), stateDir, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 500, haltMs: 2000 }, ...opts({ certFile, keyFile }) });
  await rt.start();
  cleanup.push(async () => {
    await rt.drain('test end');
    await rm(stateDir, { recursive: true, force: true });
  });
  return { rt, certFile, keyFile };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CALL = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } });

test('the MCP listener\'s tls covers WebSocket (wss://) and legacy SSE (https://) on their own ports, and TCP (TLS)', async () => {
  const tcpPort = await freePort();
  const { rt } = await start('all', (tls) => ({ http: { port: 0, tls }, websocket: { port: 0 }, legacySse: { port: 0 }, tcp: { port: tcpPort } }));
  const url = (kind: string) => rt.transports.find((t) => t.kind === kind)!.url;
  assert.match(url('ws'), /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
  assert.match(url('sse'), /^https:\/\/127\.0\.0\.1:\d+\/sse$/);
  assert.equal(url('tcp'), `tls://127.0.0.1:${tcpPort}`);

  // WebSocket over TLS, trusting the test CA.
  const ws = await wsPeerWith(url('ws'), { ca: pki.ca });
  ws.send(INIT(1));
  assert.equal((await ws.answer(1)).result.protocolVersion, '2025-11-25');
  ws.send(INITIALIZED);
  ws.send(CALL(2));
  assert.deepEqual((await ws.answer(2)).result.structuredContent, { sum: 5 });
  ws.close();

  // Legacy SSE over HTTPS: the stream opens and names its endpoint.
  const endpoint = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(url('sse'), { ca: pki.ca, headers: { accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const m = /event: endpoint\ndata: (.*)\n/.exec(c);
        if (m) {
          resolve(m[1]!);
          req.destroy();
        }
      });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
  assert.match(endpoint, /^\/messages\?sessionId=/);

  // TCP inside TLS: initialize and a tool call.
  const t = await tlsPeer(tcpPort, pki.ca);
  assert.equal(t.socket.getPeerCertificate().subject.CN, 'one');
  t.send(INIT(1));
  assert.equal((await t.answer(1)).result.protocolVersion, '2025-11-25');
  t.send(INITIALIZED);
  t.send(CALL(2));
  assert.deepEqual((await t.answer(2)).result.structuredContent, { sum: 5 });
  t.close();

  // A client speaking plain text to the TLS port gets no JSON-RPC answer: the handshake fails and the connection closes.
  const plain = await tcpPeer(tcpPort);
  plain.send(INIT(1));
  await plain.closed;
  assert.equal(plain.received.length, 0);
});

test('WebSocket on the HTTPS MCP listener is wss:// on the listener\'s port', async () => {
  const { rt } = await start('shared', (tls) => ({ http: { port: 0, tls }, websocket: {} }));
  const ws = rt.transports.find((t) => t.kind === 'ws')!;
  assert.equal(ws.url, `wss://${new URL(rt.url!).host}/ws`);
  const c = await wsPeerWith(ws.url, { ca: pki.ca });
  c.send(INIT(1));
  assert.equal((await c.answer(1)).result.protocolVersion, '2025-11-25');
  c.close();
});

test('TCP over TLS with the MCP listener off: a certificate swapped on disk is served to the next connection; an open one stays up', async () => {
  const tcpPort = await freePort();
  const { rt, certFile, keyFile } = await start('swap', (tls) => ({ http: false, tcp: { port: tcpPort }, transportSecurity: { tls: { ...tls, pollMs: 100 } } }));
  assert.equal(rt.transports[0]!.url, `tls://127.0.0.1:${tcpPort}`);
  const open = await tlsPeer(tcpPort, pki.ca);
  open.send(INIT(1));
  await open.answer(1);
  assert.equal(open.socket.getPeerCertificate().subject.CN, 'one');

  copyFileSync(two.keyFile, keyFile);
  copyFileSync(two.certFile, certFile);
  const cn = async () => {
    const p = await tlsPeer(tcpPort, pki.ca);
    const name = String(p.socket.getPeerCertificate().subject.CN);
    p.close();
    return name;
  };
  await until('the new certificate on the next TCP TLS connection', async () => (await cn()) === 'two');

  // The connection opened before still works, with its certificate.
  open.send(CALL(2));
  assert.deepEqual((await open.answer(2)).result.structuredContent, { sum: 5 });
  assert.equal(open.socket.getPeerCertificate().subject.CN, 'one');
  assert.equal(rt.transports[0]!.tls!.reloads >= 1, true);
  open.close();
});
