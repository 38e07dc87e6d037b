/**
 * The server the wire tests and the fuzzer run as a real process (`andon serve <this> …`): the core
 * test server plus handlers that exercise the wire defects of issue 9 (multi-byte output past a
 * 64 KiB pipe chunk, console.log from a handler, log floods, failing resource/prompt/completion)
 * and a `memory` tool (process.memoryUsage after a GC, when the node runs with --expose-gc).
 */
import { buildTestServer } from '../server/test-server.js';

/** A string of `n` multi-byte characters (2, 3 and 4 bytes in UTF-8), deterministic. */
export function multiByte(n: number): string {
  const alphabet = ['é', '€', '😀', 'ж', '漢'];
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[i % alphabet.length];
  return s;
}

const server = buildTestServer();
server.tool('big_utf8', { inputSchema: { type: 'object', properties: { n: { type: 'number' } } } }, ({ n = 100_000 }: { n?: number }) => multiByte(n));
server.tool('chatty', {}, () => {
  // A handler that logs the careless way: in stdio mode this must land on stderr.
  console.log('chatty handler says hello via console.log');
  console.info({ note: 'console.info too' });
  return 'chatted';
});
server.tool('flood', { inputSchema: { type: 'object', properties: { count: { type: 'number' }, size: { type: 'number' } } } }, async ({ count = 100, size = 10_000 }: { count?: number; size?: number }, ctx) => {
  const pad = 'x'.repeat(size);
  for (let i = 0; i < count; i++) {
    ctx.log('info', { i, pad });
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  return `flooded ${count}`;
});
// The node's memory after a full GC (when started with --expose-gc): test/transports/log-bounds.test.ts.
server.tool('memory', {}, () => {
  (globalThis as { gc?: () => void }).gc?.();
  return JSON.stringify(process.memoryUsage());
});
server.tool('unserialisable', {}, () => ({ content: [{ type: 'text' as const, text: 'x' }], _meta: { n: BigInt(1) } }));
server.resource('test://fail', { name: 'fail', mimeType: 'text/plain' }, () => {
  throw new Error('disk on fire while reading');
});
server.prompt('bad_prompt', { arguments: [{ name: 'x', complete: () => { throw new Error('completer broke'); } }] }, () => {
  throw new Error('prompt template missing');
});

export default server;
