/** A server used by the core tests: every feature, deterministic, with hooks to observe handlers. */
import { z } from 'zod';
import { createServer, type McpServer } from '../../src/index.js';

export interface Probe {
  aborted: string[];
  started: string[];
}

export function buildTestServer(probe: Probe = { aborted: [], started: [] }): McpServer {
  const s = createServer({ name: 'core-test', version: '1.2.3', pageSize: 3 });
  s.tool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }: { text: string }) => text);
  s.tool('add', { inputSchema: z.object({ a: z.number(), b: z.number() }), outputSchema: z.object({ sum: z.number() }) }, ({ a, b }: { a: number; b: number }) => ({ sum: a + b }));
  s.tool('boom', {}, () => {
    throw new Error('kaboom: the handler failed');
  });
  s.tool('reject', {}, async () => Promise.reject(new TypeError('rejected on purpose')));
  s.tool('slow', { inputSchema: { type: 'object', properties: { ms: { type: 'number' }, tag: { type: 'string' } } } }, ({ ms = 200, tag = 'slow' }: { ms?: number; tag?: string }, ctx) => {
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
  s.tool('progress', {}, async (_a, ctx) => {
    for (let i = 1; i <= 3; i++) ctx.progress(i, 3, `step ${i}`);
    ctx.log('info', { step: 'done' }, 'progress-tool');
    ctx.log('debug', 'fine detail');
    return 'progressed';
  });
  s.tool('ask', {}, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
    return r.action === 'accept' ? `hello ${String(r.content?.name)}` : `no name (${r.action})`;
  });
  s.tool('ask_twice', {}, async (_a, ctx) => {
    const a = await ctx.elicit({ message: 'First?', requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } });
    const b = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: `Say ${String(a.content?.v)}` } }], maxTokens: 10 });
    return `${String(a.content?.v)}+${String((b.content as { text?: string }).text)}`;
  });
  for (let i = 0; i < 4; i++) s.tool(`filler_${i}`, {}, () => `filler ${i}`);
  s.resource('test://static', { name: 'static', mimeType: 'text/plain' }, () => 'static text');
  s.resourceTemplate('test://items/{id}', { name: 'item', complete: { id: (v) => ['alpha', 'beta', 'gamma'].filter((x) => x.startsWith(v)) } }, (uri, { id }) => ({ uri, text: `item ${id}` }));
  s.prompt('greet', { arguments: [{ name: 'who', required: true, complete: (v) => ['world', 'wally'].filter((x) => x.startsWith(v)) }] }, ({ who }) => `Hello ${who}`);
  return s;
}
