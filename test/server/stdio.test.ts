import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { serveStdio } from '../../src/index.js';
import { CLI, TEST_STATE_DIR } from '../helpers/paths.js';
import { checkServerMessage } from '../helpers/schema.js';
import { buildTestServer } from './test-server.js';
import { waitFor } from '../helpers/wait.js';

/** Talks newline-delimited JSON to a stdio server and validates every line it prints. */
function lineClient(input: NodeJS.WritableStream, output: NodeJS.ReadableStream) {
  const waiting = new Map<unknown, (m: any) => void>();
  const seen: any[] = [];
  const methods = new Map<unknown, string>();
  createInterface({ input: output }).on('line', (line) => {
    const m = JSON.parse(line);
    checkServerMessage(m.params?._meta?.['io.modelcontextprotocol/protocolVersion'] || methods.get(m.id) === 'server/discover' ? '2026' : '2025', m, methods.get(m.id));
    seen.push(m);
    const w = waiting.get(m.id ?? null);
    if (w && !('method' in m)) {
      waiting.delete(m.id ?? null);
      w(m);
    }
  });
  return {
    seen,
    send(raw: string) {
      input.write(`${raw}\n`);
    },
    request(id: unknown, method: string, params?: unknown): Promise<any> {
      methods.set(id, method);
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
      });
    },
    expect(id: unknown): Promise<any> {
      return new Promise((resolve) => waiting.set(id, resolve));
    },
  };
}

describe('stdio transport', () => {
  test('a real child process: nothing but JSON-RPC on stdout; a malformed line gets -32700 and the next is served', async () => {
    const child = spawn(process.execPath, [CLI, 'example', 'simple', '--stdio', '--state-dir', TEST_STATE_DIR], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const c = lineClient(child.stdin!, child.stdout!);
      const init = await c.request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
      assert.equal(init.result.serverInfo.name, 'andon-simple');
      c.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      const bad = c.expect(null);
      c.send('{not json');
      const err = await bad;
      assert.equal(err.error.code, -32700);
      const echo = await c.request(2, 'tools/call', { name: 'echo', arguments: { text: 'after the bad line' } });
      assert.equal(echo.result.content[0].text, 'after the bad line');
      const batch = c.expect(null);
      c.send('[{"jsonrpc":"2.0","id":3,"method":"ping"}]');
      assert.equal((await batch).error.code, -32600);
      const d = await c.request('d', 'server/discover', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } });
      assert.equal(d.result.resultType, 'complete');
      for (const m of c.seen) assert.equal(m.jsonrpc, '2.0');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('cancellation aborts the handler; server→client requests round-trip over the same pipe', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const probe = { aborted: [] as string[], started: [] as string[] };
    const conn = serveStdio(buildTestServer(probe), { input, output });
    const c = lineClient(input, output);
    await c.request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: { elicitation: {}, sampling: {} }, clientInfo: { name: 't', version: '1' } });
    void c.request(2, 'tools/call', { name: 'slow', arguments: { ms: 5000, tag: 'stdio-cancel' } });
    await waitFor(() => probe.started.includes('stdio-cancel'), 5000, 'the slow handler to start');
    c.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'test' } }));
    await waitFor(() => probe.aborted.includes('stdio-cancel'), 5000, 'the handler signal to abort');
    await c.request(20, 'ping');
    assert.equal(c.seen.filter((m) => m.id === 2).length, 0, 'a cancelled request gets no response');
    const asked = c.request(3, 'tools/call', { name: 'ask', arguments: {} });
    await waitFor(() => c.seen.some((m) => m.method === 'elicitation/create'), 5000, 'elicitation/create');
    const req = c.seen.find((m) => m.method === 'elicitation/create');
    c.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { action: 'accept', content: { name: 'Grace' } } }));
    assert.equal((await asked).result.content[0].text, 'hello Grace');
    input.end();
    await conn.closed;
  });

  test('an over-long line is one -32600, also when it arrives in many chunks; its tail is not served as a line', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const conn = serveStdio(buildTestServer(), { input, output, maxLineBytes: 1024, redirectConsole: false });
    const c = lineClient(input, output);
    const errors = () => c.seen.filter((m) => m.error && m.id === undefined);
    // 10 KiB of one line in 100-byte chunks, then a tail that is valid JSON-RPC on its own:
    // before the fix every 1 KiB of it was a separate error and the tail ran as a request.
    input.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
    for (let i = 0; i < 100; i++) input.write('x'.repeat(100));
    input.write('"}} {"jsonrpc":"2.0","id":"tail","method":"ping"}\n');
    const after = await c.request('after', 'ping');
    assert.deepEqual(after.result, {});
    assert.equal(errors().length, 1, JSON.stringify(c.seen));
    assert.equal(errors()[0].error.code, -32600);
    assert.match(errors()[0].error.message, /line exceeds 1024 bytes/);
    assert.ok(!c.seen.some((m) => m.id === 'tail' || m.id === 1), 'no part of the discarded line was served');
    conn.close();
  });
});
