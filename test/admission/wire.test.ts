/**
 * The admission pipeline through real transports: a Streamable HTTP listener on 127.0.0.1:0 (both
 * eras, JSON and inside SSE) and stdio streams. Refusals must reach the peer as 503/429 with
 * Retry-After and a JSON-RPC error whose `data` says why, never as a 2025 HTTP 200.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { AndonError, Errors, createServer, nodeStage, serveHttp, serveStdio, type McpServer } from '../../src/index.js';
import { ACCEPT, Session2025, V26, meta26, post, post26 } from '../helpers/mcp-http.js';

function build(): McpServer {
  const s = createServer({ name: 'admission', version: '1.0.0' });
  s.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text?: string }) => text ?? '');
  s.tool('other', {}, () => 'other');
  return s;
}

/** A quota stage as a user would write it: N calls per client, then 429 until the window ends. */
function quota(limit: number, retryAfterMs: number) {
  let used = 0;
  return {
    name: 'quota',
    phase: 'rate' as const,
    admit: (req: { request: { method: string } }) => {
      if (req.request.method !== 'tools/call') return undefined;
      if (++used > limit) return new AndonError(Errors.RateLimited, undefined, { retryAfterMs, reason: `quota of ${limit} calls used`, component: 'quota' });
      return undefined;
    },
  };
}

