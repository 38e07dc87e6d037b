/**
 * The conformance fixture: every tool, resource and prompt the official conformance suite
 * (@modelcontextprotocol/conformance 0.2.0-alpha) calls, for both protocol eras, registered on
 * an andon-mcp server. Exact texts follow the suite's scenario checks.
 */
import { createServer, ErrorCode, McpError, type McpServer, type RequestContext } from '../../src/index.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('cancelled'));
    });
  });
const noArgs = { type: 'object', properties: {} };

export function buildFixture(): McpServer {
  const s = createServer({ name: 'andon-conformance-fixture', version: '0.1.0' });

  // ── core tools (both eras); test_simple_text first: some checks call tools[0] with {} ──
  s.tool('test_simple_text', { description: 'Returns a simple text response', inputSchema: noArgs }, () => 'This is a simple text response for testing.');
  s.tool('test_image_content', { description: 'Returns an image', inputSchema: noArgs }, () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }));
  s.tool('test_audio_content', { description: 'Returns audio', inputSchema: noArgs }, () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }));
  s.tool('test_embedded_resource', { description: 'Returns an embedded resource', inputSchema: noArgs }, () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
  }));
  s.tool('test_multiple_content_types', { description: 'Returns text, image and resource', inputSchema: noArgs }, () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
    ],
  }));
  s.tool('test_error_handling', { description: 'Always returns a tool error', inputSchema: noArgs }, () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }));
  s.tool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100', inputSchema: noArgs }, async (_a, ctx) => {
    ctx.progress(0, 100);
    await sleep(50, ctx.signal);
    ctx.progress(50, 100);
    await sleep(50, ctx.signal);
    ctx.progress(100, 100);
    return String(ctx.meta.progressToken ?? 'no token');
  });
  s.tool('test_tool_with_logging', { description: 'Sends three log messages', inputSchema: noArgs }, async (_a, ctx) => {
    ctx.log('info', 'Tool execution started');
    await sleep(50, ctx.signal);
    ctx.log('info', 'Tool processing data');
    await sleep(50, ctx.signal);
    ctx.log('info', 'Tool execution completed');
    return 'Tool with logging executed successfully';
  });
  s.tool(
    'test_sampling',
    { description: 'Asks the client LLM', inputSchema: { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] } },
    async ({ prompt }: { prompt: string }, ctx) => {
      const r = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 });
      const content = r.content as { text?: string };
      return `LLM response: ${content.text ?? JSON.stringify(r.content)}`;
    },
  );
  s.tool(
    'test_elicitation',
    { description: 'Asks the user for information', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
    async ({ message }: { message: string }, ctx) => {
      const r = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } },
          required: ['username', 'email'],
        },
      });
      return `User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`;
    },
  );
  s.tool('test_elicitation_sep1034_defaults', { description: 'Elicits a form with default values', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.elicit({
      message: 'Please review and update the form fields with defaults',
      requestedSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      },
    });
    return `Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`;
  });
  s.tool('test_elicitation_sep1330_enums', { description: 'Elicits enum fields of every style', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.elicit({
      message: 'Please select options from the enum fields',
      requestedSchema: {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', description: 'Untitled single select', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            description: 'Titled single select',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: { type: 'string', description: 'Legacy titled enum', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
          untitledMulti: { type: 'array', description: 'Untitled multi select', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
          titledMulti: {
            type: 'array',
            description: 'Titled multi select',
            minItems: 1,
            maxItems: 3,
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      },
    });
    return `Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`;
  });
  s.tool('test_reconnection', { description: 'Closes the SSE stream mid-call; the result arrives after reconnection', inputSchema: noArgs }, async (_a, ctx) => {
    await sleep(50, ctx.signal);
    ctx.closeStream();
    await sleep(300, ctx.signal);
    return 'Reconnection test completed';
  });
  s.tool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      },
    },
    (args: Record<string, unknown>) => `Received: ${JSON.stringify(args)}`,
  );
  s.tool(
    'test_custom_header',
    {
      description: 'Mirrors its region argument into the Mcp-Param-Region header (x-mcp-header)',
      inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] },
    },
    ({ region }: { region: string }) => `region=${region}`,
  );

  // ── 2026 stateless diagnostics ──
  s.tool('test_missing_capability', { description: 'Needs the sampling capability', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'Hello' } }], maxTokens: 10 });
    return `sampled: ${JSON.stringify(r.content)}`;
  });
  s.tool('test_streaming_elicitation', { description: 'Elicits input (input_required in 2026, never a request on the stream)', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'Continue?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }, { key: 'confirm' });
    return `action=${r.action}`;
  });
  s.tool('test_logging_tool', { description: 'Logs only when the request asks for a log level', inputSchema: noArgs }, (_a, ctx) => {
    ctx.log('info', 'logging tool ran');
    return 'logged (if a level was requested)';
  });
  s.tool('test_trigger_tool_change', { description: 'Announces that the tool list changed', inputSchema: noArgs }, () => {
    s.notifyListChanged('tools');
    return 'tools/list_changed sent';
  });
  s.tool('test_trigger_prompt_change', { description: 'Announces that the prompt list changed', inputSchema: noArgs }, () => {
    s.notifyListChanged('prompts');
    return 'prompts/list_changed sent';
  });
  s.tool('test_trigger_resource_update', { description: 'Updates test://watched-resource', inputSchema: noArgs }, () => {
    s.notifyResourceUpdated('test://watched-resource');
    return 'resource updated';
  });

  // ── 2026 multi-round-trip (input_required) ──
  const nameForm = (message: string) => ({ message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
  s.tool('test_input_required_result_elicitation', { description: 'Asks for a name via input_required', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.elicit(nameForm('What is your name?'), { key: 'user_name' });
    return `Hello, ${String(r.content?.name)}!`;
  });
  s.tool('test_input_required_result_sampling', { description: 'Asks the client LLM via input_required', inputSchema: noArgs }, async (_a, ctx) => {
    const r = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }, { key: 'capital_question' });
    return `Sampled: ${(r.content as { text?: string }).text ?? ''}`;
  });
  s.tool('test_input_required_result_list_roots', { description: 'Asks for roots via input_required', inputSchema: noArgs }, async (_a, ctx) => {
    const roots = await ctx.listRoots({ key: 'client_roots' });
    return `Roots: ${roots.map((r) => `${r.name ?? ''} (${r.uri})`).join(', ')}`;
  });
  s.tool('test_input_required_result_request_state', { description: 'Round trip carrying requestState', inputSchema: noArgs }, async (_a, ctx) => {
    if (!ctx.requestState) ctx.setRequestState(JSON.stringify({ step: 'confirm', issued: 'state-ok' }));
    const r = await ctx.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }, { key: 'confirm' });
    const st = ctx.requestState ? (JSON.parse(ctx.requestState) as { issued: string }).issued : 'no-state';
    return `confirmed=${String(r.content?.ok)} ${st}`;
  });
  s.tool('test_input_required_result_multiple_inputs', { description: 'Three input requests in one round', inputSchema: noArgs }, async (_a, ctx) => {
    ctx.setRequestState('multiple-inputs');
    const [who, greeting, roots] = await Promise.all([
      ctx.elicit(nameForm('What is your name?'), { key: 'user_name' }),
      ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }, { key: 'greeting' }),
      ctx.listRoots({ key: 'client_roots' }),
    ]);
    return `${String(who.content?.name)}: ${(greeting.content as { text?: string }).text ?? ''} (${roots.length} roots)`;
  });
  s.tool('test_input_required_result_multi_round', { description: 'Two rounds of input', inputSchema: noArgs }, async (_a, ctx) => {
    const step2 = { message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } };
    const state = ctx.requestState ? (JSON.parse(ctx.requestState) as { round: number; name?: string }) : { round: 1 };
    let name = state.name;
    if (state.round === 1) {
      ctx.setRequestState(JSON.stringify({ round: 1 }));
      const first = await ctx.elicit(nameForm('Step 1: What is your name?'), { key: 'step1' });
      name = String(first.content?.name);
      // Round 2 gets a new state that carries the answer, so round 3 needs only step2.
      ctx.setRequestState(JSON.stringify({ round: 2, name }));
    }
    const color = await ctx.elicit(step2, { key: 'step2' });
    return `${String(name)} likes ${String(color.content?.color)}`;
  });
  s.tool('test_input_required_result_tampered_state', { description: 'requestState is integrity-protected', inputSchema: noArgs }, async (_a, ctx) => {
    ctx.setRequestState('tamper-check');
    const r = await ctx.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }, { key: 'confirm' });
    return `ok=${String(r.content?.ok)}`;
  });
  s.tool('test_input_required_result_capabilities', { description: 'Asks only for what the client declared', inputSchema: noArgs }, async (_a, ctx: RequestContext) => {
    const caps = ctx.clientCapabilities;
    if (caps.elicitation) {
      const r = await ctx.elicit(nameForm('What is your name?'), { key: 'user_name' });
      return `name=${String(r.content?.name)}`;
    }
    if (caps.sampling) {
      const r = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hello' } }], maxTokens: 20 }, { key: 'hello' });
      return `sampled=${(r.content as { text?: string }).text ?? ''}`;
    }
    return 'no input capability declared';
  });

  // ── tasks (2026 io.modelcontextprotocol/tasks extension; 2025 experimental tasks) ──
  s.tool('greet', { description: 'Greets synchronously (never a task)', inputSchema: { type: 'object', properties: { name: { type: 'string' } } } }, ({ name = 'World' }: { name?: string }) => `Hello, ${name}!`);
  s.tool(
    'slow_compute',
    { description: 'Sleeps `seconds`, then answers; may run as a task', taskSupport: 'optional', inputSchema: { type: 'object', properties: { seconds: { type: 'number' }, label: { type: 'string' } } } },
    async ({ seconds = 1, label = 'compute' }: { seconds?: number; label?: string }, ctx) => {
      await sleep(seconds * 1000, ctx.signal);
      return `${label} done after ${seconds}s`;
    },
  );
  s.tool('failing_job', { description: 'A task whose tool result is an error', taskSupport: 'required', inputSchema: noArgs }, () => ({ isError: true, content: [{ type: 'text', text: 'job failed: the input was rejected' }] }));
  s.tool('protocol_error_job', { description: 'A task that fails with a protocol error', taskSupport: 'optional', inputSchema: noArgs }, async () => {
    await sleep(20);
    throw new McpError(ErrorCode.InternalError, 'protocol_error_job failed on purpose');
  });
  s.tool(
    'confirm_delete',
    { description: 'Asks for confirmation (as a task: input_required until tasks/update)', taskSupport: 'optional', inputSchema: { type: 'object', properties: { filename: { type: 'string' } }, required: ['filename'] } },
    async ({ filename }: { filename: string }, ctx) => {
      const r = await ctx.elicit({ message: `Delete ${filename}?`, requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] } }, { key: 'confirm' });
      return r.content?.confirm === true ? `deleted ${filename}` : `kept ${filename}`;
    },
  );
  s.tool('multi_input', { description: 'Asks two questions at once', taskSupport: 'optional', inputSchema: noArgs }, async (_a, ctx) => {
    const form = { type: 'object', properties: { name: { type: 'string' }, confirm: { type: 'boolean' } } };
    const [a, b] = await Promise.all([ctx.elicit({ message: 'First?', requestedSchema: form }, { key: 'first' }), ctx.elicit({ message: 'Second?', requestedSchema: form }, { key: 'second' })]);
    return `${String(a.content?.name)} / ${String(b.content?.name)}`;
  });
  s.tool(
    'test_tool_with_task',
    {
      description: 'Gathers a name first (input_required), then runs as a task',
      taskSupport: 'required',
      inputSchema: noArgs,
      prepare: async (_a: unknown, ctx: RequestContext) => (await ctx.elicit(nameForm('What is your name?'), { key: 'user_name' })).content?.name,
    },
    async (_a, ctx) => {
      await sleep(50, ctx.signal);
      return `Hello from the task, ${String(ctx.prepared)}!`;
    },
  );

  // ── resources ── (test://static-text first: the caching check reads resources[0])
  s.resource('test://static-text', { name: 'static-text', description: 'Static text resource', mimeType: 'text/plain' }, (uri) => ({ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }));
  s.resource('test://static-binary', { name: 'static-binary', description: 'Static binary resource', mimeType: 'image/png' }, (uri) => ({ uri, mimeType: 'image/png', blob: PNG }));
  s.resource('test://watched-resource', { name: 'watched-resource', description: 'A resource to subscribe to', mimeType: 'text/plain' }, (uri) => ({ uri, mimeType: 'text/plain', text: 'Watched resource content' }));
  s.resourceTemplate('test://template/{id}/data', { name: 'template-data', description: 'Data by id', mimeType: 'application/json' }, (uri, { id }) => ({
    uri,
    mimeType: 'application/json',
    text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
  }));

  // ── prompts ──
  s.prompt('test_simple_prompt', { description: 'A simple prompt' }, () => 'This is a simple prompt for testing.');
  s.prompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with arguments',
      arguments: [
        { name: 'arg1', description: 'First test argument', required: true, complete: (v) => ['test', 'testValue1', 'other'].filter((x) => x.startsWith(v)) },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
    },
    ({ arg1, arg2 }) => `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
  );
  s.prompt('test_prompt_with_embedded_resource', { description: 'A prompt with an embedded resource', arguments: [{ name: 'resourceUri', description: 'URI of the resource', required: true }] }, ({ resourceUri }) => [
    { role: 'user', content: { type: 'resource', resource: { uri: resourceUri!, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
    { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
  ]);
  s.prompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => [
    { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
    { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
  ]);
  s.prompt('test_input_required_result_prompt', { description: 'A prompt that asks for context first (2026 input_required)' }, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'What context should the prompt use?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } }, { key: 'user_context' });
    return `Use this context: ${String(r.content?.context)}`;
  });
  return s;
}
