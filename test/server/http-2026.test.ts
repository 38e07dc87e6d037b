import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { buildTestServer, type Probe } from './test-server.js';
import { post, post26, meta26, parseSse, ACCEPT, V26 } from '../helpers/mcp-http.js';
import { readUntil, waitFor } from '../helpers/wait.js';

const probe: Probe = { aborted: [], started: [] };
let ep: HttpEndpoint;
before(async () => {
  ep = await serveHttp(buildTestServer(probe), { port: 0 });
});
after(() => ep.close());

describe('2026-07-28 (stateless) over Streamable HTTP', () => {
  test('server/discover advertises versions, capabilities and serverInfo in _meta, with cache hints', async () => {
    const r = await post26(ep.url, 'server/discover');
    assert.equal(r.status, 200);
    const res = r.response.result;
    assert.equal(res.resultType, 'complete');
    assert.ok(res.supportedVersions.includes(V26) && res.supportedVersions.includes('2025-11-25'));
    assert.ok(res.capabilities.tools && res.capabilities.prompts && res.capabilities.resources);
    assert.deepEqual(res._meta['io.modelcontextprotocol/serverInfo'], { name: 'core-test', version: '1.2.3' });
    assert.equal(res.ttlMs, 0);
    assert.equal(res.cacheScope, 'private');
  });

  test('every result carries resultType; lists and reads carry ttlMs and cacheScope; tool order is stable', async () => {
    const a = (await post26(ep.url, 'tools/list')).response.result;
    const b = (await post26(ep.url, 'tools/list', { cursor: a.nextCursor })).response.result;
    assert.equal(a.resultType, 'complete');
    assert.equal(typeof a.ttlMs, 'number');
    assert.deepEqual(a.tools.map((t: { name: string }) => t.name), ['echo', 'add', 'boom']);
    assert.deepEqual(b.tools.map((t: { name: string }) => t.name), ['reject', 'slow', 'progress']);
    const call = (await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } })).response.result;
    assert.equal(call.resultType, 'complete');
    const read = (await post26(ep.url, 'resources/read', { uri: 'test://static' })).response.result;
    assert.equal(read.cacheScope, 'private');
  });

  test('validation order: missing header, missing _meta keys, header mismatch, unsupported version', async () => {
    const body = (id: number, meta?: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: meta ? { _meta: meta } : {} });
    const noHeader = await post(ep.url, body(1, meta26()), { 'mcp-method': 'tools/list' }, '2026');
    assert.equal(noHeader.status, 400);
    assert.equal(noHeader.response.error.code, -32020);
    assert.equal(noHeader.response.id, 1);
    const noMeta = await post(ep.url, body(2), { 'mcp-protocol-version': V26, 'mcp-method': 'tools/list' }, '2026');
    assert.equal(noMeta.status, 400);
    assert.equal(noMeta.response.error.code, -32602);
    const m = meta26();
    delete m['io.modelcontextprotocol/clientCapabilities'];
    const noCaps = await post(ep.url, body(3, m), { 'mcp-protocol-version': V26, 'mcp-method': 'tools/list' }, '2026');
    assert.equal(noCaps.response.error.code, -32602);
    assert.match(noCaps.response.error.message, /clientCapabilities/);
    const mismatch = await post(ep.url, body(4, { ...meta26(), 'io.modelcontextprotocol/protocolVersion': 'v999' }), { 'mcp-protocol-version': V26, 'mcp-method': 'tools/list' }, '2026');
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.response.error.code, -32020);
    const unsupported = await post(ep.url, body(5, { ...meta26(), 'io.modelcontextprotocol/protocolVersion': 'v999' }), { 'mcp-protocol-version': 'v999', 'mcp-method': 'tools/list' }, '2026');
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.response.error.code, -32022);
    assert.deepEqual(unsupported.response.error.data, { requested: 'v999', supported: [V26] });
  });

  test('Mcp-Method / Mcp-Name headers must match the body (-32020)', async () => {
    const wrongMethod = await post26(ep.url, 'tools/list', {}, { headers: { 'mcp-method': 'prompts/list' } });
    assert.equal(wrongMethod.status, 400);
    assert.equal(wrongMethod.response.error.code, -32020);
    const wrongName = await post26(ep.url, 'tools/call', { name: 'echo', arguments: { text: 'a' } }, { headers: { 'mcp-name': 'add' } });
    assert.equal(wrongName.response.error.code, -32020);
    assert.match(wrongName.response.error.message, /Mcp-Name/);
  });

  test('removed and unknown methods: HTTP 404 with -32601; GET and DELETE: 405', async () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'no/such']) {
      const r = await post26(ep.url, method);
      assert.equal(r.status, 404, method);
      assert.equal(r.response.error.code, -32601, method);
    }
    assert.equal((await fetch(ep.url, { headers: { 'mcp-protocol-version': V26, accept: 'text/event-stream' } })).status, 405);
    assert.equal((await fetch(ep.url, { method: 'DELETE', headers: { 'mcp-protocol-version': V26 } })).status, 405);
  });

  test('missing client capability: -32021 with requiredCapabilities, HTTP 400', async () => {
    const r = await post26(ep.url, 'tools/call', { name: 'ask_twice', arguments: {} }, { caps: {} });
    assert.equal(r.status, 400);
    assert.equal(r.response.error.code, -32021);
    assert.deepEqual(r.response.error.data, { requiredCapabilities: { elicitation: { form: {} } } });
  });

  test('one handler API serves both eras: ctx.elicit becomes an input_required round trip', async () => {
    const caps = { elicitation: {}, sampling: {} };
    const r1 = (await post26(ep.url, 'tools/call', { name: 'ask_twice', arguments: {} }, { caps })).response.result;
    assert.equal(r1.resultType, 'input_required');
    assert.deepEqual(Object.keys(r1.inputRequests), ['elicitation-0']);
    assert.equal(r1.inputRequests['elicitation-0'].method, 'elicitation/create');
    const answers: Record<string, unknown> = { 'elicitation-0': { action: 'accept', content: { v: 'hey' } } };
    const r2 = (await post26(ep.url, 'tools/call', { name: 'ask_twice', arguments: {}, inputResponses: answers }, { caps })).response.result;
    assert.equal(r2.resultType, 'input_required');
    assert.equal(r2.inputRequests['sampling-1'].method, 'sampling/createMessage');
    assert.equal(r2.inputRequests['sampling-1'].params.messages[0].content.text, 'Say hey');
    answers['sampling-1'] = { role: 'assistant', content: { type: 'text', text: 'yo' }, model: 'm' };
    const r3 = (await post26(ep.url, 'tools/call', { name: 'ask_twice', arguments: {}, inputResponses: answers }, { caps })).response.result;
    assert.equal(r3.resultType, 'complete');
    assert.equal(r3.content[0].text, 'hey+yo');
    const tampered = await post26(ep.url, 'tools/call', { name: 'ask', arguments: {}, requestState: 'forged.state' }, { caps });
    assert.equal(tampered.response.error.code, -32602);
    assert.match(tampered.response.error.message, /requestState/);
  });

  test('progress streams as SSE on the POST; logs only when the request sets a level', async () => {
    const quiet = await post26(ep.url, 'tools/call', { name: 'progress', arguments: {} }, { meta: { progressToken: 7 } });
    assert.equal(quiet.headers.get('content-type'), 'text/event-stream');
    assert.deepEqual(quiet.messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress), [1, 2, 3]);
    assert.equal(quiet.messages.filter((m) => m.method === 'notifications/message').length, 0);
    const loud = await post26(ep.url, 'tools/call', { name: 'progress', arguments: {} }, { meta: { 'io.modelcontextprotocol/logLevel': 'debug' } });
    assert.equal(loud.messages.filter((m) => m.method === 'notifications/message').length, 2);
    assert.equal(loud.response.result.content[0].text, 'progressed');
  });

  test('closing the request stream cancels the handler (2026)', async () => {
    const ac = new AbortController();
    const req = fetch(ep.url, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V26, 'mcp-method': 'tools/call', 'mcp-name': 'slow' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'slow', arguments: { ms: 5000, tag: 'close26' }, _meta: meta26() } }),
    }).catch(() => null);
    await waitFor(() => probe.started.includes('close26'), 5000, 'the slow handler to start');
    ac.abort();
    await req;
    const deadline = Date.now() + 2000;
    while (!probe.aborted.includes('close26') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(probe.aborted.includes('close26'), 'handler signal was aborted');
  });

  test('subscriptions/listen: acknowledgement first, then filtered notifications tagged with the subscription id', async () => {
    const ac = new AbortController();
    const res = await fetch(ep.url, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': V26, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true, resourceSubscriptions: ['test://static'] }, _meta: meta26() } }),
    });
    const reader = res.body!.getReader();
    let buf = '';
    const frames = () => parseSse(buf).filter((e) => e.data.trim()).map((e) => JSON.parse(e.data));
    buf = await readUntil(reader, (t) => parseSse(t).filter((e) => e.data.trim()).length >= 1, 5000, 'the acknowledgement', buf);
    assert.equal(frames()[0].method, 'notifications/subscriptions/acknowledged');
    assert.equal(frames()[0].params._meta['io.modelcontextprotocol/subscriptionId'], 'sub-1');
    ep.handler.server.notifyListChanged('prompts');
    ep.handler.server.notifyResourceUpdated('test://static');
    ep.handler.server.notifyListChanged('tools');
    buf = await readUntil(reader, (t) => parseSse(t).filter((e) => e.data.trim()).length >= 3, 5000, 'two notifications', buf);
    const methods = frames().map((f) => f.method);
    assert.deepEqual(methods, ['notifications/subscriptions/acknowledged', 'notifications/resources/updated', 'notifications/tools/list_changed']);
    for (const f of frames()) assert.equal(f.params._meta['io.modelcontextprotocol/subscriptionId'], 'sub-1');
    ac.abort();
  });

  test('resource not found is -32602 with data.uri in 2026', async () => {
    const r = await post26(ep.url, 'resources/read', { uri: 'test://missing' });
    assert.equal(r.response.error.code, -32602);
    assert.deepEqual(r.response.error.data, { uri: 'test://missing' });
  });
});
