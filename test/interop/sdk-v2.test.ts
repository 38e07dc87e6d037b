/**
 * Interop: the official v2 TypeScript client (@modelcontextprotocol/client, the 2026-07-28 era)
 * against andon-mcp. Over Streamable HTTP with the era pinned (server/discover, stateless requests
 * with the `_meta` envelope, input_required multi-round trips, subscriptions/listen, stream-close
 * cancellation), in `auto` and `legacy` negotiation modes, and over stdio with `auto` negotiation.
 */
import { test, describe, before, after } from 'node:test';
import { validated, violations, validatedCount } from '../helpers/validated-transport.js';
import { text, waitFor, withTimeout } from '../helpers/wait.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Client, StreamableHTTPClientTransport, type FetchLike, type McpSubscription } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { CLI, DIST, TEST_STATE_DIR } from '../helpers/paths.js';
import { buildInteropServer, type InteropServer } from './interop-server.js';

const V26 = '2026-07-28';
const LOG_LEVEL_KEY = 'io.modelcontextprotocol/logLevel';


interface Recorded {
  method: string;
  headers: Record<string, string>;
  body: any;
  status: number;
}

/** A fetch that records what the client sent and the status it got. */
function spyFetch(log: Recorded[]): FetchLike {
  return async (url, init) => {
    const res = await fetch(url, init);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    let body: unknown;
    try {
      body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    } catch {
      body = init?.body;
    }
    log.push({ method: init?.method ?? 'GET', headers, body, status: res.status });
    return res;
  };
}

interface ClientRecord {
  notifications: Array<{ method: string; params?: any }>;
  elicit: any[];
  sampling: any[];
  roots: number;
}

type Mode = 'legacy' | 'auto' | { pin: string };

/** A v2 client with elicitation, sampling and roots handlers that answer deterministically. */
function makeClient(name: string, mode: Mode, opts: { capabilities?: boolean; maxRounds?: number } = {}): { client: Client; rec: ClientRecord } {
  const rec: ClientRecord = { notifications: [], elicit: [], sampling: [], roots: 0 };
  const withCaps = opts.capabilities ?? true;
  const client = new Client(
    { name, version: '0.0.1' },
    {
      versionNegotiation: { mode },
      capabilities: withCaps ? { elicitation: { form: {} }, sampling: {}, roots: {} } : {},
      inputRequired: { maxRounds: opts.maxRounds ?? 5 },
    },
  );
  if (withCaps) {
    client.setRequestHandler('elicitation/create', async (req) => {
      rec.elicit.push(req.params);
      const content: Record<string, string | number> = req.params.message === 'Topic?' ? { topic: 'tides' } : { name: 'Ada', age: 36 };
      return { action: 'accept', content };
    });
    client.setRequestHandler('sampling/createMessage', async (req) => {
      rec.sampling.push(req.params);
      const first = req.params.messages[0]?.content as { text?: string } | undefined;
      const answer = first?.text === 'What is 2+2?' ? 'four' : `summary of ${first?.text ?? '?'}`;
      return { model: 'test-model-7', role: 'assistant', content: { type: 'text', text: answer }, stopReason: 'endTurn' };
    });
    client.setRequestHandler('roots/list', async () => {
      rec.roots++;
      return {
        roots: [
          { uri: 'file:///work/project', name: 'project' },
          { uri: 'file:///tmp/scratch', name: 'scratch' },
        ],
      };
    });
  }
  for (const method of ['notifications/message', 'notifications/resources/updated', 'notifications/tools/list_changed', 'notifications/resources/list_changed'] as const) {
    client.setNotificationHandler(method, (n) => {
      rec.notifications.push(n as { method: string; params?: unknown });
    });
  }
  return { client, rec };
}

// ───────────────────────────── HTTP, 2026-07-28 pinned ─────────────────────────────

