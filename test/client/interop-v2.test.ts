/**
 * Interop: the andon-mcp client against a server built with the official v2 SDK
 * (@modelcontextprotocol/server `createMcpHandler`, the 2026-07-28 era) over HTTP, and the same
 * server over stdio (`serveStdio`). The 2026 features: server/discover, the per-request `_meta`
 * envelope, input_required multi-round trips answered by the handlers (with requestState),
 * subscriptions/listen, stream-close cancellation; and the SDK's 2025 fallback when pinned.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createClient, McpError, type ClientOptions, type ClientTarget, type McpClient } from '../../src/client/index.js';
import { serveV2Http, type V2Http } from './servers/sdk-v2.js';
import { SERVERS, forbidUnhandledRejections, rejectsWith, text, waitFor } from './helpers.js';

const guard = forbidUnhandledRejections();

let http: V2Http;
before(async () => {
  http = await serveV2Http();
});
after(async () => {
  await http.close();
  guard.check();
});

const options: ClientOptions = {
  elicitation: async (p) => ({ action: 'accept', content: 'requestedSchema' in p && (p.requestedSchema as any).properties?.v ? { v: 'vee' } : { name: 'Tu' } }),
  sampling: async (p) => ({ role: 'assistant', content: { type: 'text', text: `re:${String((p.messages[0]!.content as { text: string }).text)}` }, model: 'v2-model' }),
  roots: [{ uri: 'file:///r1' }],
};

const targets: Array<[string, () => ClientTarget]> = [
  ['HTTP (createMcpHandler)', () => http.url],
  ['stdio (serveStdio)', () => ({ command: process.execPath, args: [resolve(SERVERS, 'sdk-v2-stdio.js')] })],
];

for (const [name, target] of targets) {
  describe(`v2 SDK over ${name}`, () => {
    let c: McpClient;
    before(async () => {
      c = createClient(target(), options);
      await c.connect();
    });
    after(() => c.close());

    test('auto-detects 2026-07-28 through server/discover', () => {
      assert.equal(c.server.era, '2026');
      assert.equal(c.server.protocolVersion, '2026-07-28');
      assert.equal(c.server.serverInfo?.name, 'sdk-v2-fixture');
      assert.ok(c.server.capabilities.tools);
    });

    test('tools: list, call, structured output', async () => {
      const tools = await c.listTools();
      assert.ok(tools.some((t) => t.name === 'add' && t.outputSchema));
      assert.equal(text(await c.callTool('echo', { text: 'v2' })), 'v2');
      assert.deepEqual((await c.callTool('add', { a: 1, b: 2 })).structuredContent, { sum: 3 });
    });

    test('input_required: elicitation (defaults applied), sampling, roots, and a 3-round requestState flow', async () => {
      assert.equal(text(await c.callTool('ask')), 'hello Tu in green');
      assert.equal(text(await c.callTool('sample')), 'sampled re:hi? from v2-model');
      assert.equal(text(await c.callTool('roots')), 'file:///r1');
      assert.equal(text(await c.callTool('multi')), 'round-2:vee+re:vee');
    });

    test('progress', async () => {
      const seen: number[] = [];
      await c.callTool('progress', { steps: 3 }, { onProgress: (p) => seen.push(p.progress) });
      assert.deepEqual(seen, [1, 2, 3]);
    });

    test('cancellation (stream close on HTTP, notifications/cancelled on stdio) and timeouts', async () => {
      const ac = new AbortController();
      const p = c.callTool('slow', { ms: 5000, tag: `abort-${name}` }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      await rejectsWith(p, 'ABORTED');
      if (name.startsWith('HTTP')) await waitFor(() => http.aborted.includes(`abort-${name}`), 2000, 'server-side abort');
      await rejectsWith(c.callTool('slow', { ms: 5000, tag: 't' }, { timeoutMs: 100 }), 'TIMEOUT');
      assert.equal(text(await c.callTool('echo', { text: 'alive' })), 'alive');
    });

    test('resources and templates', async () => {
      assert.deepEqual((await c.listResources()).map((r) => r.uri).sort(), ['test://static', 'test://watched']);
      assert.equal((await c.listResourceTemplates())[0]!.uriTemplate, 'test://items/{id}');
      assert.equal(((await c.readResource('test://static')).contents[0] as { text: string }).text, 'v2 static');
      assert.equal(((await c.readResource('test://items/5')).contents[0] as { text: string }).text, 'item 5');
    });

    test('prompts and completion', async () => {
      assert.equal((await c.listPrompts())[0]!.name, 'greet');
      assert.equal(((await c.getPrompt('greet', { who: 'v2' })).messages[0]!.content as { text: string }).text, 'Hello v2');
      assert.deepEqual((await c.complete({ type: 'ref/prompt', name: 'greet' }, { name: 'who', value: 'wo' })).values, ['world']);
    });

    test('ping (server/discover in 2026) and server errors', async () => {
      await c.ping();
      await assert.rejects(c.callTool('nope'), (e: unknown) => e instanceof McpError || (e as { isError?: boolean }).isError === true);
    });
  });
}

test('v2 HTTP: subscriptions/listen delivers resource updates and list changes', async () => {
  const c = createClient(http.url, options);
  await c.connect();
  try {
    const updates: string[] = [];
    const sub = await c.subscribeResource('test://watched', (u) => updates.push(u));
    let toolsChanged = 0;
    c.on('toolsListChanged', () => toolsChanged++);
    const listen = await c.listen({ toolsListChanged: true });
    assert.equal(listen.notifications.toolsListChanged, true);
    http.handler.notify.resourceUpdated('test://watched');
    http.handler.notify.resourceUpdated('test://other');
    http.handler.notify.toolsChanged();
    await waitFor(() => updates.length === 1 && toolsChanged === 1, 3000, 'listen notifications');
    await sub.close();
    await listen.close();
    http.handler.notify.resourceUpdated('test://watched');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(updates.length, 1);
  } finally {
    await c.close();
  }
});

test('v2 HTTP: pinning 2025-11-25 uses the SDK\'s stateless 2025 fallback', async () => {
  const c = createClient(http.url, { ...options, protocolVersion: '2025-11-25' });
  await c.connect();
  assert.equal(c.server.era, '2025');
  assert.equal(text(await c.callTool('echo', { text: 'legacy' })), 'legacy');
  await c.close();
});
