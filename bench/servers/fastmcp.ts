/** Peer: fastmcp 4.20 (httpStream, JSON or SSE responses), the `echo` tool. */
import { z } from 'zod';
import { FastMCP } from 'fastmcp';
import { config, control, ready, ECHO_DESCRIPTION } from './control.js';

const cfg = config({ transport: 'http' as 'http' | 'stdio', port: 0, json: true });

const server = new FastMCP({ name: 'fastmcp-bench', version: '0.0.0' });
server.addTool({
  name: 'echo',
  description: ECHO_DESCRIPTION,
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => text,
});

if (cfg.transport === 'stdio') {
  await server.start({ transportType: 'stdio' });
  control();
  ready();
} else {
  if (!cfg.port) throw new Error('fastmcp needs an explicit port');
  await server.start({ transportType: 'httpStream', httpStream: { port: cfg.port, host: '127.0.0.1', enableJsonResponse: cfg.json } });
  control({ sessions: () => server.sessions.length });
  ready(cfg.port);
}
