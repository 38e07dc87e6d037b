/**
 * Interop: the official v1 TypeScript SDK client (@modelcontextprotocol/sdk) against andon-mcp,
 * over Streamable HTTP (in-process server) and over stdio (the compiled CLI serving the weather
 * example, and `andon serve` with ./interop-server.js for the client-feature round trips).
 * Every assertion checks real values the SDK decoded from our wire output.
 */
import { test, describe, before, after } from 'node:test';
import { validated, violations, validatedCount } from '../helpers/validated-transport.js';
import { text, waitFor, withTimeout } from '../helpers/wait.js';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type LoggingMessageNotification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { forecast } from '../../examples/weather.js';
import { CLI, DIST, TEST_STATE_DIR } from '../helpers/paths.js';
import { buildInteropServer, type InteropServer } from './interop-server.js';


/** What the client's handlers saw. */
interface ClientRecord {
  logs: LoggingMessageNotification['params'][];
  updates: string[];
  listChanged: string[];
  elicit: unknown[];
  sampling: unknown[];
}

/** A v1 client declaring elicitation, sampling and roots, with handlers that answer deterministically. */
function fullClient(name: string): { client: Client; rec: ClientRecord } {
  const rec: ClientRecord = { logs: [], updates: [], listChanged: [], elicit: [], sampling: [] };
  const client = new Client({ name, version: '0.0.1' }, { capabilities: { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    rec.elicit.push(req.params);
    if (req.params.message === 'Topic?') return { action: 'accept', content: { topic: 'tides' } };
    return { action: 'accept', content: { name: 'Ada', age: 36 } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    rec.sampling.push(req.params);
    const first = req.params.messages[0]?.content as { text?: string } | undefined;
    const answer = first?.text === 'What is 2+2?' ? 'four' : `summary of ${first?.text ?? '?'}`;
    return { model: 'test-model-7', role: 'assistant', content: { type: 'text', text: answer }, stopReason: 'endTurn' };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [
      { uri: 'file:///work/project', name: 'project' },
      { uri: 'file:///tmp/scratch', name: 'scratch' },
    ],
  }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    rec.logs.push(n.params);
  });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    rec.updates.push(n.params.uri);
  });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    rec.listChanged.push('tools');
  });
  return { client, rec };
}

/** Tests of the client-feature round trips, shared by HTTP and stdio. */
function roundTripTests(get: () => { client: Client; rec: ClientRecord }): void {
  test('logging/setLevel filters notifications/message', async () => {
    const { client, rec } = get();
    assert.deepEqual(await client.setLoggingLevel('warning'), {});
    rec.logs.length = 0;
    const r = await client.callTool({ name: 'log', arguments: {} });
    assert.equal(text(r), 'logged');
    await waitFor(() => rec.logs.length >= 2, 1000, 'log notifications');
    await new Promise((r2) => setTimeout(r2, 20));
    assert.deepEqual(rec.logs, [
      { level: 'warning', data: { note: 'warning-message' }, logger: 'interop-logger' },
      { level: 'error', data: 'error-message' },
    ]);
    // Lower the threshold: everything arrives.
    await client.setLoggingLevel('debug');
    rec.logs.length = 0;
    await client.callTool({ name: 'log', arguments: {} });
    await waitFor(() => rec.logs.length >= 4, 1000, 'log notifications');
    assert.deepEqual(
      rec.logs.map((l) => l.level),
      ['debug', 'info', 'warning', 'error'],
    );
  });

  test('progress notifications reach onprogress', async () => {
    const { client } = get();
    const seen: Progress[] = [];
    const r = await client.callTool({ name: 'progress', arguments: {} }, CallToolResultSchema, { onprogress: (p) => seen.push(p) });
    assert.equal(text(r), 'progress done');
    assert.deepEqual(seen, [
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
      { progress: 3, total: 3, message: 'step 3' },
    ]);
  });

  test('elicitation round trip (elicitation/create answered by the client)', async () => {
    const { client, rec } = get();
    const r = await client.callTool({ name: 'ask_name', arguments: {} });
    assert.equal(text(r), 'Hello Ada, age 36');
    const req = rec.elicit.at(-1) as { message: string; requestedSchema: { required: string[]; properties: object } };
    assert.equal(req.message, 'Who are you?');
    assert.deepEqual(req.requestedSchema.required, ['name']);
    assert.deepEqual(Object.keys(req.requestedSchema.properties), ['name', 'age']);
  });

  test('sampling round trip (sampling/createMessage answered by the client)', async () => {
    const { client, rec } = get();
    const r = await client.callTool({ name: 'ask_model', arguments: {} });
    assert.equal(text(r), 'model test-model-7 said: four');
    const p = rec.sampling.at(-1) as { messages: unknown; maxTokens: number; systemPrompt: string };
    assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }]);
    assert.equal(p.maxTokens, 16);
    assert.equal(p.systemPrompt, 'Be terse.');
  });

  test('elicitation then sampling inside one tool call', async () => {
    const { client } = get();
    const r = await client.callTool({ name: 'ask_both', arguments: {} });
    assert.equal(text(r), 'tides: summary of Summarise tides');
  });

  test('roots/list round trip', async () => {
    const { client } = get();
    const r = await client.callTool({ name: 'roots', arguments: {} });
    assert.equal(text(r), 'project=file:///work/project;scratch=file:///tmp/scratch');
  });
}

