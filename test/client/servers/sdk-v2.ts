/**
 * A server built with the official v2 TypeScript SDK (@modelcontextprotocol/server,
 * `createMcpHandler`, the 2026-07-28 era) behind a small node:http adapter: the 2026 interop
 * target. Handlers ask for input with `inputRequired(...)` results (multi-round trips), and
 * `subscriptions/listen` streams are fed through `handler.notify`.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer, ResourceTemplate, acceptedContent, completable, createMcpHandler, inputRequired, inputResponse, type McpHttpHandler } from '@modelcontextprotocol/server';

/** Builds the v2 server; `aborted` collects tags of cancelled `slow` calls. */
export function buildV2Server(aborted: string[] = []): McpServer {
  const server = new McpServer({ name: 'sdk-v2-fixture', version: '2.0.0' }, { instructions: 'v2 fixture', capabilities: { resources: { subscribe: true, listChanged: true } } });
  server.registerTool('echo', { description: 'Echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('add', { description: 'Add', inputSchema: z.object({ a: z.number(), b: z.number() }), outputSchema: z.object({ sum: z.number() }) }, async ({ a, b }) => ({
    content: [{ type: 'text', text: JSON.stringify({ sum: a + b }) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool('progress', { description: 'Progress', inputSchema: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
    }
    return { content: [{ type: 'text', text: 'progressed' }] };
  });
  server.registerTool('slow', { description: 'Cancellable wait', inputSchema: z.object({ ms: z.number(), tag: z.string() }) }, async ({ ms, tag }, ctx) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.mcpReq.signal.addEventListener('abort', () => {
        clearTimeout(t);
        aborted.push(tag);
        reject(new Error('aborted'));
      });
    });
    return { content: [{ type: 'text', text: `done ${tag}` }] };
  });
  server.registerTool('ask', { description: 'Elicitation by input_required' }, async (ctx) => {
    const answer = acceptedContent<{ name?: string; color?: string }>(ctx.mcpReq.inputResponses, 'name');
    if (!answer) {
      return inputRequired({
        inputRequests: { name: inputRequired.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' }, color: { type: 'string', default: 'green' } }, required: ['name'] } }) },
      });
    }
    return { content: [{ type: 'text', text: `hello ${String(answer.name)} in ${String(answer.color)}` }] };
  });
  server.registerTool('sample', { description: 'Sampling by input_required' }, async (ctx) => {
    const r = inputResponse(ctx.mcpReq.inputResponses, 's');
    if (r.kind !== 'sampling') {
      return inputRequired({ inputRequests: { s: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi?' } }], maxTokens: 5 }) } });
    }
    return { content: [{ type: 'text', text: `sampled ${String((r.result.content as { text?: string }).text)} from ${r.result.model}` }] };
  });
  server.registerTool('roots', { description: 'Roots by input_required' }, async (ctx) => {
    const r = inputResponse(ctx.mcpReq.inputResponses, 'r');
    if (r.kind !== 'roots') return inputRequired({ inputRequests: { r: inputRequired.listRoots() } });
    return { content: [{ type: 'text', text: r.roots.map((x) => x.uri).join(',') }] };
  });
  server.registerTool('multi', { description: 'Three rounds with requestState' }, async (ctx) => {
    const state = ctx.mcpReq.requestState<string>();
    if (state === undefined) {
      return inputRequired({ requestState: 'round-1', inputRequests: { e: inputRequired.elicit({ message: 'First?', requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } }) } });
    }
    if (state === 'round-1') {
      const v = acceptedContent<{ v?: string }>(ctx.mcpReq.inputResponses, 'e')?.v;
      return inputRequired({ requestState: `round-2:${String(v)}`, inputRequests: { s: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: String(v) } }], maxTokens: 5 }) } });
    }
    const r = inputResponse(ctx.mcpReq.inputResponses, 's');
    return { content: [{ type: 'text', text: `${state}+${r.kind === 'sampling' ? String((r.result.content as { text?: string }).text) : '?'}` }] };
  });
  server.registerResource('static', 'test://static', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'v2 static' }] }));
  server.registerResource('watched', 'test://watched', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'watched' }] }));
  server.registerResource(
    'item',
    new ResourceTemplate('test://items/{id}', { list: undefined, complete: { id: (v: string) => ['alpha', 'beta'].filter((x) => x.startsWith(v)) } }),
    { description: 'Items' },
    async (uri, vars) => ({ contents: [{ uri: uri.href, text: `item ${String(vars.id)}` }] }),
  );
  server.registerPrompt('greet', { description: 'Greet', argsSchema: z.object({ who: completable(z.string(), (v: string) => ['world', 'wally'].filter((x) => x.startsWith(v))) }) }, ({ who }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello ${who}` } }],
  }));
  return server;
}

/** A running v2 endpoint. */
export interface V2Http {
  url: string;
  handler: McpHttpHandler;
  aborted: string[];
  close(): Promise<void>;
}

/** Serves the v2 fixture with createMcpHandler (both eras on one endpoint, the SDK's default). */
export async function serveV2Http(): Promise<V2Http> {
  const aborted: string[] = [];
  const handler = createMcpHandler(() => buildV2Server(aborted));
  const server: HttpServer = createServer((req, res) => {
    adapt(handler, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    handler,
    aborted,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** node:http ⇄ fetch Request/Response. Closing the connection aborts the Request (2026 cancellation). */
async function adapt(handler: McpHttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method: req.method,
    headers,
    body: req.method === 'POST' || req.method === 'DELETE' ? Buffer.concat(chunks) : undefined,
    signal: ac.signal,
  });
  const response = await handler.fetch(request);
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => (out[k] = v));
  res.writeHead(response.status, out);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  ac.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    res.write(value);
  }
  res.end();
}
