/**
 * The module the soak (bench/soak) serves on every node: a non-idempotent counting tool whose every
 * execution is appended to SOAK_LOG (one line: the operation id and the node's pid), so the soak can
 * count how often the handler ran for each operation; a resource to subscribe to, and a tool that
 * changes it.
 */
import { appendFileSync } from 'node:fs';
import { createServer, type McpServer } from '../../src/index.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });

export default function create(): McpServer {
  const s = createServer({ name: 'soak', version: '1.0.0' });
  const log = process.env.SOAK_LOG ?? '/dev/null';
  s.tool('echo', { description: 'echo', annotations: { readOnlyHint: true }, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text?: string }) => text ?? '');
  // Side-effecting (journaled with a write-ahead record): the soak's duplicate detector.
  s.tool(
    'count',
    { description: 'records one execution of an operation', inputSchema: { type: 'object', properties: { op: { type: 'string' }, ms: { type: 'number' }, crash: { type: 'boolean' } }, required: ['op'] } },
    async ({ op, ms = 0, crash = false }: { op: string; ms?: number; crash?: boolean }, ctx) => {
      appendFileSync(log, `${op} ${process.pid}\n`);
      // A deliberate crash: an error thrown outside the handler's promise chain, which the runtime
      // contains as the `tool:count` component crashing (the supervisor restarts it).
      if (crash)
        setTimeout(() => {
          throw new Error('soak: deliberate tool crash');
        }, 1);
      if (ms > 0) await sleep(ms, ctx.signal);
      return `counted ${op}`;
    },
  );
  let n = 0;
  s.resource('test://watched', { name: 'watched', mimeType: 'text/plain' }, (uri) => ({ uri, text: `version ${n}` }));
  s.tool('touch', { description: 'changes test://watched' }, () => {
    n++;
    const sent = s.notifyResourceUpdated('test://watched');
    return `touched ${n} on pid ${process.pid}: sent to ${sent} stream(s) there`;
  });
  return s;
}