// ───────────────────────────── Streamable HTTP ─────────────────────────────

describe('v1 SDK client over Streamable HTTP', () => {
  let fx: InteropServer;
  let ep: HttpEndpoint;
  let client: Client;
  let rec: ClientRecord;
  let transport: StreamableHTTPClientTransport;
  const received: JSONRPCMessage[] = [];

  before(async () => {
    fx = buildInteropServer('interop-v1');
    ep = await serveHttp(fx.server, { port: 0 });
    ({ client, rec } = fullClient('v1-interop-client'));
    transport = validated(new StreamableHTTPClientTransport(new URL(ep.url)));
    await client.connect(transport);
    // Record every message the client receives (after the handshake) for wire-level checks.
    const orig = transport.onmessage as ((m: JSONRPCMessage, extra?: unknown) => void) | undefined;
    transport.onmessage = (m: JSONRPCMessage, extra?: unknown) => {
      received.push(m);
      orig?.call(transport, m, extra);
    };
  });

  after(async () => {
    await transport?.terminateSession().catch(() => {});
    await client?.close();
    await ep?.close();
  });

  test('initialize: version, server info, instructions, capabilities, session id', () => {
    assert.equal(client.getServerVersion()?.name, 'interop-v1');
    assert.equal(client.getServerVersion()?.version, '1.2.3');
    assert.equal(client.getInstructions(), 'Interop test server.');
    assert.equal(transport.protocolVersion, '2025-11-25');
    assert.match(transport.sessionId ?? '', /^[0-9a-f]{32}$/);
    const caps = client.getServerCapabilities();
    assert.deepEqual(caps?.tools, { listChanged: true });
    assert.deepEqual(caps?.resources, { subscribe: true, listChanged: true });
    assert.deepEqual(caps?.prompts, { listChanged: true });
    assert.deepEqual(caps?.logging, {});
    assert.deepEqual(caps?.completions, {});
  });

  test('ping', async () => {
    assert.deepEqual(await client.ping(), {});
  });

  test('tools/list', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['echo', 'add', 'fail', 'progress', 'log', 'slow', 'abort_log', 'ask_name', 'ask_model', 'roots', 'ask_both', 'bump'],
    );
    const add = tools.find((t) => t.name === 'add')!;
    assert.equal(add.description, 'Adds two numbers (structured output).');
    assert.equal(add.inputSchema.type, 'object');
    assert.deepEqual(Object.keys(add.inputSchema.properties ?? {}).sort(), ['a', 'b']);
    assert.equal(add.outputSchema?.type, 'object');
    assert.deepEqual(Object.keys(add.outputSchema?.properties ?? {}).sort(), ['expression', 'sum']);
  });

  test('tools/call: plain text', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { text: 'hi there' } });
    assert.deepEqual(r.content, [{ type: 'text', text: 'echo: hi there' }]);
    assert.notEqual(r.isError, true);
  });

  test('tools/call: structured output (validated by the SDK against outputSchema)', async () => {
    const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(r.structuredContent, { sum: 42, expression: '2 + 40' });
    assert.deepEqual(JSON.parse(text(r)), { sum: 42, expression: '2 + 40' });
  });

  test('tools/call: tool error is a result with isError, not a protocol error', async () => {
    const r = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(r.isError, true);
    assert.equal(text(r), 'kaboom: intentional failure');
  });

  test('tools/call: invalid arguments give isError with the problem', async () => {
    const r = await client.callTool({ name: 'add', arguments: { a: 'two', b: 1 } });
    assert.equal(r.isError, true);
    assert.match(text(r), /Invalid arguments for tool "add"/);
  });

  test('tools/call: unknown tool is a JSON-RPC error -32602', async () => {
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (err: Error & { code?: number }) => {
      assert.equal(err.code, -32602);
      assert.match(err.message, /Unknown tool: no_such_tool/);
      return true;
    });
  });

  test('resources/list and resources/templates/list', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(resources, [
      { uri: 'test://greeting', name: 'greeting', title: 'Greeting', mimeType: 'text/plain' },
      { uri: 'test://counter', name: 'counter', mimeType: 'application/json' },
    ]);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates, [{ uriTemplate: 'test://items/{id}', name: 'item', title: 'An item', mimeType: 'text/plain' }]);
  });

  test('resources/read: fixed resource and template', async () => {
    const a = await client.readResource({ uri: 'test://greeting' });
    assert.deepEqual(a.contents, [{ uri: 'test://greeting', mimeType: 'text/plain', text: 'hello world' }]);
    const b = await client.readResource({ uri: 'test://items/beta' });
    assert.deepEqual(b.contents, [{ uri: 'test://items/beta', mimeType: 'text/plain', text: 'item beta' }]);
  });

  test('resources/read: unknown resource is error -32002', async () => {
    await assert.rejects(client.readResource({ uri: 'test://nope' }), (err: Error & { code?: number }) => {
      assert.equal(err.code, -32002);
      assert.match(err.message, /Resource not found: test:\/\/nope/);
      return true;
    });
  });

  test('resources/subscribe + notifications/resources/updated on the GET stream', async () => {
    // The SDK opens the standalone GET stream after initialization; wait until it is attached.
    const session = ep.handler.sessions.get(transport.sessionId!);
    assert.ok(session, 'server knows the session');
    await waitFor(() => session.standalone !== null, 3000, 'the GET stream');
    assert.deepEqual(await client.subscribeResource({ uri: 'test://counter' }), {});
    fx.bumpCounter();
    await waitFor(() => rec.updates.includes('test://counter'), 3000, 'notifications/resources/updated');
    const r = await client.readResource({ uri: 'test://counter' });
    assert.deepEqual(JSON.parse((r.contents[0] as { text: string }).text), { count: 1 });
    // After unsubscribing, no further updates arrive.
    assert.deepEqual(await client.unsubscribeResource({ uri: 'test://counter' }), {});
    const before = rec.updates.length;
    fx.bumpCounter();
    await new Promise((r2) => setTimeout(r2, 100));
    assert.equal(rec.updates.length, before);
  });

  test('notifications/tools/list_changed on the GET stream when a tool is added', async () => {
    rec.listChanged.length = 0;
    fx.server.tool('late_tool', { description: 'Added later.' }, () => 'late');
    await waitFor(() => rec.listChanged.length > 0, 2000, 'tools/list_changed');
    const { tools } = await client.listTools();
    assert.equal(tools.at(-1)?.name, 'late_tool');
    assert.equal(text(await client.callTool({ name: 'late_tool', arguments: {} })), 'late');
    fx.server.removeTool('late_tool');
  });

  test('prompts/list and prompts/get', async () => {
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
    const p = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada', style: 'formal' } });
    assert.equal(p.description, 'Greets someone.');
    assert.deepEqual(p.messages, [{ role: 'user', content: { type: 'text', text: 'Say hello to Ada in a formal way.' } }]);
  });

  test('prompts/get: missing required argument is -32602', async () => {
    await assert.rejects(client.getPrompt({ name: 'greet', arguments: {} }), (err: Error & { code?: number }) => {
      assert.equal(err.code, -32602);
      return true;
    });
  });

  test('completion/complete for a prompt argument and a template variable', async () => {
    const c1 = await client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'A' } });
    assert.deepEqual(c1.completion, { values: ['Ada', 'Alan'], total: 2, hasMore: false });
    const c2 = await client.complete({ ref: { type: 'ref/resource', uri: 'test://items/{id}' }, argument: { name: 'id', value: 'ga' } });
    assert.deepEqual(c2.completion.values, ['gamma', 'gamut']);
  });

  roundTripTests(() => ({ client, rec }));

  test('cancellation: aborting the call aborts ctx.signal on the server', async () => {
    const ac = new AbortController();
    const started = once(fx.state.events, 'slow-started');
    const aborted = once(fx.state.events, 'slow-aborted');
    const call = client.callTool({ name: 'slow', arguments: {} }, CallToolResultSchema, { signal: ac.signal });
    await withTimeout(started, 2000, 'the slow tool to start');
    ac.abort('user pressed stop');
    await assert.rejects(call);
    const [reason] = await withTimeout(aborted, 2000, 'ctx.signal to abort');
    // The SDK sends the abort reason as notifications/cancelled params.reason.
    assert.equal(reason, 'user pressed stop');
    const session = ep.handler.sessions.get(transport.sessionId!)!;
    await waitFor(() => session.inflight.size === 0, 1000, 'inflight to drain');
  });

  test('cancellation: no response is sent for the cancelled request (spec SHOULD)', async () => {
    const ac = new AbortController();
    const started = once(fx.state.events, 'slow-started');
    const countBefore = received.length;
    const call = client.callTool({ name: 'slow', arguments: {} }, CallToolResultSchema, { signal: ac.signal });
    await withTimeout(started, 2000, 'the slow tool to start');
    ac.abort('stop');
    await assert.rejects(call);
    await new Promise((r) => setTimeout(r, 150));
    // 2025-11-25 basic/utilities/cancellation: receivers SHOULD NOT send a response for a cancelled request.
    const late = received.slice(countBefore).filter((m) => 'id' in m && ('result' in m || 'error' in m));
    assert.deepEqual(late, [], `server answered the cancelled request: ${JSON.stringify(late)}`);
  });

  test('server→client requests fail cleanly for a client without the capability', async () => {
    const bare = new Client({ name: 'bare-client', version: '0.0.1' });
    const t = validated(new StreamableHTTPClientTransport(new URL(ep.url)));
    await bare.connect(t);
    try {
      const r = await bare.callTool({ name: 'ask_name', arguments: {} });
      assert.equal(r.isError, true);
      assert.match(text(r), /elicitation/);
      const r2 = await bare.callTool({ name: 'ask_model', arguments: {} });
      assert.equal(r2.isError, true);
      assert.match(text(r2), /sampling/);
    } finally {
      await t.terminateSession().catch(() => {});
      await bare.close();
    }
  });

  test('DELETE ends the session', async () => {
    const c2 = new Client({ name: 'short-lived', version: '0.0.1' });
    const t2 = validated(new StreamableHTTPClientTransport(new URL(ep.url)));
    await c2.connect(t2);
    const sid = t2.sessionId!;
    assert.ok(ep.handler.sessions.has(sid));
    await t2.terminateSession();
    assert.equal(ep.handler.sessions.has(sid), false);
    await c2.close();
  });
});

