/**
 * Issue 9 wire defects through real processes: malformed ops/MCP targets (6a), non-object `_meta`
 * (6b), 100k-deep values (6d), multi-byte UTF-8 across 64 KiB stdio chunks and console.log in a
 * stdio handler (6g), resource/prompt/completion handler errors (6k).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createClient } from '../../src/index.js';
import { MAX_JSON_DEPTH, decodeMessage, depthExceeds } from '../../src/protocol/jsonrpc.js';
import { CLI, DIST } from '../helpers/paths.js';
import { freePort, startNode, type NodeProc } from '../helpers/node-process.js';
import { multiByte } from '../fuzz/fixture-server.js';

const FIXTURE = join(DIST, 'test/fuzz/fixture-server.js');
const STACK = /\n\s+at .+:\d+:\d+/;

/** A raw HTTP/1.1 request, so the target reaches the server exactly as written. */
function raw(port: number, method: string, target: string, headers: Record<string, string> = {}, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${method} ${target} within 10 s`));
    }, 10_000);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.on('connect', () => sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer to ${method} ${target}: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const JSON_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(node: NodeProc, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(node.url, { method: 'POST', headers: { ...JSON_POST, ...headers }, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    // An SSE answer: the last data line holds the response.
    const data = text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6);
    json = data.length ? JSON.parse(data[data.length - 1]!.slice(6)) : undefined;
  }
  return { status: res.status, json, text };
}

async function assertServing(node: NodeProc): Promise<void> {
  assert.equal(node.child.exitCode, null, `node exited: ${node.stderr().slice(-1000)}`);
  const live = await raw(Number(new URL(node.opsUrl).port), 'GET', '/health/live');
  assert.equal(live.status, 200);
  const init = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
  assert.equal(init.status, 200);
  assert.equal(init.json.result.serverInfo.name, 'core-test');
}

const init2025 = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } };
const META26 = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const deep = (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`;

describe('wire defects over HTTP, through a real node', () => {
  let node: NodeProc;
  let opsPort: number;
  let mcpPort: number;
  before(async () => {
    mcpPort = await freePort();
    opsPort = await freePort();
    // Debug logging subscribes the request start/end loggers: the path that crashed on `_meta: null`.
    node = await startNode(FIXTURE, { stateDir: mkdtempSync(join(tmpdir(), 'andon-wire-')), port: mcpPort, opsPort, env: { ANDON_LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await node.exited;
  });

  test('6a: malformed request targets on the ops and MCP listeners get 4xx; the node keeps serving', async () => {
    const bad = await raw(opsPort, 'GET', '/admin/components/%E0%A4%A');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).error, /bad percent-encoding/);
    for (const target of ['//x:99999/', '//[', '//[::1', '/admin/components/%zz/halt', '///']) {
      for (const port of [opsPort, mcpPort]) {
        const r = await raw(port, 'GET', target);
        assert.ok(r.status >= 400 && r.status < 500, `${target} on ${port === opsPort ? 'ops' : 'MCP'}: ${r.status} ${r.body}`);
        assert.doesNotMatch(r.body, STACK);
      }
    }
    await assertServing(node);
  });

  test('an ops request body over 64 KiB is answered 413 (the connection was cut with no answer); the node keeps serving', async () => {
    const auth = { authorization: `Bearer ${node.token()}`, 'content-type': 'application/json' };
    for (const body of ['['.repeat(100_000), JSON.stringify({ reason: 'x'.repeat(200_000) })]) {
      const r = await raw(opsPort, 'POST', '/admin/components/node/halt', auth, body);
      assert.equal(r.status, 413, r.body);
      assert.equal(JSON.parse(r.body).code, 'ANDON_OPS_BODY_TOO_LARGE');
    }
    const c = await node.admin('GET', '/admin/components/node');
    assert.equal(c.body.state, 'running', 'the oversized halt was not applied');
    await assertServing(node);
  });

  test('6b: a non-object params._meta is -32602 naming params._meta; the node keeps serving', async () => {
    for (const meta of ['null', '1', '"x"', 'true', '[]']) {
      const r = await post(node, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"_meta":${meta}}}`);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.id, 1);
      assert.equal(r.json.error.code, -32602);
      assert.match(r.json.error.message, /params\._meta/);
    }
    // A non-string traceparent in an object _meta is ignored (a fresh trace), not a crash.
    const t = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { ...init2025, _meta: { traceparent: null, tracestate: 5 } } }));
    assert.equal(t.status, 200);
    await assertServing(node);
  });

  test('a result that cannot be serialised is -32603 for that call; the node keeps serving', async () => {
    const sid = (await fetch(node.url, { method: 'POST', headers: JSON_POST, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init2025 }) })).headers.get('mcp-session-id')!;
    const r = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'unserialisable', arguments: {} } }), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(r.json.error.code, -32603, r.text);
    assert.match(r.json.error.message, /could not be serialised/);
    await assertServing(node);
  });

  test('6d: 100k-deep arguments or capabilities are refused at decode with the limit named', async () => {
    const sid = (await fetch(node.url, { method: 'POST', headers: JSON_POST, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init2025 }) })).headers.get('mcp-session-id')!;
    const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const args = await post(node, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":${deep(100_000)}}}}`, h);
    assert.equal(args.status, 400);
    assert.equal(args.json.id, 7, 'the refusal keeps the request id');
    assert.equal(args.json.error.code, -32600);
    assert.match(args.json.error.message, new RegExp(`limit of ${MAX_JSON_DEPTH} levels`));
    assert.equal(args.json.error.data.code, 'ANDON_JSON_TOO_DEEP');
    const caps = await post(node, `{"jsonrpc":"2.0","id":8,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"t","version":"1"},"capabilities":{"x":${deep(100_000)}}}}`);
    assert.equal(caps.status, 400);
    assert.equal(caps.json.error.code, -32600);
    // At the limit is fine.
    const ok = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'fine', pad: JSON.parse(deep(MAX_JSON_DEPTH - 3)) } } }), h);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.result.content[0].text, 'fine');
    await assertServing(node);
  });

  test('6k: resource, prompt and completion handler errors reach the client with their message, no stack, and are logged', async () => {
    const c = createClient(node.url, { timeoutMs: 10_000 });
    await c.connect();
    try {
      await assert.rejects(c.readResource('test://fail'), (err: Error & { code?: unknown }) => {
        assert.match(err.message, /disk on fire while reading/);
        assert.match(err.message, /test:\/\/fail/);
        assert.doesNotMatch(err.message, STACK);
        return true;
      });
      await assert.rejects(c.getPrompt('bad_prompt', {}), /prompt template missing/);
    } finally {
      await c.close();
    }
    const direct = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'test://fail', _meta: META26 } }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'resources/read', 'mcp-name': 'test://fail' });
    assert.equal(direct.json.error.code, -32603);
    assert.equal(direct.json.error.data.uri, 'test://fail');
    assert.doesNotMatch(direct.text, STACK);
    const completion = await post(node, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'bad_prompt' }, argument: { name: 'x', value: '' }, _meta: META26 } }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'completion/complete' });
    assert.match(completion.json.error.message, /completer broke/);
    const deadline = Date.now() + 5_000;
    while (!/"uri":"test:\/\/fail"[^\n]*disk on fire|disk on fire[^\n]*"uri":"test:\/\/fail"/.test(node.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(node.stderr(), /"event":"handler\.error"[^\n]*"uri":"test:\/\/fail"/);
  });
});

