/**
 * The legacy HTTP+SSE server transport (2024-11-05) in a real runtime on 127.0.0.1, on the MCP
 * listener next to Streamable HTTP: the official SDK v1 `SSEClientTransport` and our client's
 * legacy transport connect and call tools; the raw protocol (the `endpoint` event, 202, answers on
 * the stream); the refusals (no or unknown sessionId, bad JSON, oversized body); `transport:sse`
 * halted and resumed; a drain ending the streams.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { createClient } from '../../src/client/index.js';
import { LegacySseTransport } from '../../src/client/legacy-sse.js';
import { buildTestServer } from '../server/test-server.js';
import { INIT } from '../helpers/wire-clients.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function start(extra: Partial<RuntimeOptions> = {}): Promise<{ rt: Runtime; url: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-sse-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server: buildTestServer(), stateDir, http: { port: 0 }, legacySse: { maxBodyBytes: 8192, maxConnections: 3 }, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 1000, haltMs: 3000 }, ...extra });
  await rt.start();
  const sse = rt.transports.find((t) => t.kind === 'sse');
  assert.ok(sse);
  return { rt, url: sse.url };
}

/** A raw legacy SSE stream: its endpoint and the `message` events as they arrive. */
async function openStream(url: string): Promise<{ endpoint: string; messages: any[]; next(id: unknown): Promise<any>; close(): void; ended: Promise<void> }> {
  const messages: any[] = [];
  let wake = () => {};
  let endpoint = '';
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const req = request(url, { headers: { accept: 'text/event-stream' } });
  await new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream');
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
          if (event === 'endpoint') {
            endpoint = data!;
            resolve();
          } else if (event === 'message') {
            messages.push(JSON.parse(data!));
            wake();
          }
          end = buf.indexOf('\n\n');
        }
      });
      res.on('end', resolveEnded);
      res.on('close', resolveEnded);
    });
    req.end();
  });
  return {
    endpoint,
    messages,
    ended,
    close: () => req.destroy(),
    async next(id: unknown) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const i = messages.findIndex((m) => m.id === id);
        if (i !== -1) return messages.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no answer to ${String(id)}: ${JSON.stringify(messages)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
  };
}

async function post(base: string, path: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.text() };
}

test('the official SDK v1 SSEClientTransport connects over the legacy transport and calls tools', async () => {
  const { rt, url } = await start();
  try {
    assert.equal(new URL(url).port, String(rt.http!.port), 'shares the MCP listener');
    const client = new Client({ name: 'sdk-v1-legacy', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(url)));
    assert.equal(client.getServerVersion()?.name, rt.server.info.name);
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'echo'));
    const r = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    assert.deepEqual(r.structuredContent, { sum: 42 });
    await client.close();
    // Our client's legacy transport too.
    const ours = createClient({ transport: new LegacySseTransport(url) });
    await ours.connect();
    assert.equal(ours.server.transport, 'sse');
    const echoed = await ours.callTool('echo', { text: 'legacy' });
    assert.equal((echoed.content[0] as { text: string }).text, 'legacy');
    await ours.close();
  } finally {
    await rt.drain('test');
  }
});

test('raw protocol and refusals: endpoint event, 202 with the answer on the stream; 400, 404, 413 and -32700 named in the catalogue', async () => {
  const { rt, url } = await start();
  try {
    const s = await openStream(url);
    assert.match(s.endpoint, /^\/messages\?sessionId=[0-9a-f]{32}$/);
    const a = await post(url, s.endpoint, JSON.stringify(INIT(1)));
    assert.equal(a.status, 202);
    assert.equal((await s.next(1)).result.protocolVersion, '2025-11-25');
    const none = await post(url, '/messages', JSON.stringify(INIT(2)));
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body).error.data.code, 'ANDON_SSE_SESSION_REQUIRED');
    const unknown = await post(url, '/messages?sessionId=0123456789abcdef0123456789abcdef', JSON.stringify(INIT(2)));
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).error.data.code, 'ANDON_SSE_SESSION_NOT_FOUND');
    const bad = await post(url, s.endpoint, '{"jsonrpc":');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error.code, -32700);
    assert.equal(JSON.parse(bad.body).error.data.code, 'ANDON_SSE_PARSE_ERROR');
    const batch = await post(url, s.endpoint, '[1]');
    assert.equal(batch.status, 400);
    assert.equal(JSON.parse(batch.body).error.code, -32600);
    const big = await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping', params: { pad: 'x'.repeat(10_000) } }));
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body).error.data.code, 'ANDON_SSE_PAYLOAD_TOO_LARGE');
    // The stream survived all of that.
    assert.equal((await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }))).status, 202);
    assert.deepEqual((await s.next(4)).result, {});
    const get = await fetch(new URL(s.endpoint, url));
    assert.equal(get.status, 405);
    await get.text();
    // Streamable HTTP on the same listener is untouched.
    const mcp = await fetch(rt.url!, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(INIT(1)) });
    assert.equal(mcp.status, 200);
    await mcp.text();
    // A closed stream's session is gone.
    s.close();
    await s.ended;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }))).status, 404);
    const streams = await Promise.all([1, 2, 3].map(() => openStream(url)));
    const full = await fetch(url);
    assert.equal(full.status, 503);
    assert.equal((JSON.parse(await full.text()) as any).error.data.code, 'ANDON_TRANSPORT_TOO_MANY_CONNECTIONS');
    for (const x of streams) x.close();
  } finally {
    await rt.drain('test');
  }
});

test('halting transport:sse refuses its messages with ANDON_HALTED on the stream; resume restores; a drain ends the streams after in-flight calls', async () => {
  const { rt, url } = await start();
  const s = await openStream(url);
  await post(url, s.endpoint, JSON.stringify(INIT(1)));
  await s.next(1);
  await rt.halt('transport:sse', 'maintenance');
  assert.equal((await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }))).status, 202);
  const refused = await s.next(2);
  assert.equal(refused.error.data.code, 'ANDON_HALTED');
  assert.equal(refused.error.data.component, 'transport:sse');
  await rt.resume('transport:sse');
  await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
  assert.ok((await s.next(3)).result.tools);
  await post(url, s.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'slow', arguments: { ms: 150, tag: 'inflight' } } }));
  await new Promise((r) => setTimeout(r, 30));
  const drained = rt.drain('test');
  assert.equal((await s.next(4)).result.content[0].text, 'done inflight');
  await s.ended;
  assert.equal((await drained).graceExpired, false);
});

test('on its own port (with http off): the SDK v1 client connects; other paths are 404', async () => {
  const { rt, url } = await start({ http: false, legacySse: { port: 0, ssePath: '/events', messagesPath: '/rpc' } });
  try {
    assert.equal(rt.http, undefined);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/events$/);
    const client = new Client({ name: 'sdk-v1-legacy', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(url)));
    const r = await client.callTool({ name: 'echo', arguments: { text: 'own port' } });
    assert.equal((r.content as Array<{ text: string }>)[0]!.text, 'own port');
    await client.close();
    const other = await fetch(new URL('/mcp', url));
    assert.equal(other.status, 404);
    await other.text();
  } finally {
    await rt.drain('test');
  }
});

test('sharing the MCP listener needs one: with http off and no port, start fails with ANDON_LISTEN_FAILED', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-sse-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server: buildTestServer(), stateDir, http: false, legacySse: {}, ops: false, observability: false, signals: false, adminToken: 't' });
  await assert.rejects(rt.start(), (e: Error & { code?: string }) => e.code === 'ANDON_LISTEN_FAILED' && /legacySse\.port/.test(e.message));
});