// ───────────────────────────── stdio ─────────────────────────────

function stdioTransport(args: string[], stderr: string[]): StdioClientTransport {
  const t = validated(new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], stderr: 'pipe' }));
  t.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  return t;
}

describe('v1 SDK client over stdio (andon example weather --stdio)', () => {
  let client: Client;
  const stderr: string[] = [];

  before(async () => {
    client = new Client({ name: 'v1-stdio-client', version: '0.0.1' });
    await withTimeout(client.connect(stdioTransport(['example', 'weather', '--stdio', '--state-dir', TEST_STATE_DIR], stderr)), 10_000, 'stdio connect');
  });

  after(async () => {
    await client?.close();
  });

  test('initialize over stdio', () => {
    assert.equal(client.getServerVersion()?.name, 'andon-weather');
    assert.equal(client.getServerVersion()?.version, '0.1.0');
    assert.equal(client.getInstructions(), 'Deterministic demo weather data; no network.');
    const caps = client.getServerCapabilities();
    assert.deepEqual(caps?.tools, { listChanged: true });
    assert.deepEqual(caps?.resources, { subscribe: true, listChanged: true });
    assert.deepEqual(caps?.completions, {});
  });

  test('tools/list over stdio', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['get_forecast', 'list_cities'],
    );
    const f = tools[0]!;
    assert.equal(f.title, 'Get forecast');
    assert.deepEqual(f.annotations, { readOnlyHint: true, openWorldHint: false });
    assert.deepEqual((f.inputSchema.properties as Record<string, { enum?: string[] }>).city?.enum, ['london', 'paris', 'tokyo', 'toronto', 'sydney']);
  });

  test('tools/call structured output over stdio', async () => {
    const r = await client.callTool({ name: 'get_forecast', arguments: { city: 'paris', days: 2 } });
    const expected = { city: 'Paris', days: [forecast('paris', 0), forecast('paris', 1)] };
    assert.deepEqual(r.structuredContent, expected);
    assert.deepEqual(JSON.parse(text(r)), expected);
  });

  test('tools/call default argument applies over stdio', async () => {
    const r = await client.callTool({ name: 'get_forecast', arguments: { city: 'tokyo' } });
    assert.deepEqual(r.structuredContent, { city: 'Tokyo', days: [0, 1, 2].map((d) => forecast('tokyo', d)) });
  });

  test('tools/call resource links over stdio', async () => {
    const r = await client.callTool({ name: 'list_cities', arguments: {} });
    const content = r.content as unknown[];
    assert.equal(content.length, 5);
    assert.deepEqual(content[0], { type: 'resource_link', uri: 'weather://london/current', name: 'London', mimeType: 'application/json' });
  });

  test('tools/call error over stdio (invalid city)', async () => {
    const r = await client.callTool({ name: 'get_forecast', arguments: { city: 'atlantis' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /Invalid arguments for tool "get_forecast"/);
  });

  test('resources over stdio', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri),
      ['weather://cities', 'weather://alerts', 'weather://london/current', 'weather://paris/current', 'weather://tokyo/current', 'weather://toronto/current', 'weather://sydney/current'],
    );
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates, [{ uriTemplate: 'weather://{city}/current', name: 'current-weather', title: 'Current weather for a city', mimeType: 'application/json' }]);
    const r = await client.readResource({ uri: 'weather://sydney/current' });
    assert.deepEqual(r.contents.map((c) => [c.uri, c.mimeType]), [['weather://sydney/current', 'application/json']]);
    assert.deepEqual(JSON.parse((r.contents[0] as { text: string }).text), { city: 'Sydney', ...forecast('sydney', 0) });
    const alerts = await client.readResource({ uri: 'weather://alerts' });
    assert.deepEqual(JSON.parse((alerts.contents[0] as { text: string }).text), { sequence: 0, alert: null });
    assert.deepEqual(await client.subscribeResource({ uri: 'weather://alerts' }), {});
    assert.deepEqual(await client.unsubscribeResource({ uri: 'weather://alerts' }), {});
  });

  test('prompts and completion over stdio', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(
      prompts.map((p) => p.name),
      ['weather_report'],
    );
    const p = await client.getPrompt({ name: 'weather_report', arguments: { city: 'london', style: 'formal' } });
    const f = forecast('london', 0);
    assert.deepEqual(p.messages, [
      { role: 'user', content: { type: 'text', text: `Write a formal weather report for London: high ${f.highC}°C, low ${f.lowC}°C, ${f.conditions}.` } },
    ]);
    const c = await client.complete({ ref: { type: 'ref/prompt', name: 'weather_report' }, argument: { name: 'city', value: 'to' } });
    assert.deepEqual(c.completion.values, ['tokyo', 'toronto']);
    const c2 = await client.complete({ ref: { type: 'ref/resource', uri: 'weather://{city}/current' }, argument: { name: 'city', value: 'S' } });
    assert.deepEqual(c2.completion.values, ['sydney']);
    await assert.rejects(client.getPrompt({ name: 'weather_report', arguments: { city: 'mars' } }), /arguments\.city/);
  });

  test('logging/setLevel and ping over stdio', async () => {
    assert.deepEqual(await client.setLoggingLevel('error'), {});
    assert.deepEqual(await client.ping(), {});
  });

  test('nothing but logs on stderr', () => {
    // stdout carries only MCP; the CLI's own messages go to stderr as JSON log lines.
    for (const line of stderr.join('').split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), line);
  });
});