describe('v2 client (2026-07-28 pinned) over Streamable HTTP', () => {
  let fx: InteropServer;
  let ep: HttpEndpoint;
  let client: Client;
  let rec: ClientRecord;
  const wire: Recorded[] = [];

  before(async () => {
    fx = buildInteropServer('interop-v2');
    ep = await serveHttp(fx.server, { port: 0 });
    ({ client, rec } = makeClient('v2-interop-client', { pin: V26 }));
    await client.connect(validated(new StreamableHTTPClientTransport(new URL(ep.url), { fetch: spyFetch(wire) })));
  });

  after(async () => {
    await client?.close();
    await ep?.close();
  });

  test('connect: server/discover negotiates 2026-07-28', () => {
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), V26);
    assert.deepEqual(client.getServerVersion(), { name: 'interop-v2', version: '1.2.3' });
    assert.equal(client.getInstructions(), 'Interop test server.');
    const d = client.getDiscoverResult();
    assert.ok(d, 'discover result recorded');
    assert.ok(d.supportedVersions.includes(V26));
    assert.equal(d.supportedVersions[0], V26);
    const caps = client.getServerCapabilities();
    assert.deepEqual(caps?.tools, { listChanged: true });
    assert.deepEqual(caps?.prompts, { listChanged: true });
    assert.deepEqual(caps?.completions, {});
    assert.equal(caps?.resources?.listChanged, true);
    // The connect was one POST of server/discover, not initialize.
    assert.equal(wire[0]?.body?.method, 'server/discover');
    assert.equal(wire[0]?.status, 200);
    assert.equal(wire.some((w) => w.body?.method === 'initialize'), false);
  });

  test('tools/list', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['echo', 'add', 'fail', 'progress', 'log', 'slow', 'abort_log', 'ask_name', 'ask_model', 'roots', 'ask_both', 'bump'],
    );
    const echo = tools[0]!;
    assert.deepEqual(echo.inputSchema, { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
  });

  test('tools/call: plain, structured, tool error, invalid arguments', async () => {
    const plain = await client.callTool({ name: 'echo', arguments: { text: 'modern' } });
    assert.deepEqual(plain.content, [{ type: 'text', text: 'echo: modern' }]);
    assert.notEqual(plain.isError, true);

    const structured = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    assert.deepEqual(structured.structuredContent, { sum: 42, expression: '20 + 22' });
    assert.deepEqual(JSON.parse(text(structured)), { sum: 42, expression: '20 + 22' });

    const failed = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(failed.isError, true);
    assert.equal(text(failed), 'kaboom: intentional failure');

    const invalid = await client.callTool({ name: 'add', arguments: { a: 1 } });
    assert.equal(invalid.isError, true);
    assert.match(text(invalid), /Invalid arguments for tool "add"/);
  });

  test('tools/call: unknown tool is a protocol error -32602', async () => {
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (err: Error & { code?: unknown }) => {
      assert.equal(err.code, -32602);
      assert.match(err.message, /Unknown tool: no_such_tool/);
      return true;
    });
  });

  test('every request is stateless and carries the 2026 headers', () => {
    const posts = wire.filter((w) => w.method === 'POST' && w.body && 'method' in w.body && 'id' in w.body);
    assert.ok(posts.length >= 5);
    for (const p of posts) {
      assert.equal(p.headers['mcp-protocol-version'], V26, `${p.body.method} MCP-Protocol-Version`);
      assert.equal(p.headers['mcp-method'], p.body.method);
      assert.equal(p.headers['mcp-session-id'], undefined);
      assert.equal(p.body.params?._meta?.['io.modelcontextprotocol/protocolVersion'], V26);
    }
    assert.equal(wire.some((w) => w.method === 'GET'), false, 'no standalone GET stream in 2026');
  });

  test('resources: list, templates, read, not found', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(resources, [
      { uri: 'test://greeting', name: 'greeting', title: 'Greeting', mimeType: 'text/plain' },
      { uri: 'test://counter', name: 'counter', mimeType: 'application/json' },
    ]);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates, [{ uriTemplate: 'test://items/{id}', name: 'item', title: 'An item', mimeType: 'text/plain' }]);
    const r = await client.readResource({ uri: 'test://items/gamma' });
    assert.deepEqual(r.contents, [{ uri: 'test://items/gamma', mimeType: 'text/plain', text: 'item gamma' }]);
    const g = await client.readResource({ uri: 'test://greeting' });
    assert.deepEqual(g.contents, [{ uri: 'test://greeting', mimeType: 'text/plain', text: 'hello world' }]);
    // 2026-07-28: resource not found is -32602.
    await assert.rejects(client.readResource({ uri: 'test://missing' }), (err: Error & { code?: unknown }) => {
      assert.equal(err.code, -32602);
      assert.match(err.message, /Resource not found: test:\/\/missing/);
      return true;
    });
  });

  test('prompts: list and get', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts, [
      {
        name: 'greet',
        title: 'Greet',
        description: 'Greets someone.',
        arguments: [
          { name: 'name', description: 'Who', required: true },
          { name: 'style', description: 'formal or casual' },
        ],
      },
    ]);
    const p = await client.getPrompt({ name: 'greet', arguments: { name: 'Grace' } });
    assert.equal(p.description, 'Greets someone.');
    assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: 'Say hello to Grace in a casual way.' } }]);
  });

  test('completion/complete', async () => {
    const c1 = await client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'G' } });
    assert.deepEqual(c1.completion, { values: ['Grace'], total: 1, hasMore: false });
    const c2 = await client.complete({ ref: { type: 'ref/resource', uri: 'test://items/{id}' }, argument: { name: 'id', value: 'a' } });
    assert.deepEqual(c2.completion.values, ['alpha']);
  });

  test('progress on the request stream', async () => {
    const seen: unknown[] = [];
    const r = await client.callTool({ name: 'progress', arguments: {} }, { onprogress: (p) => seen.push(p) });
    assert.equal(text(r), 'progress done');
    assert.deepEqual(seen, [
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
      { progress: 3, total: 3, message: 'step 3' },
    ]);
  });

  test('logging: per-request _meta log level filters notifications/message', async () => {
    rec.notifications.length = 0;
    const r = await client.callTool({ name: 'log', arguments: {}, _meta: { [LOG_LEVEL_KEY]: 'warning' } });
    assert.equal(text(r), 'logged');
    await new Promise((r2) => setTimeout(r2, 20));
    assert.deepEqual(
      rec.notifications.map((n) => n.params),
      [
        { level: 'warning', logger: 'interop-logger', data: { note: 'warning-message' } },
        { level: 'error', data: 'error-message' },
      ],
    );
    // Without a level in _meta, a 2026 server sends no log notifications at all.
    rec.notifications.length = 0;
    await client.callTool({ name: 'log', arguments: {} });
    await new Promise((r2) => setTimeout(r2, 20));
    assert.deepEqual(rec.notifications, []);
  });

  test('input_required: elicitation answered automatically by the handler', async () => {
    const start = wire.length;
    const r = await client.callTool({ name: 'ask_name', arguments: {} });
    assert.equal(text(r), 'Hello Ada, age 36');
    assert.equal(rec.elicit.at(-1).message, 'Who are you?');
    assert.deepEqual(rec.elicit.at(-1).requestedSchema.required, ['name']);
    // Two rounds on the wire: the first without inputResponses, the retry (fresh id) with them.
    const calls = wire.slice(start).filter((w) => w.body?.method === 'tools/call');
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.body.params.inputResponses, undefined);
    assert.notEqual(calls[0]!.body.id, calls[1]!.body.id);
    assert.deepEqual(Object.values(calls[1]!.body.params.inputResponses), [{ action: 'accept', content: { name: 'Ada', age: 36 } }]);
  });

  test('input_required: sampling answered automatically by the handler', async () => {
    const r = await client.callTool({ name: 'ask_model', arguments: {} });
    assert.equal(text(r), 'model test-model-7 said: four');
    const p = rec.sampling.at(-1);
    assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }]);
    assert.equal(p.maxTokens, 16);
    assert.equal(p.systemPrompt, 'Be terse.');
  });

  test('input_required: roots/list answered automatically by the handler', async () => {
    const before = rec.roots;
    const r = await client.callTool({ name: 'roots', arguments: {} });
    assert.equal(text(r), 'project=file:///work/project;scratch=file:///tmp/scratch');
    assert.equal(rec.roots, before + 1);
  });

  test('input_required: elicitation then sampling in one tool call (two input rounds)', async () => {
    // Round 1 asks for the elicitation; the retry answers it; round 2 asks for sampling; the retry
    // answers only that (a client sends responses to the latest inputRequests, and echoes
    // requestState). The server must still know the round-1 answer on the final retry.
    const start = wire.length;
    const r = await client.callTool({ name: 'ask_both', arguments: {} });
    assert.equal(text(r), 'tides: summary of Summarise tides');
    const calls = wire.slice(start).filter((w) => w.body?.method === 'tools/call');
    assert.equal(calls.length, 3);
  });

  test('input_required: missing client capability is error -32021', async () => {
    const { client: bare } = makeClient('v2-bare', { pin: V26 }, { capabilities: false });
    await bare.connect(validated(new StreamableHTTPClientTransport(new URL(ep.url))));
    try {
      await assert.rejects(bare.callTool({ name: 'ask_name', arguments: {} }), (err: Error & { code?: unknown; data?: any }) => {
        assert.equal(err.code, -32021);
        assert.deepEqual(err.data?.requiredCapabilities, { elicitation: { form: {} } });
        return true;
      });
    } finally {
      await bare.close();
    }
  });

  test('subscriptions/listen: acknowledged filter, resource updates, list changes, close', async () => {
    rec.notifications.length = 0;
    const sub: McpSubscription = await client.listen({ resourceSubscriptions: ['test://counter'], toolsListChanged: true });
    try {
      assert.deepEqual(sub.honoredFilter, { toolsListChanged: true, resourceSubscriptions: ['test://counter'] });
      fx.bumpCounter();
      await waitFor(() => rec.notifications.some((n) => n.method === 'notifications/resources/updated'), 2000, 'resources/updated');
      const upd = rec.notifications.find((n) => n.method === 'notifications/resources/updated')!;
      assert.equal(upd.params.uri, 'test://counter');
      assert.equal(upd.params._meta?.['io.modelcontextprotocol/subscriptionId'], wire.findLast((w) => w.body?.method === 'subscriptions/listen')?.body.id);
      const r = await client.readResource({ uri: 'test://counter' });
      assert.deepEqual(JSON.parse((r.contents[0] as { text: string }).text), { count: 1 });

      fx.server.tool('late_tool', { description: 'Added later.' }, () => 'late');
      await waitFor(() => rec.notifications.some((n) => n.method === 'notifications/tools/list_changed'), 2000, 'tools/list_changed');
      const { tools } = await client.listTools();
      assert.equal(tools.at(-1)?.name, 'late_tool');
      fx.server.removeTool('late_tool');
    } finally {
      await sub.close();
    }
    assert.equal(await sub.closed, 'local');
    // After close, the server stops delivering.
    await new Promise((r) => setTimeout(r, 50));
    const n = rec.notifications.length;
    fx.bumpCounter();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rec.notifications.length, n);
  });

  test('cancellation: aborting closes the request stream and aborts ctx.signal', async () => {
    const ac = new AbortController();
    const started = once(fx.state.events, 'slow-started');
    const aborted = once(fx.state.events, 'slow-aborted');
    const call = client.callTool({ name: 'slow', arguments: {} }, { signal: ac.signal });
    await withTimeout(started, 2000, 'slow to start');
    ac.abort('user pressed stop');
    await assert.rejects(call);
    const [reason] = await withTimeout(aborted, 2000, 'ctx.signal to abort');
    assert.equal(reason, 'client closed the request stream');
  });
});

