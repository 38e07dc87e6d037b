/**
 * Interop: the andon-mcp client against servers built with the official v1 SDK (McpServer, the
 * 2025 era) over stdio, Streamable HTTP (sessions, event store) and the legacy HTTP+SSE
 * transport. Every feature of the client, the sampling/elicitation/roots round trips, resumption
 * after the server cuts an SSE stream, and transparent re-initialization after a session 404.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createClient, McpError, type ClientOptions, type ClientTarget, type McpClient } from '../../src/client/index.js';
import { serveV1Http, type V1Http } from './servers/sdk-v1.js';
import { SERVERS, forbidUnhandledRejections, rejectsWith, text, waitFor } from './helpers.js';

const guard = forbidUnhandledRejections();

let http: V1Http;
before(async () => {
  http = await serveV1Http();
});
after(async () => {
  await http.close();
  guard.check();
});

const options: ClientOptions = {
  elicitation: async () => ({ action: 'accept', content: { name: 'Vee' } }),
  sampling: async (p) => ({ role: 'assistant', content: { type: 'text', text: `re:${String((p.messages[0]!.content as { text: string }).text)}` }, model: 'v1-model' }),
  roots: [{ uri: 'file:///one' }, { uri: 'file:///two' }],
};

const targets: Array<[string, () => ClientTarget]> = [
  ['stdio', () => ({ command: process.execPath, args: [resolve(SERVERS, 'sdk-v1-stdio.js')] })],
  ['Streamable HTTP', () => http.url],
  ['HTTP+SSE fallback', () => http.sseUrl],
];

for (const [name, target] of targets) {
  describe(`v1 McpServer over ${name}`, () => {
    let c: McpClient;
    before(async () => {
      c = createClient(target(), options);
      await c.connect();
    });
    after(() => c.close());

    test('auto-detects the 2025 era (server/discover fails, initialize works)', () => {
      assert.equal(c.server.era, '2025');
      assert.equal(c.server.protocolVersion, name === 'HTTP+SSE fallback' ? '2025-11-25' : '2025-11-25');
      assert.equal(c.server.serverInfo?.name, 'sdk-v1-fixture');
      assert.equal(c.server.instructions, 'v1 fixture');
      assert.equal(c.server.transport, name === 'stdio' ? 'stdio' : name === 'Streamable HTTP' ? 'http' : 'sse');
    });

    test('tools: list, call, structured output validated against outputSchema', async () => {
      const tools = await c.listTools();
      assert.ok(tools.some((t) => t.name === 'add' && t.outputSchema));
      assert.equal(text(await c.callTool('echo', { text: 'v1' })), 'v1');
      assert.deepEqual((await c.callTool('add', { a: 20, b: 22 })).structuredContent, { sum: 42 });
      const bad = await c.callTool('echo', { text: 5 });
      assert.equal(bad.isError, true, 'input validation failures are tool errors');
    });

    test('elicitation (defaults applied), sampling and roots round trips', async () => {
      assert.equal(text(await c.callTool('ask')), 'hello Vee in blue');
      assert.equal(text(await c.callTool('sample')), 'sampled re:hi? from v1-model');
      assert.equal(text(await c.callTool('roots')), 'file:///one,file:///two');
      await c.setRoots([{ uri: 'file:///three' }]);
      assert.equal(text(await c.callTool('roots')), 'file:///three');
      await c.setRoots(options.roots!);
    });

    test('progress and cancellation', async () => {
      const seen: number[] = [];
      assert.equal(text(await c.callTool('progress', { steps: 3 }, { onProgress: (p) => seen.push(p.progress) })), 'progressed');
      assert.deepEqual(seen, [1, 2, 3]);
      const tag = `cancel-${name}`;
      await rejectsWith(c.callTool('slow', { ms: 5000, tag }, { timeoutMs: 100 }), 'TIMEOUT');
      await waitFor(() => false, 0).catch(() => {});
      let abortedList = '';
      const end = Date.now() + 2000;
      while (!abortedList.includes(tag) && Date.now() < end) {
        abortedList = text(await c.callTool('aborted'));
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(abortedList.includes(tag), 'the server saw notifications/cancelled');
    });

    test('resources: list, templates, read, subscribe with updates', async () => {
      const resources = await c.listResources();
      assert.deepEqual(resources.map((r) => r.uri).sort(), ['test://static', 'test://watched']);
      assert.equal((await c.listResourceTemplates())[0]!.uriTemplate, 'test://items/{id}');
      assert.equal(((await c.readResource('test://items/9')).contents[0] as { text: string }).text, 'item 9');
      const updates: string[] = [];
      const sub = await c.subscribeResource('test://watched', (u) => updates.push(u));
      assert.equal(text(await c.callTool('touch')), 'notified');
      await waitFor(() => updates.length === 1, 2000, 'resources/updated');
      await sub.close();
      assert.equal(text(await c.callTool('touch')), 'nobody subscribed');
    });

    test('prompts and completion', async () => {
      assert.equal((await c.listPrompts())[0]!.name, 'greet');
      assert.equal(((await c.getPrompt('greet', { who: 'v1' })).messages[0]!.content as { text: string }).text, 'Hello v1');
      assert.deepEqual((await c.complete({ type: 'ref/prompt', name: 'greet' }, { name: 'who', value: 'wa' })).values, ['wally']);
      assert.deepEqual((await c.complete({ type: 'ref/resource', uri: 'test://items/{id}' }, { name: 'id', value: 'al' })).values, ['alpha']);
    });

    test('logging level filters notifications/message; ping', async () => {
      const logs: unknown[] = [];
      c.on('log', (l) => logs.push(l.data));
      await c.setLoggingLevel('info');
      await c.callTool('log');
      await waitFor(() => logs.length >= 1, 2000, 'log');
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(logs, ['info line']);
      await c.ping();
    });

    test('server errors are McpErrors', async () => {
      await assert.rejects(c.getPrompt('nope'), (e: unknown) => e instanceof McpError);
    });
  });
}

test('v1 Streamable HTTP: the client resumes a stream the server cut (Last-Event-ID)', async () => {
  const c = createClient(http.url);
  const reconnects: Array<Record<string, unknown>> = [];
  c.on('reconnect', (r) => reconnects.push(r));
  await c.connect();
  const progress: string[] = [];
  const r = await c.callTool('cut', {}, { onProgress: (p) => progress.push(p.message ?? '') });
  assert.equal(text(r), 'after the cut');
  assert.deepEqual(progress, ['before the cut']);
  const resume = reconnects.find((x) => x.reason === 'stream-resume');
  assert.ok(resume, 'resumed via GET');
  assert.ok((resume.delayMs as number) >= 50, 'honoured the server retry interval');
  await c.close();
});

test('v1 Streamable HTTP: the test cuts the SSE stream mid-call; the client resumes from the event store', async () => {
  const c = createClient(http.url);
  const reconnects: Array<Record<string, unknown>> = [];
  c.on('reconnect', (r) => reconnects.push(r));
  await c.connect();
  try {
    const seen: number[] = [];
    let cut = false;
    const r = await c.callTool('progress', { steps: 3, every: 150 }, {
      onProgress: (p) => {
        seen.push(p.progress);
        if (cut) return;
        cut = true;
        // Kill every connection: the POST stream dies without a goodbye.
        for (const s of http.sockets) s.destroy();
      },
    });
    assert.equal(text(r), 'progressed');
    assert.deepEqual(seen, [1, 2, 3], 'no progress lost or repeated across the cut');
    assert.ok(reconnects.some((x) => x.reason === 'stream-resume' && typeof x.lastEventId === 'string'));
  } finally {
    await c.close();
  }
});

test('v1 Streamable HTTP: a session 404 re-initializes once, transparently', async () => {
  const c = createClient(http.url);
  await c.connect();
  const old = c.server.sessionId!;
  const events: unknown[] = [];
  c.on('sessionReinitialized', (e) => events.push(e));
  http.sessions.delete(old);
  assert.equal(text(await c.callTool('echo', { text: 'new session' })), 'new session');
  assert.equal(events.length, 1);
  assert.notEqual(c.server.sessionId, old);
  await c.close();
});

test('v1 Streamable HTTP: close() deletes the session', async () => {
  const c = createClient(http.url);
  await c.connect();
  const sid = c.server.sessionId!;
  assert.ok(http.sessions.has(sid));
  await c.close();
  await waitFor(() => !http.sessions.has(sid), 2000, 'session deleted');
});
