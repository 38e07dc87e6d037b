/**
 * The module `npm run load` serves with `andon serve`: `echo` (the measured tools/call; `echo_ro`
 * is the same marked read-only, which the exactly-once journal skips), `notify`
 * (sends one notifications/resources/updated for `load://tick` to every subscriber and returns how
 * many were sent), `heap` (a full GC, then the live heap and RSS in bytes: the load reads it before
 * the ramp and at the peak, never in the constrained-heap scenario, where the node must recover on
 * its own) and the subscribable resource `load://tick`.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, type McpServer } from '../../src/index.js';

export const TICK_URI = 'load://tick';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export default function create(): McpServer {
  const s = createServer({ name: 'andon-load', version: '0.0.0' });
  s.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text?: string }) => text ?? '');
  // The same tool marked read-only: not journaled (src/runtime/journal.ts), for comparison.
  s.tool('echo_ro', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } }, annotations: { readOnlyHint: true } }, ({ text }: { text?: string }) => text ?? '');
  s.tool('notify', { inputSchema: { type: 'object', properties: {} } }, () => String(s.notifyResourceUpdated(TICK_URI)));
  s.tool('heap', { inputSchema: { type: 'object', properties: {} } }, () => {
    for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    return JSON.stringify({ heapUsed: m.heapUsed, rss: m.rss });
  });
  s.resource(TICK_URI, { name: 'tick', mimeType: 'text/plain' }, () => String(Date.now()));
  return s;
}