// ───────────────────────────── HTTP, other negotiation modes ─────────────────────────────

describe('v2 client over Streamable HTTP: negotiation modes', () => {
  let fx: InteropServer;
  let ep: HttpEndpoint;

  before(async () => {
    fx = buildInteropServer('interop-v2-modes');
    ep = await serveHttp(fx.server, { port: 0 });
  });

  after(async () => {
    await ep?.close();
  });

  test("mode 'auto' selects 2026-07-28 from server/discover", async () => {
    const { client } = makeClient('v2-auto', 'auto');
    await client.connect(validated(new StreamableHTTPClientTransport(new URL(ep.url))));
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), V26);
      assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'auto' } })), 'echo: auto');
      assert.equal(text(await client.callTool({ name: 'ask_name', arguments: {} })), 'Hello Ada, age 36');
    } finally {
      await client.close();
    }
  });

  test("mode 'legacy' uses initialize, a session, and server→client requests", async () => {
    const { client, rec } = makeClient('v2-legacy', 'legacy');
    const t = validated(new StreamableHTTPClientTransport(new URL(ep.url)));
    await client.connect(t);
    try {
      assert.equal(client.getProtocolEra(), 'legacy');
      assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
      assert.match(t.sessionId ?? '', /^[0-9a-f]{32}$/);
      assert.deepEqual(client.getServerVersion(), { name: 'interop-v2-modes', version: '1.2.3' });
      assert.equal(text(await client.callTool({ name: 'ask_both', arguments: {} })), 'tides: summary of Summarise tides');
      assert.equal(rec.elicit.length, 1);
      assert.equal(rec.sampling.length, 1);
      assert.equal(text(await client.callTool({ name: 'roots', arguments: {} })), 'project=file:///work/project;scratch=file:///tmp/scratch');
      assert.deepEqual(await client.setLoggingLevel('error'), {});
    } finally {
      await t.terminateSession().catch(() => {});
      await client.close();
    }
  });
});