describe('admission over Streamable HTTP', () => {
  test('2025: draining refuses with 503 + Retry-After and JSON-RPC data (no more HTTP 200); initialize too, with no session id', async () => {
    const server = build();
    let phase = 'running';
    server.use(nodeStage({ drainPhase: () => phase, nodeHalt: () => undefined }));
    const ep = await serveHttp(server, { port: 0 });
    try {
      const s = new Session2025(ep.url);
      await s.initialize();
      assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'ok' } })).content[0].text, 'ok');
      phase = 'draining';
      const r = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.equal(r.response.error.code, -32001);
      assert.deepEqual(r.response.error.data, { code: 'ANDON_DRAINING', retryAfterMs: 5000, reason: 'node is draining', component: 'node' });
      const init = await post(ep.url, { jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      assert.equal(init.status, 503);
      assert.equal(init.headers.get('mcp-session-id'), null, 'a refused initialize opens no session');
      assert.equal(init.response.error.data.code, 'ANDON_DRAINING');
      phase = 'running';
      assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'back' } })).content[0].text, 'back');
    } finally {
      await ep.close();
    }
  });

  test('429 + Retry-After from a user quota stage, in both eras', async () => {
    const server = build();
    server.use(quota(1, 1500));
    const ep = await serveHttp(server, { port: 0 });
    try {
      const s = new Session2025(ep.url);
      await s.initialize();
      assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'first' } })).content[0].text, 'first');
      const r = await s.request('tools/call', { name: 'echo', arguments: { text: 'second' } });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '2');
      assert.equal(r.headers.get('mcp-session-id'), s.sessionId);
      assert.deepEqual(r.response.error.data, { code: 'ANDON_RATE_LIMITED', retryAfterMs: 1500, reason: 'quota of 1 calls used', component: 'quota' });
      const r26 = await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'third' } });
      assert.equal(r26.status, 429);
      assert.equal(r26.headers.get('retry-after'), '2');
      assert.equal(r26.response.error.data.code, 'ANDON_RATE_LIMITED');
      // Other methods pass the quota stage untouched.
      assert.equal((await s.request('tools/list')).status, 200);
    } finally {
      await ep.close();
    }
  });

  test('2026: a halted node refuses with 503 + Retry-After and data', async () => {
    const server = build();
    server.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => ({ reason: 'incident 7' }) }));
    const ep = await serveHttp(server, { port: 0 });
    try {
      const r = await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.match(r.response.error.message, /node halted \(incident 7\)/);
      assert.deepEqual(r.response.error.data, { code: 'ANDON_NODE_HALTED', retryAfterMs: 5000, reason: 'incident 7', component: 'node' });
    } finally {
      await ep.close();
    }
  });

  test('a refusal inside an SSE response (status already sent) travels as a JSON-RPC error with data', async () => {
    const server = build();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    server.use({
      name: 'slow-auth',
      phase: 'handler',
      admit: async () => {
        await held;
        return new AndonError(Errors.RateLimited, undefined, { retryAfterMs: 3000, reason: 'too many', component: 'quota' });
      },
    });
    const ep = await serveHttp(server, { port: 0, responseMode: 'sse' });
    try {
      const res = await fetch(ep.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V26, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: meta26() } }),
      });
      // The stream opened (200, text/event-stream) while the stage still held the request.
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      release();
      const text = await res.text();
      const data = text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => JSON.parse(l.slice(6)) as { id?: number; error?: { code: number; data: unknown } });
      const response = data.find((m) => m.id === 5)!;
      assert.equal(response.error!.code, -32001);
      assert.deepEqual(response.error!.data, { code: 'ANDON_RATE_LIMITED', retryAfterMs: 3000, reason: 'too many', component: 'quota' });
    } finally {
      await ep.close();
    }
  });

  test('a 2026 subscriptions/listen passes the admission stages too: refused with 503 + data while draining, opened when running', async () => {
    const server = build();
    let phase = 'draining';
    server.use(nodeStage({ drainPhase: () => phase, nodeHalt: () => undefined }));
    const ep = await serveHttp(server, { port: 0 });
    try {
      const refused = await post26(ep.url, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(refused.response.error.data.code, 'ANDON_DRAINING');
      phase = 'running';
      const ac = new AbortController();
      const res = await fetch(ep.url, {
        method: 'POST',
        signal: ac.signal,
        headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V26, 'mcp-method': 'subscriptions/listen' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta26() } }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      ac.abort();
    } finally {
      await ep.close();
    }
  });

  test('a halted tool is hidden from tools/list and its calls answer isError with the reason, in both eras', async () => {
    const server = build();
    const ep = await serveHttp(server, { port: 0 });
    try {
      const s = new Session2025(ep.url);
      await s.initialize();
      server.setToolHalted('echo', 'returns wrong data');
      const names25 = (await s.call('tools/list')).tools.map((t: { name: string }) => t.name);
      assert.deepEqual(names25, ['other']);
      const call25 = await s.call('tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(call25.isError, true);
      assert.equal(call25.content[0].text, 'Tool "echo" is halted: returns wrong data');
      const list26 = await post26(ep.url, 'tools/list');
      assert.deepEqual(list26.response.result.tools.map((t: { name: string }) => t.name), ['other']);
      const call26 = await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(call26.status, 200);
      assert.equal(call26.response.result.content[0].text, 'Tool "echo" is halted: returns wrong data');
      server.setToolHalted('echo', null);
      assert.deepEqual((await s.call('tools/list')).tools.map((t: { name: string }) => t.name), ['echo', 'other']);
      assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'back' } })).content[0].text, 'back');
    } finally {
      await ep.close();
    }
  });

  test('a visible() stage hides tools per client (the shape feature flags use); calls are its own business', async () => {
    const server = build();
    server.use({ name: 'beta-flag', phase: 'flag', visible: (kind, name, req) => !(kind === 'tool' && name === 'other' && req.headers?.['x-beta'] !== '1') });
    const ep = await serveHttp(server, { port: 0 });
    try {
      assert.deepEqual((await post26(ep.url, 'tools/list')).response.result.tools.map((t: { name: string }) => t.name), ['echo']);
      assert.deepEqual((await post26(ep.url, 'tools/list', {}, { headers: { 'x-beta': '1' } })).response.result.tools.map((t: { name: string }) => t.name), ['echo', 'other']);
    } finally {
      await ep.close();
    }
  });

  test('a halted HTTP transport refuses HTTP requests with ANDON_HALTED while stdio on the same server goes on', async () => {
    const server = build();
    const ep = await serveHttp(server, { port: 0 });
    const input = new PassThrough();
    const output = new PassThrough();
    const conn = serveStdio(server, { input, output });
    const lines = createInterface({ input: output });
    const got = new Map<unknown, any>();
    const waiters = new Map<unknown, (m: any) => void>();
    lines.on('line', (l) => {
      const m = JSON.parse(l);
      got.set(m.id, m);
      waiters.get(m.id)?.(m);
    });
    const ask = (id: number, method: string, params: Record<string, unknown>) =>
      new Promise<any>((resolve) => {
        waiters.set(id, resolve);
        input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    try {
      const s = new Session2025(ep.url);
      await s.initialize();
      ep.handler.setAccepting(false, 'Service Unavailable: transport halted (network maintenance)');
      const r = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.equal(r.response.error.message, 'Service Unavailable: transport halted (network maintenance)');
      assert.equal(r.response.error.data.code, 'ANDON_HALTED');
      assert.equal(r.response.error.data.component, 'transport:http');
      const viaStdio = await ask(1, 'tools/call', { name: 'echo', arguments: { text: 'stdio works' }, _meta: meta26() });
      assert.equal(viaStdio.result.content[0].text, 'stdio works');
      ep.handler.setAccepting(true);
      assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'open' } })).content[0].text, 'open');
    } finally {
      conn.close();
      await ep.close();
    }
  });
});

