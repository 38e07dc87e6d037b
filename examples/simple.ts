/**
 * simple: the smallest useful server. `echo` returns its text; `sleep` waits `ms` milliseconds,
 * honouring cancellation. Run: `npm run example -- simple --port 3001` or `--stdio`.
 */
import { createServer, type McpServer } from '../src/index.js';

/** Registers the simple tools on `server`. */
export function registerSimple(server: McpServer): McpServer {
  server.tool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns its text argument unchanged.',
      inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'Text to echo' } }, required: ['text'] },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    ({ text }: { text: string }) => text,
  );
  server.tool(
    'sleep',
    {
      title: 'Sleep',
      description: 'Waits ms milliseconds, then returns. Cancellation stops the wait.',
      inputSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 600000 } }, required: ['ms'] },
      annotations: { readOnlyHint: true },
    },
    ({ ms }: { ms: number }, ctx) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(`slept ${ms} ms`), ms);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(new Error(`sleep cancelled after less than ${ms} ms`));
          },
          { once: true },
        );
      }),
  );
  return server;
}

/** The example server. */
export default function create(): McpServer {
  return registerSimple(createServer({ name: 'andon-simple', version: '0.1.0' }));
}