describe('v2 client over Streamable HTTP: pagination and shutdown', () => {
  test('paginated lists are walked to the end (pageSize 3)', async () => {
    const fx = buildInteropServer('interop-v2-pages', { pageSize: 3 });
    const ep = await serveHttp(fx.server, { port: 0 });
    const wire: Recorded[] = [];
    const { client } = makeClient('v2-pages', { pin: V26 });
    await client.connect(validated(new StreamableHTTPClientTransport(new URL(ep.url), { fetch: spyFetch(wire) })));
    try {
      const { tools, nextCursor } = await client.listTools();
      assert.equal(nextCursor, undefined);
      assert.equal(tools.length, 12);
      assert.equal(tools.at(-1)?.name, 'bump');
      assert.equal(wire.filter((w) => w.body?.method === 'tools/list').length, 4);
      const page = await client.listTools({ cursor: wire.filter((w) => w.body?.method === 'tools/list')[1]!.body.params.cursor });
      assert.deepEqual(
        page.tools.map((t) => t.name),
        ['progress', 'log', 'slow'],
      );
    } finally {
      await client.close();
      await ep.close();
    }
  });

  test('server shutdown ends a listen subscription gracefully', async () => {
    const fx = buildInteropServer('interop-v2-shutdown');
    const ep = await serveHttp(fx.server, { port: 0 });
    const { client } = makeClient('v2-shutdown', { pin: V26 });
    await client.connect(validated(new StreamableHTTPClientTransport(new URL(ep.url))));
    try {
      const sub = await client.listen({ promptsListChanged: true });
      assert.deepEqual(sub.honoredFilter, { promptsListChanged: true });
      await ep.close();
      assert.equal(await withTimeout(sub.closed, 2000, 'subscription to close'), 'graceful');
    } finally {
      await client.close();
    }
  });
});

