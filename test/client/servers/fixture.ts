/**
 * An andon-mcp server with everything the client tests exercise: paginated tools (page size 3),
 * structured output, x-mcp-header, progress, logging, slow and cancellable tools, elicitation,
 * sampling and roots, a stream-cutting tool (2025 resumption), tasks, resources with a template and
 * a subscribable resource, prompts with completion.
 */
import { z } from 'zod';
import { createServer, type McpServer } from '../../../src/index.js';

/** What the handlers saw, for assertions. */
export interface Probe {
  aborted: string[];
  started: string[];
  roots: unknown[];
}

export function newProbe(): Probe {
  return { aborted: [], started: [], roots: [] };
}

export function buildClientFixture(probe: Probe = newProbe()): McpServer {
  const s = createServer({ name: 'client-fixture', version: '2.0.0', pageSize: 3, instructions: 'A fixture for the client tests.' });
  s.tool('echo', { description: 'Echo text', inputSchema: z.object({ text: z.string() }) }, ({ text }: { text: string }) => text);
  s.tool('add', { description: 'Add numbers', inputSchema: z.object({ a: z.number(), b: z.number() }), outputSchema: z.object({ sum: z.number() }) }, ({ a, b }: { a: number; b: number }) => ({ sum: a + b }));
  s.tool('fail', { description: 'Reports a tool error' }, () => {
    throw new Error('the tool failed on purpose');
  });
  s.tool(
    'regional',
    { description: 'Mirrors region into a header (2026)', inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] } },
    ({ region }: { region: string }) => `region ${region}`,
  );
  s.tool('slow', { description: 'Waits, cancellable', inputSchema: { type: 'object', properties: { ms: { type: 'number' }, tag: { type: 'string' } } } }, ({ ms = 200, tag = 'slow' }: { ms?: number; tag?: string }, ctx) => {
    probe.started.push(tag);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve(`done ${tag}`), ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        probe.aborted.push(tag);
        reject(new Error('aborted'));
      });
    });
  });
  s.tool('progress', { description: 'Reports progress every `every` ms, `steps` times', inputSchema: { type: 'object', properties: { steps: { type: 'number' }, every: { type: 'number' } } } }, async ({ steps = 3, every = 0 }: { steps?: number; every?: number }, ctx) => {
    for (let i = 1; i <= steps; i++) {
      if (every) await new Promise((r) => setTimeout(r, every));
      ctx.progress(i, steps, `step ${i}`);
    }
    ctx.log('info', { step: 'done' }, 'progress-tool');
    ctx.log('debug', 'fine detail');
    return 'progressed';
  });
  s.tool('ask', { description: 'Elicits a name' }, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', default: 42 } }, required: ['name'] } });
    return r.action === 'accept' ? `hello ${String(r.content?.name)} (${String(r.content?.age)})` : `no name (${r.action})`;
  });
  s.tool('ask_url', { description: 'URL-mode elicitation' }, async (_a, ctx) => {
    const r = await ctx.elicit({ mode: 'url', message: 'Log in', url: 'https://example.com/login', elicitationId: 'e-1' });
    return `url ${r.action}`;
  });
  s.tool('sample', { description: 'Asks the client LLM' }, async (_a, ctx) => {
    const r = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 10 });
    return `model said ${String((r.content as { text?: string }).text)} (${r.model})`;
  });
  s.tool('roots', { description: 'Lists the client roots' }, async (_a, ctx) => {
    const roots = await ctx.listRoots();
    probe.roots.push(roots);
    return roots.map((r) => r.uri).join(',');
  });
  s.tool('ask_all', { description: 'Elicitation, sampling and roots in one call' }, async (_a, ctx) => {
    const a = await ctx.elicit({ message: 'Value?', requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } });
    const b = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: `Say ${String(a.content?.v)}` } }], maxTokens: 10 });
    const roots = await ctx.listRoots();
    return `${String(a.content?.v)}+${String((b.content as { text?: string }).text)}+${roots.length}`;
  });
  s.tool('cut', { description: 'Cuts the 2025 SSE stream, then answers' }, async (_a, ctx) => {
    ctx.progress(0, 1, 'before the cut');
    await new Promise((r) => setTimeout(r, 20));
    ctx.closeStream();
    await new Promise((r) => setTimeout(r, 150));
    return 'after the cut';
  });
  s.tool('job', { description: 'A task-capable job', taskSupport: 'optional', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } }, async ({ ms = 100 }: { ms?: number }, ctx) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('job cancelled'));
      });
    });
    return `job done after ${ms} ms`;
  });
  s.tool('job_ask', { description: 'A task that needs input', taskSupport: 'optional' }, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'Go ahead?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }, { key: 'go' });
    return `job asked: ${r.action} ${String(r.content?.ok)}`;
  });
  s.resource('test://static', { name: 'static', mimeType: 'text/plain' }, () => 'static text');
  s.resource('test://binary', { name: 'binary', mimeType: 'application/octet-stream' }, (uri) => ({ uri, mimeType: 'application/octet-stream', blob: Buffer.from([1, 2, 3]).toString('base64') }));
  s.resource('test://watched', { name: 'watched', mimeType: 'text/plain' }, () => 'watched');
  s.resourceTemplate('test://items/{id}', { name: 'item', complete: { id: (v) => ['alpha', 'beta', 'gamma'].filter((x) => x.startsWith(v)) } }, (uri, { id }) => ({ uri, text: `item ${id}` }));
  s.prompt('greet', { description: 'Greets', arguments: [{ name: 'who', required: true, complete: (v) => ['world', 'wally'].filter((x) => x.startsWith(v)) }] }, ({ who }) => `Hello ${who}`);
  return s;
}