/** A stdio child speaking raw lines; stdout is decoded as a stream and every line must be JSON. */
function stdioChild(): { child: ChildProcess; send(line: string): void; next(id: unknown): Promise<any>; stderr(): string; lines: string[] } {
  const child = spawn(process.execPath, [CLI, 'serve', FIXTURE, '--stdio', '--state-dir', mkdtempSync(join(tmpdir(), 'andon-wire-stdio-'))], { stdio: ['pipe', 'pipe', 'pipe'] });
  const decoder = new StringDecoder('utf8');
  const waiting = new Map<unknown, (m: any) => void>();
  const got = new Map<unknown, any>();
  const lines: string[] = [];
  let buf = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (c: Buffer) => {
    buf += decoder.write(c);
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      const m = JSON.parse(line);
      const w = waiting.get(m.id ?? null);
      if (w) {
        waiting.delete(m.id ?? null);
        w(m);
      } else got.set(m.id ?? null, m);
    }
  });
  return {
    child,
    lines,
    stderr: () => err,
    send: (line) => child.stdin!.write(`${line}\n`),
    next: (id) =>
      new Promise((resolve, reject) => {
        if (got.has(id)) {
          resolve(got.get(id));
          got.delete(id);
          return;
        }
        const t = setTimeout(() => reject(new Error(`no answer for id ${String(id)} within 10 s; stderr: ${err.slice(-500)}`)), 10_000);
        waiting.set(id, (m) => {
          clearTimeout(t);
          resolve(m);
        });
      }),
  };
}

