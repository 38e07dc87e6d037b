/** andon-mcp under test: the `echo` tool and one subscribable resource, over HTTP or stdio. */
import { createServer, nodeStage, serveHttp, serveStdio } from '../../src/index.js';
import { config, control, ready, ECHO_DESCRIPTION, RESOURCE_URI } from './control.js';

const cfg = config({ transport: 'http' as 'http' | 'stdio', port: 0, responseMode: 'auto' as 'auto' | 'json' | 'sse' });

const server = createServer({ name: 'andon-bench', version: '0.0.0' });
server.tool(
  'echo',
  {
    description: ECHO_DESCRIPTION,
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  ({ text }: { text: string }) => text,
);
// The runtime's built-in node stage, idle (the halt stage is always on): the admission path as under `andon start`.
server.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
server.resource(RESOURCE_URI, { name: 'counter', mimeType: 'text/plain' }, () => '0');

if (cfg.transport === 'stdio') {
  serveStdio(server);
  control({ broadcast: (uri) => server.notifyResourceUpdated(uri), sessions: () => server.sessionCount() });
  ready();
} else {
  const ep = await serveHttp(server, { port: cfg.port, responseMode: cfg.responseMode });
  control({ broadcast: (uri) => server.notifyResourceUpdated(uri), sessions: () => server.sessionCount() });
  ready(ep.port);
}