describe('v1 SDK client over stdio (interop server: client features and cancellation)', () => {
  let client: Client;
  let rec: ClientRecord;
  const stderr: string[] = [];

  before(async () => {
    ({ client, rec } = fullClient('v1-stdio-full'));
    const mod = resolve(DIST, 'test/interop/interop-server.js');
    await withTimeout(client.connect(stdioTransport(['serve', mod, '--stdio', '--state-dir', TEST_STATE_DIR], stderr)), 10_000, 'stdio connect');
  });

  after(async () => {
    await client?.close();
  });

  test('initialize over stdio', () => {
    assert.equal(client.getServerVersion()?.name, 'interop-stdio');
  });

  roundTripTests(() => ({ client, rec }));

  test('resources/subscribe + notifications/resources/updated over stdio', async () => {
    rec.updates.length = 0;
    assert.deepEqual(await client.subscribeResource({ uri: 'test://counter' }), {});
    assert.equal(text(await client.callTool({ name: 'bump', arguments: {} })), 'counter is 1');
    await waitFor(() => rec.updates.length > 0, 2000, 'notifications/resources/updated');
    assert.deepEqual(rec.updates, ['test://counter']);
    const r = await client.readResource({ uri: 'test://counter' });
    assert.deepEqual(JSON.parse((r.contents[0] as { text: string }).text), { count: 1 });
    assert.deepEqual(await client.unsubscribeResource({ uri: 'test://counter' }), {});
    await client.callTool({ name: 'bump', arguments: {} });
    await new Promise((r2) => setTimeout(r2, 50));
    assert.deepEqual(rec.updates, ['test://counter']);
  });

  test('cancellation over stdio: the server-side handler sees the abort', async () => {
    const ac = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: {} }, CallToolResultSchema, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort('stdio stop');
    await assert.rejects(call);
    await new Promise((r) => setTimeout(r, 50));
    // Ask the server (another process) what its handler observed.
    const r = await client.callTool({ name: 'abort_log', arguments: {} });
    assert.deepEqual(JSON.parse(text(r)), ['stdio stop']);
  });
});

test('every message the server sent in this file matches the official schema of its era', () => {
  assert.deepEqual(violations, []);
  assert.ok(validatedCount >= 40, `only ${validatedCount} messages were validated`);
});
