/**
 * Misbehaving servers: malformed JSON (body, SSE event, stdio line), responses to unknown ids,
 * wrong-typed results, output that breaks its outputSchema, a server that hangs, one that drops
 * the connection, one that dies. Each must fail only the affected call with a typed error, leave
 * other calls working, and never produce an unhandled rejection.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { createClient, McpError, type McpClient } from '../../src/client/index.js';
import { SERVERS, forbidUnhandledRejections, rejectsWith, text, waitFor } from './helpers.js';

const guard = forbidUnhandledRejections();
after(() => guard.check());

const BAD = resolve(SERVERS, 'misbehaving-stdio.js');
const TOOLS = [
  { name: 'echo', inputSchema: { type: 'object' } },
  { name: 'typed', inputSchema: { type: 'object' }, outputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
];

/** A raw 2025-era Streamable HTTP server whose tools/call misbehaves by tool name. */
function badHttpServer(): Promise<{ url: string; server: Server; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' }).end(text);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const m = JSON.parse(body) as { id?: number; method: string; params?: any };
      if (m.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      const ok = (result: unknown) => json(res, 200, { jsonrpc: '2.0', id: m.id, result });
      switch (m.method) {
        case 'server/discover':
          // What a 2025-only server does with a method it does not know.
          return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Server not initialized' } });
        case 'initialize':
          return ok({ protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'bad-http', version: '1' } });
        case 'tools/list':
          if (m.params?.cursor === 'loop') return ok({ tools: [], nextCursor: 'loop' });
          if (req.headers['x-list-mode'] === 'wrong') return ok({ tools: 'nope' });
          if (req.headers['x-list-mode'] === 'loop') return ok({ tools: TOOLS, nextCursor: 'loop' });
          return ok({ tools: TOOLS });
        case 'tools/call':
          switch (m.params.name) {
            case 'echo':
              return ok({ content: [{ type: 'text', text: String(m.params.arguments?.text) }] });
            case 'typed':
              return ok({ content: [{ type: 'text', text: '{"n":"seven"}' }], structuredContent: { n: 'seven' } });
            case 'malformed_json':
              return json(res, 200, `{"jsonrpc":"2.0","id":${m.id},"result":{`);
            case 'malformed_sse':
              res.writeHead(200, { 'content-type': 'text/event-stream' });
              res.write('event: message\ndata: {this is not json\n\n');
              return res.end();
            case 'unknown_id':
              res.writeHead(200, { 'content-type': 'text/event-stream' });
              res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 424242, result: { content: [] } })}\n\n`);
              res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'real' }] } })}\n\n`);
              return res.end();
            case 'wrong_type':
              return json(res, 200, { jsonrpc: '2.0', id: m.id, result: 'oops' });
            case 'no_content':
              return ok({ structuredContent: {} });
            case 'not_jsonrpc':
              return json(res, 200, { hello: 'world' });
            case 'http500':
              res.writeHead(500, { 'content-type': 'text/plain' }).end('internal meltdown');
              return;
            case 'hang':
              return; // never answered
            case 'drop':
              req.socket.destroy();
              return;
            default:
              return ok({ content: [], isError: true });
          }
        default:
          return json(res, 200, { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } });
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolveStart) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
      resolveStart({
        url,
        server,
        sockets,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

describe('a misbehaving HTTP server', () => {
  let srv: Awaited<ReturnType<typeof badHttpServer>>;
  let c: McpClient;
  const warnings: Array<{ code: string }> = [];
  before(async () => {
    srv = await badHttpServer();
    c = createClient(srv.url, { timeoutMs: 3000 });
    c.on('warning', (w) => warnings.push(w));
    await c.connect();
  });
  after(async () => {
    await c.close();
    await srv.close();
  });

  test('falls back from server/discover (400) to initialize', () => {
    assert.equal(c.server.era, '2025');
    assert.equal(c.server.sessionId, 'sess-1');
  });

  test('malformed JSON body → MALFORMED_RESPONSE on that call only', async () => {
    const [bad, good] = await Promise.allSettled([c.callTool('malformed_json'), c.callTool('echo', { text: 'fine' })]);
    assert.equal(bad.status, 'rejected');
    assert.equal((bad as PromiseRejectedResult).reason.code, 'MALFORMED_RESPONSE');
    assert.equal(text((good as PromiseFulfilledResult<any>).value), 'fine');
  });

  test('malformed SSE event → MALFORMED_RESPONSE', async () => {
    await rejectsWith(c.callTool('malformed_sse'), 'MALFORMED_RESPONSE');
  });

  test('a response to an unknown id is ignored with a warning', async () => {
    assert.equal(text(await c.callTool('unknown_id')), 'real');
    assert.ok(warnings.some((w) => w.code === 'UNKNOWN_RESPONSE_ID'));
  });

  test('wrong-typed results → INVALID_RESULT', async () => {
    await rejectsWith(c.callTool('wrong_type'), 'INVALID_RESULT');
    await rejectsWith(c.callTool('no_content'), 'INVALID_RESULT');
    await rejectsWith(c.callTool('not_jsonrpc'), 'INVALID_RESULT');
  });

  test('structuredContent that breaks the outputSchema → OUTPUT_SCHEMA_MISMATCH (unless disabled)', async () => {
    const err = await rejectsWith(c.callTool('typed'), 'OUTPUT_SCHEMA_MISMATCH');
    assert.match(err.message, /structuredContent\.n: must be number/);
    const r = await c.callTool('typed', {}, { validateOutput: false });
    assert.deepEqual(r.structuredContent, { n: 'seven' });
  });

  test('HTTP 500 → HTTP_ERROR with the status', async () => {
    const err = await rejectsWith(c.callTool('http500'), 'HTTP_ERROR');
    assert.equal(err.status, 500);
    assert.match(err.message, /internal meltdown/);
  });

  test('a hanging call times out while others complete', async () => {
    const hang = c.callTool('hang', {}, { timeoutMs: 200 });
    assert.equal(text(await c.callTool('echo', { text: 'meanwhile' })), 'meanwhile');
    await rejectsWith(hang, 'TIMEOUT');
  });

  test('a dropped connection → CONNECTION_CLOSED, and a tool call is not re-sent', async () => {
    await rejectsWith(c.callTool('drop'), 'CONNECTION_CLOSED');
    assert.equal(text(await c.callTool('echo', { text: 'next' })), 'next');
  });

  test('wrong-typed list and a pagination loop → INVALID_RESULT', async () => {
    const wrong = createClient(srv.url, { headers: { 'x-list-mode': 'wrong' }, protocolVersion: '2025-11-25' });
    await wrong.connect();
    await rejectsWith(wrong.listTools(), 'INVALID_RESULT');
    await wrong.close();
    const loop = createClient(srv.url, { headers: { 'x-list-mode': 'loop' }, protocolVersion: '2025-11-25' });
    await loop.connect();
    const err = await rejectsWith(loop.listTools(), 'INVALID_RESULT');
    assert.match(err.message, /pagination loop/);
    await loop.close();
  });
});

/** A 2026 server that always asks for more input. */
test('2026: a server that never stops asking → INPUT_ROUNDS_EXCEEDED; requestState echoed verbatim', async () => {
  const states: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const m = JSON.parse(body) as { id: number; method: string; params: any };
      const reply = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      if (m.method === 'server/discover') return reply({ resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, ttlMs: 0, cacheScope: 'private' });
      if (m.method === 'tools/list') return reply({ resultType: 'complete', tools: [], ttlMs: 0, cacheScope: 'private' });
      states.push(m.params.requestState);
      reply({ resultType: 'input_required', requestState: `state-${states.length} ü`, inputRequests: { q: { method: 'elicitation/create', params: { message: 'again?', requestedSchema: { type: 'object', properties: {} } } } } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = createClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, { maxInputRounds: 3, elicitation: async () => ({ action: 'accept', content: {} }) });
  await c.connect();
  await rejectsWith(c.callTool('loop'), 'INPUT_ROUNDS_EXCEEDED');
  assert.deepEqual(states, [undefined, 'state-1 ü', 'state-2 ü', 'state-3 ü']);
  await c.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('a misbehaving stdio server', () => {
  const spawnBad = async (mode: string, warnings: Array<{ code: string }> = []) => {
    const c = createClient({ command: process.execPath, args: [BAD, mode] }, { timeoutMs: 3000 });
    c.on('warning', (w) => warnings.push(w));
    await c.connect();
    return c;
  };

  test('a broken JSON line fails the call it names (MALFORMED_RESPONSE); the connection survives', async () => {
    const c = await spawnBad('garbage');
    await rejectsWith(c.listTools(), 'MALFORMED_RESPONSE');
    assert.equal(text(await c.callTool('echo', { text: 'ok' }, { validateOutput: false })), 'ok');
    await c.close();
  });

  test('non-JSON noise without an id is a warning; calls still work', async () => {
    const warnings: Array<{ code: string }> = [];
    const c = await spawnBad('noise', warnings);
    assert.equal(text(await c.callTool('echo', { text: 'through the noise' })), 'through the noise');
    assert.ok(warnings.some((w) => w.code === 'MALFORMED_MESSAGE'));
    await c.close();
  });

  test('a response to an unknown id is ignored', async () => {
    const warnings: Array<{ code: string }> = [];
    const c = await spawnBad('unknown-id', warnings);
    assert.equal(text(await c.callTool('twice')), 'the real answer');
    await waitFor(() => warnings.some((w) => w.code === 'UNKNOWN_RESPONSE_ID'), 1000, 'warning');
    await c.close();
  });

  test('wrong-typed results → INVALID_RESULT', async () => {
    const c = await spawnBad('wrong-type');
    await rejectsWith(c.listTools(), 'INVALID_RESULT');
    await rejectsWith(c.callTool('bad'), 'INVALID_RESULT');
    await c.close();
  });

  test('a hanging call → TIMEOUT, then notifications/cancelled; the server error for an unknown tool is an McpError', async () => {
    const c = await spawnBad('hang');
    await rejectsWith(c.callTool('hang', {}, { timeoutMs: 100 }), 'TIMEOUT');
    await assert.rejects(c.callTool('nope'), (e: unknown) => e instanceof McpError && e.code === -32602);
    await c.close();
  });
});
