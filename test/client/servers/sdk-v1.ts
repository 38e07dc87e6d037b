/**
 * A server built with the official v1 TypeScript SDK (@modelcontextprotocol/sdk McpServer, the
 * 2025 era): the interop target of the client tests, over stdio (sdk-v1-stdio.ts), Streamable
 * HTTP with sessions and an event store, and the legacy HTTP+SSE transport.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** Builds the v1 server. `aborted` collects tags of cancelled `slow` calls. */
export function buildV1Server(aborted: string[] = []): McpServer {
  const server = new McpServer({ name: 'sdk-v1-fixture', version: '1.0.0' }, { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } }, instructions: 'v1 fixture' });
  const subscribed = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  server.registerTool('echo', { description: 'Echo', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('add', { description: 'Add', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: JSON.stringify({ sum: a + b }) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool('slow', { description: 'Cancellable wait', inputSchema: { ms: z.number(), tag: z.string() } }, async ({ ms, tag }, extra) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(t);
        aborted.push(tag);
        reject(new Error('aborted'));
      });
    });
    return { content: [{ type: 'text', text: `done ${tag}` }] };
  });
  server.registerTool('aborted', { description: 'Tags of cancelled calls' }, async () => ({ content: [{ type: 'text', text: aborted.join(',') }] }));
  server.registerTool('progress', { description: 'Progress', inputSchema: { steps: z.number(), every: z.number().optional() } }, async ({ steps, every }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (every) await new Promise((r) => setTimeout(r, every));
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
    }
    return { content: [{ type: 'text', text: 'progressed' }] };
  });
  server.registerTool('ask', { description: 'Elicitation' }, async () => {
    const r = await server.server.elicitInput({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' }, color: { type: 'string', default: 'blue' } }, required: ['name'] } });
    return { content: [{ type: 'text', text: r.action === 'accept' ? `hello ${String(r.content?.name)} in ${String(r.content?.color)}` : r.action }] };
  });
  server.registerTool('sample', { description: 'Sampling' }, async () => {
    const r = await server.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi?' } }], maxTokens: 5 });
    return { content: [{ type: 'text', text: `sampled ${(r.content as { text?: string }).text} from ${r.model}` }] };
  });
  server.registerTool('roots', { description: 'Roots' }, async () => {
    const r = await server.server.listRoots();
    return { content: [{ type: 'text', text: r.roots.map((x) => x.uri).join(',') }] };
  });
  server.registerTool('log', { description: 'Logs at info and debug' }, async (extra) => {
    await server.sendLoggingMessage({ level: 'info', logger: 'v1', data: 'info line' }, extra.sessionId);
    await server.sendLoggingMessage({ level: 'debug', logger: 'v1', data: 'debug line' }, extra.sessionId);
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerTool('touch', { description: 'Notifies subscribers of test://watched' }, async () => {
    if (subscribed.has('test://watched')) await server.server.sendResourceUpdated({ uri: 'test://watched' });
    return { content: [{ type: 'text', text: subscribed.has('test://watched') ? 'notified' : 'nobody subscribed' }] };
  });
  server.registerTool('cut', { description: 'Closes its SSE stream, then answers' }, async (extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 0, message: 'before the cut' } });
    extra.closeSSEStream?.();
    await new Promise((r) => setTimeout(r, 150));
    return { content: [{ type: 'text', text: extra.closeSSEStream ? 'after the cut' : 'no stream to cut' }] };
  });
  server.registerResource('static', 'test://static', { mimeType: 'text/plain', description: 'Static text' }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'v1 static' }] }));
  server.registerResource('watched', 'test://watched', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'watched' }] }));
  server.registerResource(
    'item',
    new ResourceTemplate('test://items/{id}', { list: undefined, complete: { id: (v) => ['alpha', 'beta'].filter((x) => x.startsWith(v)) } }),
    { description: 'Items' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, text: `item ${String(id)}` }] }),
  );
  server.registerPrompt('greet', { description: 'Greet', argsSchema: { who: completable(z.string(), (v) => ['world', 'wally'].filter((x) => x.startsWith(v))) } }, ({ who }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello ${who}` } }],
  }));
  return server;
}

/** A running v1 HTTP endpoint: Streamable HTTP at /mcp (sessions, event store) and HTTP+SSE at /sse. */
export interface V1Http {
  url: string;
  sseUrl: string;
  aborted: string[];
  /** Live Streamable HTTP sessions, by id (delete one to simulate expiry). */
  sessions: Map<string, StreamableHTTPServerTransport>;
  server: HttpServer;
  /** Open sockets, so a test can cut a stream. */
  sockets: Set<import('node:net').Socket>;
  close(): Promise<void>;
}

export async function serveV1Http(): Promise<V1Http> {
  const aborted: string[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body: unknown;
    if (req.method === 'POST') {
      let text = '';
      for await (const c of req) text += (c as Buffer).toString();
      body = text ? JSON.parse(text) : undefined;
    }
    if (url.pathname === '/sse') {
      if (req.method !== 'GET') {
        res.writeHead(405).end();
        return;
      }
      const t = new SSEServerTransport('/messages', res);
      sse.set(t.sessionId, t);
      t.onclose = () => sse.delete(t.sessionId);
      await buildV1Server(aborted).connect(t);
      return;
    }
    if (url.pathname === '/messages') {
      const t = sse.get(url.searchParams.get('sessionId') ?? '');
      if (!t) {
        res.writeHead(404).end('unknown session');
        return;
      }
      await t.handlePostMessage(req, res, body);
      return;
    }
    if (url.pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const t = sessions.get(sid);
      if (!t) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      await t.handleRequest(req, res, body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) {
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new InMemoryEventStore(),
        retryInterval: 50,
        onsessioninitialized: (id) => {
          sessions.set(id, t);
        },
      });
      t.onclose = () => {
        if (t.sessionId) sessions.delete(t.sessionId);
      };
      await buildV1Server(aborted).connect(t);
      await t.handleRequest(req, res, body);
      return;
    }
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } }));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sseUrl: `http://127.0.0.1:${port}/sse`,
    aborted,
    sessions,
    server,
    sockets,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      for (const t of sse.values()) await t.close().catch(() => {});
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
