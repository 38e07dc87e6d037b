/**
 * Peer: the official v1 SDK (@modelcontextprotocol/sdk 1.32) written the way its documentation
 * shows. Stateful: one McpServer + StreamableHTTPServerTransport per session, kept in a map by
 * session id. Stateless: a fresh McpServer + transport per request. The body is parsed once in
 * front of the transport and passed as `parsedBody`, as `express.json()` does in the SDK examples.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { config, control, ready, ECHO_DESCRIPTION, RESOURCE_URI } from './control.js';

const cfg = config({ transport: 'http' as 'http' | 'stdio', port: 0, stateless: false, json: true });

/** Per-session subscription registry (the v1 McpServer leaves resources/subscribe to the author). */
const subscribers = new Map<string, Set<McpServer>>();

function build(): McpServer {
  const server = new McpServer({ name: 'sdk-bench', version: '0.0.0' }, { capabilities: { resources: { subscribe: true } } });
  server.registerTool('echo', { description: ECHO_DESCRIPTION, inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerResource('counter', RESOURCE_URI, { mimeType: 'text/plain' }, (uri) => ({ contents: [{ uri: uri.href, text: '0' }] }));
  server.server.setRequestHandler(SubscribeRequestSchema, (req) => {
    let set = subscribers.get(req.params.uri);
    if (!set) subscribers.set(req.params.uri, (set = new Set()));
    set.add(server);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
    subscribers.get(req.params.uri)?.delete(server);
    return {};
  });
  return server;
}

async function broadcast(uri: string): Promise<number> {
  const set = subscribers.get(uri);
  if (!set) return 0;
  await Promise.all([...set].map((s) => s.server.sendResourceUpdated({ uri })));
  return set.size;
}

if (cfg.transport === 'stdio') {
  await build().connect(new StdioServerTransport());
  control({ broadcast });
  ready();
} else {
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
        } catch (err) {
          reject(err as Error);
        }
      });
      req.on('error', reject);
    });

  const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    void (async () => {
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      if (cfg.stateless) {
        const server = build();
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: cfg.json });
        res.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, body);
        return;
      }
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
      if (!transport) {
        if (sid !== undefined) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"}}');
          return;
        }
        const server = build();
        const t = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => crypto.randomUUID(),
          enableJsonResponse: cfg.json,
          onsessioninitialized: (id) => {
            transports.set(id, t);
          },
        });
        t.onclose = () => {
          if (t.sessionId) transports.delete(t.sessionId);
          for (const set of subscribers.values()) set.delete(server);
        };
        await server.connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  http.listen(cfg.port, '127.0.0.1', () => {
    control({ broadcast, sessions: () => transports.size });
    ready((http.address() as AddressInfo).port);
  });
}