// ───────────────────────────── stdio, auto ─────────────────────────────

describe("v2 client over stdio (mode 'auto')", () => {
  let client: Client;
  let rec: ClientRecord;

  before(async () => {
    ({ client, rec } = makeClient('v2-stdio', 'auto'));
    const transport = validated(new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve', resolve(DIST, 'test/interop/interop-server.js'), '--stdio', '--state-dir', TEST_STATE_DIR],
      stderr: 'pipe',
    }));
    await withTimeout(client.connect(transport), 10_000, 'stdio connect');
  });

  after(async () => {
    await client?.close();
  });

  test('negotiates 2026-07-28 over stdio', () => {
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), V26);
    assert.deepEqual(client.getServerVersion(), { name: 'interop-stdio', version: '1.2.3' });
  });

  test('tools, resources, prompts over stdio', async () => {
    const r = await client.callTool({ name: 'add', arguments: { a: 1.5, b: 2 } });
    assert.deepEqual(r.structuredContent, { sum: 3.5, expression: '1.5 + 2' });
    const res = await client.readResource({ uri: 'test://items/alpha' });
    assert.deepEqual(res.contents, [{ uri: 'test://items/alpha', mimeType: 'text/plain', text: 'item alpha' }]);
    const p = await client.getPrompt({ name: 'greet', arguments: { name: 'Alan', style: 'formal' } });
    assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: 'Say hello to Alan in a formal way.' } }]);
  });

  test('input_required round trip over stdio', async () => {
    assert.equal(text(await client.callTool({ name: 'ask_name', arguments: {} })), 'Hello Ada, age 36');
    assert.equal(text(await client.callTool({ name: 'ask_model', arguments: {} })), 'model test-model-7 said: four');
  });

  test('logging via _meta level over stdio', async () => {
    rec.notifications.length = 0;
    await client.callTool({ name: 'log', arguments: {}, _meta: { [LOG_LEVEL_KEY]: 'error' } });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      rec.notifications.map((n) => n.params),
      [{ level: 'error', data: 'error-message' }],
    );
  });

  test('cancellation over stdio (notifications/cancelled) aborts the handler', async () => {
    const ac = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: {} }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort('stdio stop');
    await assert.rejects(call);
    await new Promise((r) => setTimeout(r, 50));
    const log = JSON.parse(text(await client.callTool({ name: 'abort_log', arguments: {} }))) as string[];
    // The client sends notifications/cancelled with the abort reason; the server aborted ctx.signal with it.
    assert.deepEqual(log, ['stdio stop']);
  });

  test('subscriptions/listen over stdio', async () => {
    const sub = await withTimeout(client.listen({ resourceSubscriptions: ['test://counter'] }), 3000, 'listen ack');
    try {
      assert.deepEqual(sub.honoredFilter, { resourceSubscriptions: ['test://counter'] });
      rec.notifications.length = 0;
      assert.equal(text(await client.callTool({ name: 'bump', arguments: {} })), 'counter is 1');
      await waitFor(() => rec.notifications.some((n) => n.method === 'notifications/resources/updated'), 2000, 'resources/updated');
      const upd = rec.notifications.find((n) => n.method === 'notifications/resources/updated')!;
      assert.equal(upd.params.uri, 'test://counter');
      assert.ok(upd.params._meta?.['io.modelcontextprotocol/subscriptionId'] !== undefined, 'carries the subscription id');
    } finally {
      await sub.close();
    }
  });
});

test('every message the server sent in this file matches the official schema of its era', () => {
  assert.deepEqual(violations, []);
  assert.ok(validatedCount >= 40, `only ${validatedCount} messages were validated`);
});