describe('admission over stdio', () => {
  test('a refusal is a JSON-RPC error with a stable code and data (code, retryAfterMs, reason, component); a halted tool is hidden', async () => {
    const server = build();
    let phase = 'running';
    server.use(nodeStage({ drainPhase: () => phase, nodeHalt: () => undefined }));
    server.use(quota(0, 250));
    const input = new PassThrough();
    const output = new PassThrough();
    const conn = serveStdio(server, { input, output });
    const waiters = new Map<unknown, (m: any) => void>();
    createInterface({ input: output }).on('line', (l) => {
      const m = JSON.parse(l);
      waiters.get(m.id)?.(m);
    });
    const ask = (id: number, method: string, params: Record<string, unknown> = {}) =>
      new Promise<any>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to ${method}`)), 10_000);
        waiters.set(id, (m) => {
          clearTimeout(t);
          resolve(m);
        });
        input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    try {
      await ask(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
      input.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      const limited = await ask(2, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      assert.equal(limited.error.code, -32001);
      assert.deepEqual(limited.error.data, { code: 'ANDON_RATE_LIMITED', retryAfterMs: 250, reason: 'quota of 0 calls used', component: 'quota' });
      server.setToolHalted('other', 'broken');
      assert.deepEqual((await ask(3, 'tools/list')).result.tools.map((t: { name: string }) => t.name), ['echo']);
      assert.deepEqual((await ask(4, 'tools/list', { _meta: meta26() })).result.tools.map((t: { name: string }) => t.name), ['echo']);
      phase = 'draining';
      const drained = await ask(5, 'tools/list');
      assert.equal(drained.error.code, -32001);
      assert.equal(drained.error.data.code, 'ANDON_DRAINING');
      assert.equal(drained.error.data.component, 'node');
      const listen = await ask(6, 'subscriptions/listen', { notifications: { toolsListChanged: true }, _meta: meta26() });
      assert.equal(listen.error.data.code, 'ANDON_DRAINING', 'a listen is admitted like any request');
    } finally {
      conn.close();
    }
  });

  test('addHook stays a thin alias: a user stage in the handler phase after the built-in ones, awaited before the handler', () => {
    const server = build();
    server.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
    server.addHook(async () => {});
    server.use({ name: 'auth', phase: 'node', admit: () => undefined });
    assert.deepEqual(server.admission.stages(), [
      ['node', 'node'],
      ['node', 'auth'],
      ['halt', 'halts'],
      ['handler', 'hook:1'],
    ]);
  });
});
