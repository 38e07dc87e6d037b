/**
 * The server the interop tests talk to: tools, resources, a template and a prompt covering every
 * feature the official clients exercise. Used in-process (HTTP) and, through
 * `andon serve dist/test/interop/interop-server.js --stdio`, as a child process.
 * Importing this module has no side effects.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { createServer, type McpServer } from '../../src/index.js';

/** What the handlers observed, for server-side assertions. */
export interface InteropState {
  /** Emits `slow-started` and `slow-aborted` (with the abort reason). */
  events: EventEmitter;
  abortReasons: string[];
  samplingParams: unknown[];
  elicitParams: unknown[];
}

export interface InteropServer {
  server: McpServer;
  state: InteropState;
  /** Changes `test://counter` and notifies subscribers. */
  bumpCounter(): void;
}

export const ITEMS = ['alpha', 'beta', 'gamma', 'gamut'];

export function buildInteropServer(name = 'interop-server', options: { pageSize?: number } = {}): InteropServer {
  const state: InteropState = { events: new EventEmitter(), abortReasons: [], samplingParams: [], elicitParams: [] };
  const server = createServer({ name, version: '1.2.3', instructions: 'Interop test server.', ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  let counter = 0;
  const bumpCounter = () => {
    counter++;
    server.notifyResourceUpdated('test://counter');
  };

  server.tool(
    'echo',
    {
      description: 'Echoes text.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
    ({ text }: { text: string }) => `echo: ${text}`,
  );
  server.tool(
    'add',
    {
      description: 'Adds two numbers (structured output).',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number(), expression: z.string() }),
    },
    ({ a, b }: { a: number; b: number }) => ({ sum: a + b, expression: `${a} + ${b}` }),
  );
  server.tool('fail', { description: 'Always fails.' }, () => {
    throw new Error('kaboom: intentional failure');
  });
  server.tool('progress', { description: 'Reports progress 3 times.' }, async (_args, ctx) => {
    for (let i = 1; i <= 3; i++) {
      ctx.progress(i, 3, `step ${i}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return 'progress done';
  });
  server.tool('log', { description: 'Logs at several levels.' }, (_args, ctx) => {
    ctx.log('debug', 'debug-message');
    ctx.log('info', 'info-message');
    ctx.log('warning', { note: 'warning-message' }, 'interop-logger');
    ctx.log('error', 'error-message');
    return 'logged';
  });
  server.tool('slow', { description: 'Waits until cancelled (10 s at most).' }, (_args, ctx) => {
    state.events.emit('slow-started');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve('slow finished (not cancelled)'), 10_000);
      ctx.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          const r = ctx.signal.reason;
          const reason = r instanceof Error ? r.message : String(r);
          state.abortReasons.push(reason);
          state.events.emit('slow-aborted', reason);
          reject(new Error('cancelled'));
        },
        { once: true },
      );
    });
  });
  server.tool('abort_log', { description: 'Abort reasons the slow tool observed, as JSON.' }, () => JSON.stringify(state.abortReasons));
  server.tool('ask_name', { description: 'Elicits a name and age.' }, async (_args, ctx) => {
    const params = {
      message: 'Who are you?',
      requestedSchema: {
        type: 'object',
        properties: { name: { type: 'string', description: 'Your name' }, age: { type: 'integer', minimum: 0 } },
        required: ['name'],
      },
    };
    state.elicitParams.push(params);
    const r = await ctx.elicit(params);
    if (r.action !== 'accept') return `user chose ${r.action}`;
    return `Hello ${String(r.content?.name)}, age ${String(r.content?.age)}`;
  });
  server.tool('ask_model', { description: 'Samples the client LLM.' }, async (_args, ctx) => {
    const params = { messages: [{ role: 'user' as const, content: { type: 'text', text: 'What is 2+2?' } }], maxTokens: 16, systemPrompt: 'Be terse.' };
    const r = await ctx.sample(params);
    const c = r.content as { type: string; text: string };
    return `model ${r.model} said: ${c.text}`;
  });
  server.tool('roots', { description: 'Lists client roots.' }, async (_args, ctx) => {
    const roots = await ctx.listRoots();
    return roots.map((r) => `${r.name ?? '?'}=${r.uri}`).join(';');
  });
  server.tool('ask_both', { description: 'Elicits, then samples, in one call.' }, async (_args, ctx) => {
    const e = await ctx.elicit({ message: 'Topic?', requestedSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] } });
    const topic = e.action === 'accept' ? String(e.content?.topic) : '(none)';
    const s = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${topic}` } }], maxTokens: 32 });
    return `${topic}: ${(s.content as { text: string }).text}`;
  });

  server.tool('bump', { description: 'Changes test://counter and notifies subscribers.' }, () => {
    bumpCounter();
    return `counter is ${counter}`;
  });

  server.resource('test://greeting', { name: 'greeting', title: 'Greeting', mimeType: 'text/plain' }, () => 'hello world');
  server.resource('test://counter', { name: 'counter', mimeType: 'application/json' }, (uri) => ({
    uri,
    mimeType: 'application/json',
    text: JSON.stringify({ count: counter }),
  }));
  server.resourceTemplate(
    'test://items/{id}',
    { name: 'item', title: 'An item', mimeType: 'text/plain', complete: { id: (v) => ITEMS.filter((i) => i.startsWith(v)) } },
    (uri, { id = '' }) => ({ uri, mimeType: 'text/plain', text: `item ${id}` }),
  );
  server.prompt(
    'greet',
    {
      title: 'Greet',
      description: 'Greets someone.',
      arguments: [
        { name: 'name', description: 'Who', required: true, complete: (v) => ['Ada', 'Alan', 'Grace'].filter((n) => n.startsWith(v)) },
        { name: 'style', description: 'formal or casual' },
      ],
    },
    ({ name = '', style = 'casual' }) => `Say hello to ${name} in a ${style} way.`,
  );

  return {
    server,
    state,
    bumpCounter,
  };
}

/** For `andon serve`: the default export is a factory. */
export default function create(): McpServer {
  return buildInteropServer('interop-stdio').server;
}
