/**
 * The WebSocket transport in a real runtime on 127.0.0.1: a `ws` client doing initialize,
 * tools/list and tools/call on the MCP listener's `/ws`; the upgrade refusals; bad input
 * (malformed JSON, a binary frame, an oversized frame) answered while the process and other
 * connections go on; a peer that does not read cut off; `transport:ws` halted and resumed; a
 * drain closing the connections with 1001.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { buildTestServer, type Probe } from '../server/test-server.js';
import { INIT, INITIALIZED, wsPeer } from '../helpers/wire-clients.js';
import { createClient } from '../../src/client/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

let probe: Probe = { aborted: [], started: [] };

async function start(extra: Partial<RuntimeOptions> = {}): Promise<{ rt: Runtime; url: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-ws-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server: buildTestServer((probe = { aborted: [], started: [] })), stateDir, http: { port: 0 }, websocket: { maxPayloadBytes: 64 * 1024, maxConnections: 4 }, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 1000, haltMs: 3000 }, ...extra });
  await rt.start();
  const ws = rt.transports.find((t) => t.kind === 'ws');
  assert.ok(ws, 'transport:ws is open');
  return { rt, url: ws.url };
}

/** Status and JSON body of a refused upgrade. */
function refusedUpgrade(url: string, protocols: string[] | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
  });
}

test('a ws client initializes, lists and calls tools over subprotocol mcp on the MCP listener', async () => {
  const { rt, url } = await start();
  try {
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.equal(new URL(url).port, String(rt.http!.port), 'shares the MCP listener');
    const c = await wsPeer(url);
    assert.equal(c.ws.protocol, 'mcp');
    c.send(INIT(1));
    const init = await c.answer(1);
    assert.equal(init.result.protocolVersion, '2025-11-25');
    c.send(INITIALIZED);
    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const list = await c.answer(2);
    assert.ok(list.result.tools.some((t: { name: string }) => t.name === 'echo'));
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 40 } } });
    assert.deepEqual((await c.answer(3)).result.structuredContent, { sum: 42 });
    // Two connections are two peers: the same request id in flight on both is fine.
    const d = await wsPeer(url);
    d.send(INIT('x'));
    c.send({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'echo', arguments: { text: 'on c' } } });
    assert.equal((await d.answer('x')).result.serverInfo.name, rt.server.info.name);
    assert.equal((await c.answer('x')).result.content[0].text, 'on c');
    c.close();
    d.close();
  } finally {
    await rt.drain('test');
  }
});

test('upgrade refusals: no mcp subprotocol is 400 ANDON_WS_SUBPROTOCOL, a foreign Origin 403, past maxConnections 503', async () => {
  const { rt, url } = await start();
  try {
    const none = await refusedUpgrade(url, undefined);
    assert.equal(none.status, 400);
    assert.equal(none.body.error.data.code, 'ANDON_WS_SUBPROTOCOL');
    const other = await refusedUpgrade(url, ['graphql-ws']);
    assert.equal(other.status, 400);
    assert.match(other.body.error.message, /offered: graphql-ws/);
    const origin = await refusedUpgrade(url, ['mcp'], { origin: 'https://evil.example' });
    assert.equal(origin.status, 403);
    assert.equal(origin.body.error.data.code, 'ANDON_HTTP_ORIGIN_FORBIDDEN');
    const wrongPath = await refusedUpgrade(url.replace('/ws', '/nope'), ['mcp']);
    assert.equal(wrongPath.status, 404);
    const open = await Promise.all([1, 2, 3, 4].map(() => wsPeer(url)));
    const full = await refusedUpgrade(url, ['mcp']);
    assert.equal(full.status, 503);
    assert.equal(full.body.error.data.code, 'ANDON_TRANSPORT_TOO_MANY_CONNECTIONS');
    for (const c of open) c.close();
    await Promise.all(open.map((c) => c.closed));
    // A freed slot is usable again.
    (await wsPeer(url)).close();
  } finally {
    await rt.drain('test');
  }
});

test('bad input: malformed JSON is -32700, a binary frame is ANDON_WS_BINARY_FRAME (connection stays); an oversized frame closes 1009, others go on', async () => {
  const { rt, url } = await start();
  try {
    const c = await wsPeer(url);
    c.sendRaw('{"jsonrpc":"2.0","id":1,"method":');
    const parse = await c.next((m) => m.id === undefined || m.id === null);
    assert.equal(parse.error.code, -32700);
    c.sendRaw('[1,2]');
    assert.equal((await c.next((m) => m.id === undefined || m.id === null)).error.code, -32600);
    c.sendRaw(Buffer.from(JSON.stringify(INIT(1))));
    const bin = await c.next((m) => m.id === undefined || m.id === null);
    assert.equal(bin.error.data.code, 'ANDON_WS_BINARY_FRAME');
    c.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    assert.deepEqual((await c.answer(7)).result, {});
    const other = await wsPeer(url);
    c.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping', params: { pad: 'x'.repeat(70 * 1024) } }));
    assert.equal(await c.closed, 1009);
    other.send({ jsonrpc: '2.0', id: 9, method: 'ping' });
    assert.deepEqual((await other.answer(9)).result, {}, 'another connection is unaffected');
    other.close();
  } finally {
    await rt.drain('test');
  }
});

