import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, serveHttp, McpError, ErrorCode, type IncomingRequest } from '../../src/index.js';
import { Session2025 } from '../helpers/mcp-http.js';

test('request hooks run before dispatch, may be async, and refuse a request by throwing an McpError', async () => {
  const server = createServer({ name: 'hooks', version: '1.0.0' });
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text: string }) => text);
  const seen: string[] = [];
  server.addHook(async (inc: IncomingRequest) => {
    await new Promise((r) => setTimeout(r, 1));
    seen.push(inc.request.method);
    if (inc.request.method === 'tools/call' && inc.request.params?.name === 'echo' && (inc.request.params.arguments as { text?: string })?.text === 'blocked') {
      throw new McpError(ErrorCode.Unavailable, 'rate limited: try again later');
    }
  });
  const ep = await serveHttp(server, { port: 0 });
  try {
    const s = new Session2025(ep.url);
    await s.initialize();
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'ok' } })).content[0].text, 'ok');
    const refused = await s.request('tools/call', { name: 'echo', arguments: { text: 'blocked' } });
    assert.equal(refused.response.error.code, -32001);
    assert.equal(refused.response.error.message, 'rate limited: try again later');
    assert.deepEqual(seen, ['initialize', 'tools/call', 'tools/call']);
  } finally {
    await ep.close();
  }
});
