import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { buildTestServer, type Probe } from './test-server.js';
import { Session2025, post, parseSse, ACCEPT } from '../helpers/mcp-http.js';
import { readUntil, waitFor, withTimeout } from '../helpers/wait.js';

const probe: Probe = { aborted: [], started: [] };
let ep: HttpEndpoint;
let s: Session2025;

before(async () => {
  ep = await serveHttp(buildTestServer(probe), { port: 0, maxBodyBytes: 64 * 1024 });
  s = new Session2025(ep.url);
  const r = await s.initialize({ elicitation: {}, sampling: {} });
  assert.equal(r.status, 200);
});
after(() => ep.close());

describe('2025-11-25 over Streamable HTTP', () => {
  test('initialize issues a random session id and negotiates the version', async () => {
    assert.match(s.sessionId, /^[0-9a-f]{32}$/);
    const other = new Session2025(ep.url, '2025-06-18');
    const r = await other.initialize();
    assert.equal(r.response.result.protocolVersion, '2025-06-18');
    assert.notEqual(other.sessionId, s.sessionId);
    const odd = await post(ep.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(odd.response.result.protocolVersion, '2025-11-25', 'unknown version: the server offers its latest');
    assert.deepEqual(r.response.result.serverInfo, { name: 'core-test', version: '1.2.3' });
    assert.ok(r.response.result.capabilities.tools && r.response.result.capabilities.resources.subscribe && r.response.result.capabilities.completions);
  });

  test('tools/list paginates with opaque cursors', async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await s.call('tools/list', cursor ? { cursor } : {});
      names.push(...r.tools.map((t: { name: string }) => t.name));
      cursor = r.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 4);
    assert.deepEqual(names.slice(0, 3), ['echo', 'add', 'boom']);
    assert.equal(names.length, 12);
    const bad = await s.request('tools/list', { cursor: 'not-a-cursor' });
    assert.equal(bad.response.error.code, -32602);
    assert.match(bad.response.error.message, /cursor/);
  });

  test('tools/call returns text and structured content', async () => {
    assert.deepEqual((await s.call('tools/call', { name: 'echo', arguments: { text: 'hi' } })).content, [{ type: 'text', text: 'hi' }]);
    const add = await s.call('tools/call', { name: 'add', arguments: { a: 2, b: 3 } });
    assert.deepEqual(add.structuredContent, { sum: 5 });
    assert.deepEqual(JSON.parse(add.content[0].text), { sum: 5 });
  });

  test('arguments failing the schema give an isError result naming the field', async () => {
    const r = await s.call('tools/call', { name: 'add', arguments: { a: 'two', b: 3 } });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /arguments\.a/);
    const missing = await s.call('tools/call', { name: 'echo', arguments: {} });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /arguments\.text: is required/);
  });

  test('a throwing or rejecting handler gives isError without a stack; the server keeps serving', async () => {
    const r = await s.call('tools/call', { name: 'boom', arguments: {} });
    assert.equal(r.isError, true);
    assert.equal(r.content[0].text, 'kaboom: the handler failed');
    assert.doesNotMatch(JSON.stringify(r), /at .*\.js:\d+/);
    const r2 = await s.call('tools/call', { name: 'reject', arguments: {} });
    assert.equal(r2.isError, true);
    assert.equal(r2.content[0].text, 'rejected on purpose');
    const other = new Session2025(ep.url);
    await other.initialize();
    assert.equal((await other.call('tools/call', { name: 'echo', arguments: { text: 'still here' } })).content[0].text, 'still here');
  });

  test('protocol errors: -32700, -32600 (batch, non-object), -32601, -32602 naming the field', async () => {
    const parse = await post(ep.url, '{"jsonrpc": "2.0", "id": 1, "method"', s.headers());
    assert.equal(parse.status, 400);
    assert.equal(parse.response.error.code, -32700);
    const batch = await post(ep.url, [{ jsonrpc: '2.0', id: 1, method: 'ping' }], s.headers());
    assert.equal(batch.status, 400);
    assert.equal(batch.response.error.code, -32600);
    assert.match(batch.response.error.message, /batch/);
    const scalar = await post(ep.url, '42', s.headers());
    assert.equal(scalar.response.error.code, -32600);
    const noVersion = await post(ep.url, { id: 1, method: 'ping' }, s.headers());
    assert.equal(noVersion.response.error.code, -32600);
    assert.match(noVersion.response.error.message, /jsonrpc/);
    const unknown = await s.request('tools/teleport', {});
    assert.equal(unknown.response.error.code, -32601);
    assert.match(unknown.response.error.message, /tools\/teleport/);
    const noName = await s.request('tools/call', { arguments: {} });
    assert.equal(noName.response.error.code, -32602);
    assert.match(noName.response.error.message, /"name"/);
    const badArgs = await s.request('tools/call', { name: 'echo', arguments: 'text' });
    assert.equal(badArgs.response.error.code, -32602);
    assert.match(badArgs.response.error.message, /"arguments"/);
    const unknownTool = await s.request('tools/call', { name: 'nope', arguments: {} });
    assert.equal(unknownTool.response.error.code, -32602);
    const level = await s.request('logging/setLevel', { level: 'loud' });
    assert.equal(level.response.error.code, -32602);
    assert.match(level.response.error.message, /"level"/);
  });

  test('HTTP-level refusals: 400 no session, 404 unknown or deleted session, 400 bad version, 403 origin/host, 415, 406, 405', async () => {
    const ping = { jsonrpc: '2.0', id: 9, method: 'ping' };
    const noSession = await post(ep.url, { jsonrpc: '2.0', id: 9, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(noSession.status, 400);
    assert.match(noSession.response.error.message, /Mcp-Session-Id/);
    const unknown = await post(ep.url, ping, { 'mcp-session-id': 'f'.repeat(32) });
    assert.equal(unknown.status, 404);
    const badVersion = await post(ep.url, ping, s.headers({ 'mcp-protocol-version': '2099-01-01' }));
    assert.equal(badVersion.status, 400);
    assert.match(badVersion.response.error.message, /2099-01-01/);
    const origin = await post(ep.url, ping, s.headers({ origin: 'https://evil.example' }));
    assert.equal(origin.status, 403);
    const okOrigin = await post(ep.url, ping, s.headers({ origin: 'http://localhost:5173' }));
    assert.equal(okOrigin.status, 200);
    const ct = await fetch(ep.url, { method: 'POST', headers: { ...s.headers(), 'content-type': 'text/plain', accept: ACCEPT }, body: JSON.stringify(ping) });
    assert.equal(ct.status, 415);
    const acc = await fetch(ep.url, { method: 'POST', headers: { ...s.headers(), 'content-type': 'application/json', accept: 'text/html' }, body: JSON.stringify(ping) });
    assert.equal(acc.status, 406);
    const put = await fetch(ep.url, { method: 'PUT', headers: s.headers() });
    assert.equal(put.status, 405);
    const host = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(ep.url, { method: 'POST', headers: { host: 'evil.example:80', 'content-type': 'application/json', accept: ACCEPT } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(ping));
    });
    assert.equal(host, 403);
    const gone = new Session2025(ep.url);
    await gone.initialize();
    const del = await fetch(ep.url, { method: 'DELETE', headers: gone.headers() });
    assert.equal(del.status, 200);
    const after = await gone.request('ping');
    assert.equal(after.status, 404);
  });

  test('an oversized body gets 413 without the rest being read, and the server carries on', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(100 * 1024) } } });
    const r = await post(ep.url, big, s.headers());
    assert.equal(r.status, 413);
    assert.match(r.response.error.message, /Payload Too Large/);
    // Chunked upload with no Content-Length: the limit still applies while streaming.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(ep.url, { method: 'POST', headers: { ...s.headers(), 'content-type': 'application/json', accept: ACCEPT, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      const chunk = 'x'.repeat(16 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 40) {
          sent++;
          if (!req.write(chunk)) return req.once('drain', pump);
        }
        req.end();
      };
      req.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
      pump();
      setTimeout(() => reject(new Error('no answer to oversized chunked body')), 5000).unref();
    });
    assert.equal(status, 413);
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'ok' } })).content[0].text, 'ok');
  });

  test('progress and log notifications upgrade the response to SSE with a priming event', async () => {
    await s.call('logging/setLevel', { level: 'info' });
    const r = await s.request('tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 'p1' } });
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    assert.equal(r.events[0]!.data, '', 'priming event has empty data');
    assert.ok(r.events[0]!.id && r.events[0]!.retry === '1000');
    const progress = r.messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress);
    assert.deepEqual(progress, [1, 2, 3]);
    const logs = r.messages.filter((m) => m.method === 'notifications/message');
    assert.equal(logs.length, 1, 'debug is below the session level (info) and is filtered');
    assert.deepEqual(logs[0].params, { level: 'info', data: { step: 'done' }, logger: 'progress-tool' });
    assert.equal(r.response.result.content[0].text, 'progressed');
  });

  test('notifications/cancelled aborts the handler signal and no response is sent', async () => {
    const pending = s.request('tools/call', { name: 'slow', arguments: { ms: 5000, tag: 'cancel-me' } });
    await waitFor(() => probe.started.includes('cancel-me'), 5000, 'the slow handler to start');
    const id = 'unknown';
    void id;
    // The request id is the session's counter value used for the pending call.
    const sent = await s.notify('notifications/cancelled', { requestId: (s as unknown as { nextId: number }).nextId - 1, reason: 'user' });
    assert.equal(sent.status, 202);
    const r = await pending;
    assert.ok(probe.aborted.includes('cancel-me'));
    assert.equal(r.status, 202, 'the pending POST is closed without a JSON-RPC response');
    assert.equal(r.response, undefined);
  });

  test('a client that disconnects mid-request crashes nothing and the handler runs on (2025: disconnect is not cancellation)', async () => {
    const ac = new AbortController();
    const p = s.request('tools/call', { name: 'slow', arguments: { ms: 150, tag: 'disconnect' } }).catch(() => null);
    void p;
    const raw = fetch(ep.url, { method: 'POST', signal: ac.signal, headers: { ...s.headers(), 'content-type': 'application/json', accept: ACCEPT }, body: JSON.stringify({ jsonrpc: '2.0', id: 'dc', method: 'tools/call', params: { name: 'slow', arguments: { ms: 150, tag: 'disconnect2' } } }) }).catch(() => null);
    await waitFor(() => probe.started.includes('disconnect2'), 5000, 'the slow handler to start');
    ac.abort();
    await raw;
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(!probe.aborted.includes('disconnect2'));
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'alive' } })).content[0].text, 'alive');
  });

  test('elicitation and sampling: server→client requests on the request stream, answered by POST', async () => {
    const res = await fetch(ep.url, { method: 'POST', headers: { ...s.headers(), 'content-type': 'application/json', accept: ACCEPT }, body: JSON.stringify({ jsonrpc: '2.0', id: 'e1', method: 'tools/call', params: { name: 'ask_twice', arguments: {} } }) });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const answered = new Set<string>();
    let final: any;
    const deadline = Date.now() + 10_000;
    while (!final) {
      const { value, done } = await withTimeout(reader.read(), Math.max(1, deadline - Date.now()), 'the elicitation/sampling exchange');
      if (done) break;
      buf += dec.decode(value, { stream: true });
      for (const ev of parseSse(buf)) {
        if (!ev.data.trim()) continue;
        const m = JSON.parse(ev.data);
        if (m.method === 'elicitation/create' && !answered.has(m.id)) {
          answered.add(m.id);
          assert.equal(m.params.message, 'First?');
          await post(ep.url, { jsonrpc: '2.0', id: m.id, result: { action: 'accept', content: { v: 'ping' } } }, s.headers());
        } else if (m.method === 'sampling/createMessage' && !answered.has(m.id)) {
          answered.add(m.id);
          assert.equal(m.params.messages[0].content.text, 'Say ping');
          await post(ep.url, { jsonrpc: '2.0', id: m.id, result: { role: 'assistant', content: { type: 'text', text: 'pong' }, model: 'test-model' } }, s.headers());
        } else if (m.id === 'e1') final = m;
      }
    }
    assert.equal(final.result.content[0].text, 'ping+pong');
  });

  test('resources, templates, subscriptions on the GET stream, prompts and completion', async () => {
    const list = await s.call('resources/list');
    assert.deepEqual(list.resources.map((r: { uri: string }) => r.uri), ['test://static']);
    const tpl = await s.call('resources/templates/list');
    assert.equal(tpl.resourceTemplates[0].uriTemplate, 'test://items/{id}');
    assert.equal((await s.call('resources/read', { uri: 'test://items/42' })).contents[0].text, 'item 42');
    const missing = await s.request('resources/read', { uri: 'test://nothing' });
    assert.equal(missing.response.error.code, -32002);
    await s.call('resources/subscribe', { uri: 'test://static' });
    const ac = new AbortController();
    const get = await fetch(ep.url, { headers: { ...s.headers(), accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(get.status, 200);
    const reader = get.body!.getReader();
    const second = await fetch(ep.url, { headers: { ...s.headers(), accept: 'text/event-stream' } });
    assert.equal(second.status, 409, 'one GET stream per session');
    ep.handler.server.notifyResourceUpdated('test://static');
    let text = '';
    text = await readUntil(reader, (t) => t.includes('notifications/resources/updated'), 5000, 'notifications/resources/updated');
    assert.match(text, /"uri":"test:\/\/static"/);
    ac.abort();
    const prompt = await s.call('prompts/get', { name: 'greet', arguments: { who: 'Ada' } });
    assert.equal(prompt.messages[0].content.text, 'Hello Ada');
    const noArg = await s.request('prompts/get', { name: 'greet', arguments: {} });
    assert.equal(noArg.response.error.code, -32602);
    assert.match(noArg.response.error.message, /arguments\.who/);
    const c1 = await s.call('completion/complete', { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'wa' } });
    assert.deepEqual(c1.completion.values, ['wally']);
    const c2 = await s.call('completion/complete', { ref: { type: 'ref/resource', uri: 'test://items/{id}' }, argument: { name: 'id', value: 'b' } });
    assert.deepEqual(c2.completion.values, ['beta']);
  });

  test('SSE resumability: a dropped request stream is resumed with Last-Event-ID', async () => {
    const ac = new AbortController();
    const res = await fetch(ep.url, { method: 'POST', signal: ac.signal, headers: { ...s.headers(), 'content-type': 'application/json', accept: ACCEPT }, body: JSON.stringify({ jsonrpc: '2.0', id: 'resume-1', method: 'tools/call', params: { name: 'progress', arguments: {}, _meta: { progressToken: 'r' } } }) });
    const reader = res.body!.getReader();
    let buf = '';
    buf = await readUntil(reader, (t) => t.includes('"progress":1'), 5000, 'the first progress notification');
    const events = parseSse(buf);
    const lastId = events.filter((e) => e.data.includes('"progress":1'))[0]!.id!;
    ac.abort();
    await new Promise((r) => setTimeout(r, 50));
    const again = await fetch(ep.url, { headers: { ...s.headers(), accept: 'text/event-stream', 'last-event-id': lastId } });
    const body = await again.text();
    const msgs = parseSse(body).filter((e) => e.data.trim()).map((e) => JSON.parse(e.data));
    assert.deepEqual(msgs.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress), [2, 3]);
    assert.equal(msgs.find((m) => m.id === 'resume-1').result.content[0].text, 'progressed');
  });
});