test('a peer that does not read is cut off past maxBufferedBytes (1008), and the node keeps serving', async () => {
  const { rt, url } = await start({ websocket: { maxPayloadBytes: 1024 * 1024, maxBufferedBytes: 256 * 1024 } });
  try {
    const c = await wsPeer(url);
    c.send(INIT(1));
    await c.answer(1);
    const sock = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    sock.pause();
    const text = 'y'.repeat(512 * 1024);
    // Each answer is ~512 KiB; the kernel's loopback buffers take a few MB, then ws queues.
    for (let i = 0; i < 40; i++) c.send({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    const deadline = Date.now() + 10_000;
    while (rt.transports[0]!.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(rt.transports[0]!.connections, 0, 'the connection was closed');
    sock.resume();
    const code = await c.closed;
    assert.ok(code === 1006 || code === 1008, `closed (${code})`);
    const d = await wsPeer(url);
    d.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.deepEqual((await d.answer(1)).result, {});
    d.close();
  } finally {
    await rt.drain('test');
  }
});

test('halting transport:ws refuses new messages with ANDON_HALTED (HTTP unaffected); resume restores; a drain closes connections with 1001', async () => {
  const { rt, url } = await start();
  const c = await wsPeer(url);
  c.send(INIT(1));
  await c.answer(1);
  await rt.halt('transport:ws', 'maintenance');
  assert.equal(rt.components().find((x) => x.id === 'transport:ws')?.state, 'halted_manual');
  c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
  const refused = await c.answer(2);
  assert.equal(refused.error.code, -32001);
  assert.equal(refused.error.data.code, 'ANDON_HALTED');
  assert.equal(refused.error.data.component, 'transport:ws');
  assert.equal(refused.error.data.reason, 'maintenance');
  const res = await fetch(rt.url!, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(INIT(1)) });
  assert.equal(res.status, 200, 'the HTTP transport still serves');
  await res.text();
  await rt.resume('transport:ws');
  c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'back' } } });
  assert.equal((await c.answer(3)).result.content[0].text, 'back');
  // Drain: an in-flight call finishes within the grace, then the connection closes with 1001.
  c.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'slow', arguments: { ms: 150, tag: 'inflight' } } });
  await new Promise((r) => setTimeout(r, 30));
  const drained = rt.drain('test');
  assert.equal((await c.answer(4)).result.content[0].text, 'done inflight');
  assert.equal(await c.closed, 1001);
  assert.equal((await drained).graceExpired, false);
});

test('ping/pong keep-alive: a peer that answers pings stays; one that does not is terminated within two intervals', async () => {
  const { rt, url } = await start({ websocket: { pingIntervalMs: 100 } });
  try {
    const good = await wsPeer(url);
    const mute = new WebSocket(url, 'mcp', { autoPong: false });
    mute.on('error', () => {});
    await new Promise((r) => mute.once('open', r));
    const pinged = new Promise<void>((r) => mute.once('ping', () => r()));
    const closed = new Promise<number>((r) => mute.once('close', (code) => r(code)));
    await pinged;
    const t0 = Date.now();
    assert.equal(await closed, 1006, 'terminated (no close frame)');
    assert.ok(Date.now() - t0 < 1000);
    await new Promise((r) => setTimeout(r, 250));
    good.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.deepEqual((await good.answer(1)).result, {}, 'the peer that answers pings is still connected');
    good.close();
  } finally {
    await rt.drain('test');
  }
});

test('our client over WebSocket (a ws:// target): connects (2026 discovery), lists and calls tools, and a cancelled call is aborted on the server', async () => {
  const { rt, url } = await start();
  try {
    const c = createClient(url);
    await c.connect();
    assert.equal(c.server.transport, 'websocket');
    assert.equal(c.server.serverInfo?.name, rt.server.info.name);
    assert.ok((await c.listTools()).some((t) => t.name === 'echo'));
    assert.equal((await c.callTool('echo', { text: 'over ws' })).content[0]!.type, 'text');
    assert.deepEqual((await c.callTool('add', { a: 1, b: 1 })).structuredContent, { sum: 2 });
    const pinned = createClient(url, { protocolVersion: '2025-11-25' });
    await pinned.connect();
    assert.equal(pinned.server.era, '2025');
    assert.deepEqual((await pinned.callTool('add', { a: 2, b: 2 })).structuredContent, { sum: 4 });
    // Cancelling a call sends notifications/cancelled on the socket; the server aborts the handler.
    const ac = new AbortController();
    const call = pinned.callTool('slow', { ms: 5000, tag: 'cancel-me' }, { signal: ac.signal });
    const deadline = Date.now() + 3000;
    while (!probe.started.includes('cancel-me') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await assert.rejects(call);
    while (!probe.aborted.includes('cancel-me') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(probe.aborted, ['cancel-me']);
    await pinned.close();
    await c.close();
    const refused = createClient(url.replace('/ws', '/other'));
    await assert.rejects(refused.connect(), /404/);
  } finally {
    await rt.drain('test');
  }
});

test('on its own port: upgrades on the path, 426 for plain HTTP, and the MCP listener does not take upgrades', async () => {
  const { rt, url } = await start({ websocket: { port: 0, path: '/mcp-ws' } });
  try {
    assert.notEqual(new URL(url).port, String(rt.http!.port));
    assert.equal(new URL(url).pathname, '/mcp-ws');
    const c = await wsPeer(url);
    c.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.deepEqual((await c.answer(1)).result, {});
    c.close();
    const plain = await fetch(url.replace('ws:', 'http:'));
    assert.equal(plain.status, 426);
    await plain.text();
    await assert.rejects(wsPeer(`ws://127.0.0.1:${rt.http!.port}/mcp-ws`));
  } finally {
    await rt.drain('test');
  }
});
