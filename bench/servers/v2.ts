/**
 * Peer: the official v2 server (@modelcontextprotocol/server 2.4, `createMcpHandler`) on node:http
 * through its official Node adapter (`toNodeHandler` from @modelcontextprotocol/node), or over
 * stdio with `serveStdio`. 2026 requests are served by the modern leg; 2025 requests by the
 * default stateless legacy fallback. The factory builds a fresh McpServer per request, as designed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { config, control, ready, ECHO_DESCRIPTION } from './control.js';

const cfg = config({ transport: 'http' as 'http' | 'stdio', port: 0, responseMode: 'auto' as 'auto' | 'json' | 'sse' });

function build(): McpServer {
  const server = new McpServer({ name: 'v2-bench', version: '0.0.0' });
  server.registerTool('echo', { description: ECHO_DESCRIPTION, inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

if (cfg.transport === 'stdio') {
  serveStdio(build);
  control();
  ready();
} else {
  const handler = createMcpHandler(build, { responseMode: cfg.responseMode });
  const node = toNodeHandler(handler);
  const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    void node(req, res);
  });
  http.listen(cfg.port, '127.0.0.1', () => {
    control();
    ready((http.address() as AddressInfo).port);
  });
}
