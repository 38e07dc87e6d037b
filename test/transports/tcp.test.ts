/**
 * The TCP transport in a real runtime on 127.0.0.1: newline-delimited JSON-RPC, each connection
 * its own peer; stdio's framing and bad-input answers (malformed JSON, an over-long line discarded
 * whole with one error, CRLF, a line split across writes); the connection limit; `transport:tcp`
 * halted and resumed; a drain closing connections after in-flight requests finish.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { buildTestServer } from '../server/test-server.js';
import { freePort } from '../helpers/node-process.js';
import { INIT, INITIALIZED, tcpPeer } from '../helpers/wire-clients.js';
import { createServer as createNetServer } from 'node:net';
import { serveTcp } from '../../src/transports/tcp.js';
import { clientKey } from '../../src/server/incoming.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function start(extra: Partial<RuntimeOptions> = {}, dir?: string, fixedPort?: number): Promise<{ rt: Runtime; port: number; stateDir: string }> {
  const stateDir = dir ?? (await mkdtemp(join(tmpdir(), 'andon-tcp-')));
  dirs.push(stateDir);
  const port = fixedPort ?? (await freePort());
  const rt = createRuntime({ server: buildTestServer(), stateDir, http: false, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 1000, haltMs: 3000 }, ...extra, tcp: { maxLineBytes: 4096, maxConnections: 3, ...(extra.tcp || {}), port } });
  await rt.start();
  assert.equal(rt.transports[0]?.url, `tcp://127.0.0.1:${port}`);
  return { rt, port, stateDir };
}

const isNull = (m: Record<string, unknown>) => m.id === undefined || m.id === null;

test('a TCP client initializes, lists and calls tools; two connections are two peers', async () => {
  const { rt, port } = await start();
  try {
    const c = await tcpPeer(port);
    c.send(INIT(1));
    assert.equal((await c.answer(1)).result.protocolVersion, '2025-11-25');
    c.send(INITIALIZED);
    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.ok((await c.answer(2)).result.tools.some((t: { name: string }) => t.name === 'add'));
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } });
    assert.deepEqual((await c.answer(3)).result.structuredContent, { sum: 3 });
    const d = await tcpPeer(port);
    d.send(INIT('i'));
    await d.answer('i');
    d.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: { ms: 100, tag: 'd' } } });
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: { ms: 100, tag: 'c' } } });
    assert.equal((await d.answer(3)).result.content[0].text, 'done d');
    assert.equal((await c.answer(3)).result.content[0].text, 'done c');
    // A 2026 request on the same connection (no session needed).
    c.send({ jsonrpc: '2.0', id: 4, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
    assert.ok((await c.answer(4)).result);
    c.close();
    d.close();
  } finally {
    await rt.drain('test');
  }
});

test('framing and bad input as on stdio: -32700, an over-long line discarded whole with one -32600, CRLF and split lines served', async () => {
  const { rt, port } = await start();
  try {
    const c = await tcpPeer(port);
    c.send(INIT(0));
    await c.answer(0);
    c.sendRaw('{"jsonrpc":"2.0","id":1,');
    assert.equal((await c.next(isNull)).error.code, -32700);
    // 10 KB in three writes, then a newline: one error, and the tail is not parsed as a line.
    c.socket.write(`{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":"${'z'.repeat(5000)}`);
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write('z'.repeat(5000));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write('"}}\n');
    const long = await c.next(isNull);
    assert.equal(long.error.code, -32600);
    assert.match(long.error.message, /line exceeds 4096 bytes/);
    c.socket.write('{"jsonrpc":"2.0","id":3,"meth');
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write('od":"ping"}\r\n');
    assert.deepEqual((await c.answer(3)).result, {});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.received.length, 0, `nothing else was answered: ${JSON.stringify(c.received)}`);
    // Multi-byte characters split across writes arrive intact.
    const bytes = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'é€😀' } } }) + '\n');
    const cut = bytes.indexOf(Buffer.from('€')) + 1;
    c.socket.write(bytes.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(bytes.subarray(cut));
    assert.equal((await c.answer(4)).result.content[0].text, 'é€😀');
    // A last line without a newline is served when the client half-closes.
    c.socket.end('{"jsonrpc":"2.0","id":5,"method":"ping"}');
    assert.deepEqual((await c.answer(5)).result, {});
    await c.closed;
  } finally {
    await rt.drain('test');
  }
});

test('past maxConnections a connection gets one ANDON_TRANSPORT_TOO_MANY_CONNECTIONS line and is closed', async () => {
  const { rt, port } = await start();
  try {
    const open = await Promise.all([1, 2, 3].map(() => tcpPeer(port)));
    const extra = await tcpPeer(port);
    const refusal = await extra.next(isNull);
    assert.equal(refusal.error.code, -32001);
    assert.equal(refusal.error.data.code, 'ANDON_TRANSPORT_TOO_MANY_CONNECTIONS');
    await extra.closed;
    open[0]!.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 20));
    const again = await tcpPeer(port);
    again.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.deepEqual((await again.answer(1)).result, {});
    for (const c of [...open, again]) c.close();
  } finally {
    await rt.drain('test');
  }
});

test('halting transport:tcp refuses new messages with ANDON_HALTED; resume restores; a drain closes after in-flight requests finish', async () => {
  const { rt, port } = await start();
  const c = await tcpPeer(port);
  c.send(INIT(1));
  await c.answer(1);
  await rt.halt('transport:tcp', 'maintenance');
  c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  const refused = await c.answer(2);
  assert.equal(refused.error.data.code, 'ANDON_HALTED');
  assert.equal(refused.error.data.component, 'transport:tcp');
  await rt.resume('transport:tcp');
  c.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
  assert.ok((await c.answer(3)).result.tools);
  c.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'slow', arguments: { ms: 150, tag: 'inflight' } } });
  await new Promise((r) => setTimeout(r, 30));
  const drained = rt.drain('test');
  // New work during the drain is refused; the in-flight call finishes; then the connection closes.
  c.send({ jsonrpc: '2.0', id: 5, method: 'ping' });
  assert.equal((await c.answer(5)).error.data.code, 'ANDON_DRAINING');
  assert.equal((await c.answer(4)).result.content[0].text, 'done inflight');
  await c.closed;
  assert.equal((await drained).graceExpired, false);
});

test('a halt of transport:tcp is persisted: the next start refuses from the first message until resumed', async () => {
  const first = await start();
  await first.rt.halt('transport:tcp', 'kept across restarts');
  await first.rt.drain('restart');
  const { rt, port } = await start({}, first.stateDir, first.port);
  try {
    assert.equal(rt.components().find((x) => x.id === 'transport:tcp')?.state, 'halted_manual');
    const c = await tcpPeer(port);
    c.send(INIT(1));
    const refused = await c.answer(1);
    assert.equal(refused.error.data.code, 'ANDON_HALTED');
    assert.equal(refused.error.data.reason, 'kept across restarts');
    await rt.resume('transport:tcp');
    c.send(INIT(2));
    assert.ok((await c.answer(2)).result);
    c.close();
  } finally {
    await rt.drain('test');
  }
});

test('standalone serveTcp: the createServer hook makes the listener (where TLS goes), and requests carry the peer address (clientKey: the connection\'s session, else the address)', async () => {
  const server = buildTestServer();
  const seen: string[] = [];
  server.use({ name: 'who', phase: 'handler', admit: (inc) => void seen.push(`${inc.remote}|${clientKey(inc)}|${inc.request.method}`) });
  let made = 0;
  const ep = await serveTcp(server, {
    createServer: (onConnection) => {
      made++;
      return createNetServer({ allowHalfOpen: true }, onConnection);
    },
  });
  try {
    assert.equal(made, 1);
    const c = await tcpPeer(ep.port);
    c.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await c.answer(1);
    c.send(INIT(2));
    const init = await c.answer(2);
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    await c.answer(3);
    assert.ok(init.result);
    c.send({ jsonrpc: '2.0', id: 4, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
    await c.answer(4);
    // 2025 requests key on the connection's session (one per connection, as stdio's); 2026 ones on the address.
    const sid = /session:([0-9a-f]{32})/.exec(seen[0]!)?.[1];
    assert.ok(sid, seen[0]);
    assert.deepEqual(seen, [`127.0.0.1|session:${sid}|ping`, `127.0.0.1|session:${sid}|initialize`, `127.0.0.1|session:${sid}|tools/list`, '127.0.0.1|ip:127.0.0.1|server/discover']);
    assert.equal(ep.connections, 1);
    c.close();
    await c.closed;
  } finally {
    await ep.close();
  }
});

test('a TCP peer that does not read is cut off past maxBufferedBytes, and the node keeps serving', async () => {
  const { rt } = await start({ tcp: { maxBufferedBytes: 256 * 1024, maxLineBytes: 1024 * 1024 } });
  try {
    const c = await tcpPeer(Number(new URL(rt.transports[0]!.url).port));
    c.send(INIT(1));
    await c.answer(1);
    c.socket.pause();
    const text = 'y'.repeat(512 * 1024);
    for (let i = 0; i < 40; i++) c.send({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    const deadline = Date.now() + 10_000;
    while (rt.transports[0]!.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(rt.transports[0]!.connections, 0, 'the connection was closed');
    c.socket.resume();
    await c.closed;
    const d = await tcpPeer(Number(new URL(rt.transports[0]!.url).port));
    d.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.deepEqual((await d.answer(1)).result, {});
    d.close();
  } finally {
    await rt.drain('test');
  }
});