describe('wire defects over stdio, through a real child process', () => {
  let p: ReturnType<typeof stdioChild>;
  before(async () => {
    p = stdioChild();
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: init2025 }));
    assert.ok((await p.next('init')).result);
    p.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  });
  after(() => {
    p.child.kill('SIGKILL');
  });

  test('6b: any non-object _meta answers -32602 and the process keeps serving', async () => {
    for (const [i, meta] of ['null', '1', '"x"', 'true'].entries()) {
      p.send(`{"jsonrpc":"2.0","id":${i + 10},"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},"_meta":${meta}}}`);
      const r = await p.next(i + 10);
      assert.equal(r.error.code, -32602);
      assert.match(r.error.message, /params\._meta/);
    }
    p.send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"_meta":null}}');
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'echo', arguments: { text: 'still here' } } }));
    assert.equal((await p.next(20)).result.content[0].text, 'still here');
    assert.equal(p.child.exitCode, null);
  });

  test('a result that cannot be serialised is -32603 over stdio too', async () => {
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 25, method: 'tools/call', params: { name: 'unserialisable', arguments: {} } }));
    const r = await p.next(25);
    assert.equal(r.error.code, -32603);
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 26, method: 'ping' }));
    assert.deepEqual((await p.next(26)).result, {});
  });

  test('6d: a 100k-deep line is refused with the limit named, keeping the id', async () => {
    p.send(`{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"echo","arguments":{"text":${deep(100_000)}}}}`);
    const r = await p.next(30);
    assert.equal(r.error.code, -32600);
    assert.match(r.error.message, /limit of 64 levels/);
  });

  test('6g: a >64 KiB multi-byte result arrives intact; console.log in a handler goes to stderr', async () => {
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 40, method: 'tools/call', params: { name: 'big_utf8', arguments: { n: 100_000 } } }));
    const big = await p.next(40);
    const text: string = big.result.content[0].text;
    assert.ok(Buffer.byteLength(text) > 256 * 1024);
    assert.equal(text, multiByte(100_000));
    // Split multi-byte characters on the input side too: one request written in 1-byte pieces.
    const req = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'echo', arguments: { text: multiByte(30_000) } } })}\n`);
    for (let i = 0; i < req.length; i += 65_535) p.child.stdin!.write(req.subarray(i, i + 65_535));
    assert.equal((await p.next(41)).result.content[0].text, multiByte(30_000));
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'chatty', arguments: {} } }));
    assert.equal((await p.next(42)).result.content[0].text, 'chatted');
    assert.ok(p.lines.every((l) => l.startsWith('{')), 'stdout holds only JSON-RPC lines');
    const deadline = Date.now() + 5_000;
    while (!p.stderr().includes('chatty handler says hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(p.stderr(), /chatty handler says hello via console\.log/);
    assert.match(p.stderr(), /console\.info too/);
  });

  test('6g: the stdio client decodes a >64 KiB multi-byte result intact', async () => {
    const c = createClient({ command: process.execPath, args: [CLI, 'serve', FIXTURE, '--stdio', '--state-dir', mkdtempSync(join(tmpdir(), 'andon-wire-c-'))] }, { timeoutMs: 20_000 });
    await c.connect();
    try {
      const r = await c.callTool('big_utf8', { n: 100_000 });
      assert.equal((r.content[0] as { text: string }).text, multiByte(100_000));
    } finally {
      await c.close();
    }
  });
});

describe('decode limits (unit)', () => {
  test('depthExceeds counts array/object levels only, stopping at the limit', () => {
    assert.equal(depthExceeds(JSON.parse(deep(65)), 64), true);
    assert.equal(depthExceeds(JSON.parse(deep(64)), 64), false);
    assert.equal(depthExceeds({ s: '['.repeat(1000) }, 64), false);
    assert.equal(depthExceeds(JSON.parse(`{"a":${deep(70)}}`), 64), true);
    assert.equal(depthExceeds(JSON.parse(deep(100_000)), 64), true);
  });
  test('decodeMessage: parse error, too deep with id, _meta shapes', () => {
    assert.equal((decodeMessage('{x') as { error: { code: number } }).error.code, -32700);
    const d = decodeMessage(`{"jsonrpc":"2.0","id":"q","method":"ping","params":{"a":${deep(80)}}}`);
    assert.equal(d.kind, 'invalid');
    assert.equal(d.kind === 'invalid' && d.id, 'q');
    assert.equal(decodeMessage('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{}}}').kind, 'request');
    const m = decodeMessage('{"jsonrpc":"2.0","method":"x","params":{"_meta":"s"}}');
    assert.equal(m.kind === 'invalid' && m.error.code, -32602);
  });
});
