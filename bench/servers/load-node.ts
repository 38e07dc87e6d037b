/**
 * The module `npm run load` serves with `andon serve`: `echo` (the measured tools/call), `notify`
 * (sends one notifications/resources/updated for `load://tick` to every subscriber and returns how
 * many were sent) and the subscribable resource `load://tick`.
 */
import { createServer, type McpServer } from '../../src/index.js';

export const TICK_URI = 'load://tick';

export default function create(): McpServer {
  const s = createServer({ name: 'andon-load', version: '0.0.0' });
  s.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text?: string }) => text ?? '');
  s.tool('notify', { inputSchema: { type: 'object', properties: {} } }, () => String(s.notifyResourceUpdated(TICK_URI)));
  s.resource(TICK_URI, { name: 'tick', mimeType: 'text/plain' }, () => String(Date.now()));
  return s;
}
