/**
 * The client against andon-mcp's own server over Streamable HTTP, in both eras: era detection,
 * every feature, the handlers (2025 server→client requests, 2026 input_required rounds),
 * timeouts, cancellation, progress, subscriptions, tasks, resumption and keep-alive reuse.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { createClient, ClientError, McpError, type ClientOptions, type McpClient } from '../../src/client/index.js';
import { buildClientFixture, newProbe, type Probe } from './servers/fixture.js';
import { forbidUnhandledRejections, rejectsWith, text, waitFor } from './helpers.js';

const guard = forbidUnhandledRejections();

const handlers: ClientOptions = {
  elicitation: {
    form: async (p) => ({ action: 'accept', content: 'requestedSchema' in p && (p.requestedSchema as any).properties?.v ? { v: 'x' } : { name: 'Ann' } }),
    url: async (p) => ({ action: 'mode' in p && p.mode === 'url' ? 'accept' : 'decline' }),
  },
  sampling: async () => ({ role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'test-model' }),
  roots: [{ uri: 'file:///work', name: 'work' }],
};

let ep: HttpEndpoint;
let probe: Probe;
let server: ReturnType<typeof buildClientFixture>;
const sockets = new Set<Socket>();
let connections = 0;

before(async () => {
  probe = newProbe();
  server = buildClientFixture(probe);
  ep = await serveHttp(server, { retryMs: 50 });
  ep.httpServer.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
});

after(async () => {
  await ep.close();
  guard.check();
});

for (const era of ['2026', '2025'] as const) {
  describe(`era ${era}`, () => {
    let c: McpClient;
    before(async () => {
      c = createClient(ep.url, { ...handlers, protocolVersion: era === '2026' ? 'auto' : '2025-11-25' });
      await c.connect();
    });
    after(() => c.close());

    test('connects, detects the era and describes the server', () => {
      const s = c.server;
      assert.equal(s.era, era);
      assert.equal(s.protocolVersion, era === '2026' ? '2026-07-28' : '2025-11-25');
      assert.equal(s.serverInfo?.name, 'client-fixture');
      assert.equal(s.instructions, 'A fixture for the client tests.');
      assert.ok(s.capabilities.tools);
      assert.equal(s.transport, 'http');
      if (era === '2025') assert.match(s.sessionId!, /^[0-9a-f]{32}$/);
      else assert.equal(s.sessionId, undefined);
    });

    test('lists tools across pages and calls them', async () => {
      const tools = await c.listTools();
      assert.deepEqual(tools.map((t) => t.name).slice(0, 4), ['echo', 'add', 'fail', 'regional']);
      assert.equal(tools.length, 14, 'all pages of 3 were followed');
      assert.equal(text(await c.callTool('echo', { text: 'hi' })), 'hi');
      const add = await c.callTool('add', { a: 2, b: 3 });
      assert.deepEqual(add.structuredContent, { sum: 5 });
      const failed = await c.callTool('fail');
      assert.equal(failed.isError, true, 'tool errors are results, not exceptions');
      assert.match(text(failed), /failed on purpose/);
      assert.equal(text(await c.callTool('regional', { region: 'eu west 1' })), 'region eu west 1');
    });

    test('a protocol error from the server is an McpError', async () => {
      await assert.rejects(c.callTool('no_such_tool'), (err: unknown) => err instanceof McpError && err.code === -32602);
    });

    test('elicitation (with schema defaults), URL elicitation, sampling and roots round trips', async () => {
      assert.equal(text(await c.callTool('ask')), 'hello Ann (42)');
      assert.equal(text(await c.callTool('ask_url')), 'url accept');
      assert.equal(text(await c.callTool('sample')), 'model said hi (test-model)');
      assert.equal(text(await c.callTool('roots')), 'file:///work');
      assert.equal(text(await c.callTool('ask_all')), 'x+hi+1');
    });

    test('progress callbacks, and the timeout resets on progress', async () => {
      const seen: number[] = [];
      const r = await c.callTool('progress', { steps: 4, every: 60 }, { timeoutMs: 150, onProgress: (p) => seen.push(p.progress) });
      assert.equal(text(r), 'progressed');
      assert.deepEqual(seen, [1, 2, 3, 4]);
    });

    test('maxTotalTimeoutMs bounds a call even while progress arrives', async () => {
      const err = await rejectsWith(c.callTool('progress', { steps: 20, every: 30 }, { timeoutMs: 200, maxTotalTimeoutMs: 250, onProgress: () => {} }), 'TIMEOUT');
      assert.match(err.message, /maximum total/);
    });

    test('a timeout fails the call and cancels it on the server', async () => {
      const tag = `timeout-${era}`;
      await rejectsWith(c.callTool('slow', { ms: 5000, tag }, { timeoutMs: 100 }), 'TIMEOUT');
      await waitFor(() => probe.aborted.includes(tag), 2000, 'server-side abort');
    });

    test('AbortSignal aborts the call and cancels it on the server', async () => {
      const tag = `abort-${era}`;
      const ac = new AbortController();
      const p = c.callTool('slow', { ms: 5000, tag }, { signal: ac.signal });
      await waitFor(() => probe.started.includes(tag), 2000, 'tool start');
      ac.abort(new Error('user pressed stop'));
      const err = await rejectsWith(p, 'ABORTED');
      assert.match(err.message, /user pressed stop/);
      await waitFor(() => probe.aborted.includes(tag), 2000, 'server-side abort');
      // The client is still usable.
      assert.equal(text(await c.callTool('echo', { text: 'still here' })), 'still here');
    });

    test('resources: list, templates, read text and binary', async () => {
      const res = await c.listResources();
      assert.deepEqual(res.map((r) => r.uri).sort(), ['test://binary', 'test://static', 'test://watched']);
      const tpl = await c.listResourceTemplates();
      assert.equal(tpl[0]!.uriTemplate, 'test://items/{id}');
      const read = await c.readResource('test://items/7');
      assert.equal((read.contents[0] as { text: string }).text, 'item 7');
      const bin = await c.readResource('test://binary');
      assert.equal((bin.contents[0] as { blob: string }).blob, Buffer.from([1, 2, 3]).toString('base64'));
    });

    test('subscribe to a resource and get its updates', async () => {
      const updates: string[] = [];
      const sub = await c.subscribeResource('test://watched', (uri) => updates.push(uri));
      server.notifyResourceUpdated('test://watched');
      await waitFor(() => updates.length === 1, 3000, 'resource update');
      await sub.close();
      await new Promise((r) => setTimeout(r, 50));
      server.notifyResourceUpdated('test://watched');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(updates.length, 1, 'no update after close');
    });

    test('list_changed notifications (2026 through subscriptions/listen)', async () => {
      let changed = 0;
      c.on('toolsListChanged', () => changed++);
      const sub = await c.listen({ toolsListChanged: true });
      assert.equal(sub.notifications.toolsListChanged, true);
      server.tool('added_later', { description: 'new' }, () => 'new');
      await waitFor(() => changed >= 1, 3000, 'tools list_changed');
      await sub.close();
      server.removeTool('added_later');
    });

    test('prompts and completion', async () => {
      const prompts = await c.listPrompts();
      assert.equal(prompts[0]!.name, 'greet');
      const p = await c.getPrompt('greet', { who: 'you' });
      assert.equal((p.messages[0]!.content as { text: string }).text, 'Hello you');
      const comp = await c.complete({ type: 'ref/prompt', name: 'greet' }, { name: 'who', value: 'wa' });
      assert.deepEqual(comp.values, ['wally']);
      const comp2 = await c.complete({ type: 'ref/resource', uri: 'test://items/{id}' }, { name: 'id', value: 'b' });
      assert.deepEqual(comp2.values, ['beta']);
    });

    test('logging level and log notifications', async () => {
      const logs: unknown[] = [];
      const onLog = (l: { level: string; data: unknown }) => logs.push(l);
      c.on('log', onLog);
      await c.setLoggingLevel('info');
      await c.callTool('progress', { steps: 1 });
      await waitFor(() => logs.length >= 1, 2000, 'log message');
      assert.deepEqual(logs, [{ level: 'info', logger: 'progress-tool', data: { step: 'done' } }], 'debug is filtered out');
      c.off('log', onLog);
    });

    test('ping', async () => {
      await c.ping();
    });

    test('tasks: create, poll, result, cancel (and list in 2025)', async () => {
      const task = await c.callToolAsTask('job', { ms: 50 });
      assert.equal(task.status, 'working');
      assert.equal(typeof task.ttl, 'number');
      const result = await c.waitForTask(task.taskId, { pollIntervalMs: 20 });
      assert.equal(text(result), 'job done after 50 ms');
      assert.equal(text(await c.getTaskResult(task.taskId)), 'job done after 50 ms');
      if (era === '2025') assert.ok((await c.listTasks()).some((t) => t.taskId === task.taskId));
      else await rejectsWith(c.listTasks(), 'UNSUPPORTED');
      const long = await c.callToolAsTask('job', { ms: 5000 });
      const cancelled = await c.cancelTask(long.taskId);
      assert.equal(cancelled.status, 'cancelled');
      await rejectsWith(c.waitForTask(long.taskId, { pollIntervalMs: 20 }), 'TASK_FAILED');
    });

    test('a task that needs input is answered by the elicitation handler', async () => {
      const task = await c.callToolAsTask('job_ask');
      const statuses: string[] = [];
      const r = await c.waitForTask(task.taskId, { pollIntervalMs: 20, onStatus: (t) => statuses.push(t.status) });
      assert.equal(text(r), 'job asked: accept undefined');
      if (era === '2026') assert.ok(statuses.includes('input_required'), `statuses: ${statuses.join(',')}`);
    });
  });
}

test('2025: a stream the server cuts is resumed with Last-Event-ID', async () => {
  const c = createClient(ep.url, { protocolVersion: '2025-11-25' });
  const reconnects: Array<Record<string, unknown>> = [];
  c.on('reconnect', (r) => reconnects.push(r));
  await c.connect();
  const progress: string[] = [];
  const r = await c.callTool('cut', {}, { onProgress: (p) => progress.push(p.message ?? '') });
  assert.equal(text(r), 'after the cut');
  assert.deepEqual(progress, ['before the cut']);
  const resume = reconnects.find((x) => x.reason === 'stream-resume');
  assert.ok(resume, 'the client resumed the stream');
  assert.equal(typeof resume.lastEventId, 'string');
  assert.ok((resume.delayMs as number) >= 50, 'the server retry (50 ms) was honoured');
  await c.close();
});

test('2025: the test cuts the SSE stream mid-call; the client resumes with Last-Event-ID', async () => {
  const c = createClient(ep.url, { protocolVersion: '2025-11-25' });
  const reconnects: Array<Record<string, unknown>> = [];
  c.on('reconnect', (r) => reconnects.push(r));
  await c.connect();
  try {
    const seen: number[] = [];
    let cut = false;
    const r = await c.callTool('progress', { steps: 4, every: 100 }, {
      onProgress: (p) => {
        seen.push(p.progress);
        if (cut) return;
        cut = true;
        for (const s of sockets) s.destroy();
      },
    });
    assert.equal(text(r), 'progressed');
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.ok(reconnects.some((x) => x.reason === 'stream-resume'));
  } finally {
    await c.close();
  }
});

test('2026: a cut stream fails only that call (no resumption in 2026)', async () => {
  const c = createClient(ep.url);
  await c.connect();
  let cut = false;
  const p = c.callTool('progress', { steps: 50, every: 40 }, {
    onProgress: () => {
      if (cut) return;
      cut = true;
      for (const s of sockets) s.destroy();
    },
  });
  await rejectsWith(p, 'STREAM_CLOSED');
  assert.equal(text(await c.callTool('echo', { text: 'ok' })), 'ok');
  await c.close();
});

test('2025: a session the server forgot is re-initialized once, with an event', async () => {
  const c = createClient(ep.url, { protocolVersion: '2025-11-25' });
  await c.connect();
  const first = c.server.sessionId!;
  const events: Array<{ previousSessionId?: string; sessionId?: string }> = [];
  c.on('sessionReinitialized', (e) => events.push(e));
  const updates: string[] = [];
  await c.subscribeResource('test://watched', (u) => updates.push(u));
  // Drop the session on the server, as an expiry or a restart would.
  const h = ep.handler as unknown as { sessions: Map<string, unknown>; closeSession(s: unknown): void };
  h.closeSession(h.sessions.get(first));
  assert.equal(text(await c.callTool('echo', { text: 'again' })), 'again');
  assert.equal(events.length, 1);
  assert.equal(events[0]!.previousSessionId, first);
  assert.notEqual(c.server.sessionId, first);
  // The subscription was renewed on the new session.
  await waitFor(() => server.notifyResourceUpdated('test://watched') > 0, 2000, 're-subscription');
  await waitFor(() => updates.length >= 1, 2000, 'update on the new session');
  await c.close();
});

test('HTTP keep-alive: many calls reuse a few connections', async () => {
  const c = createClient(ep.url);
  await c.connect();
  const before = connections;
  for (let i = 0; i < 20; i++) await c.callTool('echo', { text: String(i) });
  assert.ok(connections - before <= 1, `20 sequential calls opened ${connections - before} connections`);
  await c.close();
});

test('pinning 2025-06-18 negotiates it; a closed client refuses calls', async () => {
  const c = createClient(ep.url, { protocolVersion: '2025-06-18', elicitation: async () => ({ action: 'decline' }) });
  await c.connect();
  assert.equal(c.server.protocolVersion, '2025-06-18');
  assert.equal(text(await c.callTool('ask')), 'no name (decline)');
  await c.close();
  await rejectsWith(c.callTool('echo', { text: 'x' }), 'CONNECTION_CLOSED');
});

test('a call whose handler is missing fails typed (2026 input_required without sampling)', async () => {
  const c = createClient(ep.url);
  await c.connect();
  // No sampling capability is declared, so the server refuses with -32021.
  await assert.rejects(c.callTool('sample'), (err: unknown) => err instanceof McpError && err.code === -32021);
  await c.close();
});

test('connection refused is CONNECTION_FAILED after bounded retries', async () => {
  const c = createClient('http://127.0.0.1:1/mcp', { reconnect: { maxAttempts: 2, initialDelayMs: 10 } });
  const reconnects: unknown[] = [];
  c.on('reconnect', (r) => reconnects.push(r));
  const err = await rejectsWith(c.connect(), 'CONNECTION_FAILED');
  assert.ok(err instanceof ClientError);
  assert.equal(reconnects.length, 2);
});
