/**
 * The README's user-stage example (auth + quota), run as written against a real HTTP listener:
 * the snippet is read from README.md, so the documentation cannot drift from what works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as andon from '../../src/index.js';
import { ROOT } from '../helpers/paths.js';
import { post } from '../helpers/mcp-http.js';

function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('User stages (auth, quotas) go in with');
  assert.ok(at > 0, 'README has the user-stage example');
  const start = readme.indexOf('```js\n', at) + 6;
  return readme.slice(start, readme.indexOf('```', start));
}

test('README: the auth stage refuses without a bearer subject (401), the quota stage answers 429 + Retry-After past 100 calls', async () => {
  const code = readmeSnippet().replace(/^import \{([^}]*)\} from 'andon-mcp';$/m, 'const {$1} = andon;');
  assert.doesNotMatch(code, /^import /m);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<andon.McpServer>;
  const build = new AsyncFunction('andon', 'verifyToken', `${code}\nreturn server;`);
  const server = await build(andon, async (token: string) => (token === 'good' ? 'alice' : undefined));
  server.tool('echo', ({ text }: { text: string }) => text);
  const ep = await andon.serveHttp(server, { port: 0 });
  try {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const anonymous = await post(ep.url, init);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.response.error.data.code, 'ANDON_UNAUTHENTICATED');
    assert.equal((await post(ep.url, init, { authorization: 'Bearer bad' })).status, 401);
    const ok = await post(ep.url, init, { authorization: 'Bearer good' });
    assert.equal(ok.status, 200);
    const h = { authorization: 'Bearer good', 'mcp-session-id': ok.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await post(ep.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
    for (let i = 0; i < 100; i++) {
      const r = await post(ep.url, { jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'echo', arguments: { text: `n${i}` } } }, h);
      assert.equal(r.response.result.content[0].text, `n${i}`);
    }
    const limited = await post(ep.url, { jsonrpc: '2.0', id: 200, method: 'tools/call', params: { name: 'echo', arguments: { text: 'one too many' } } }, h);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.deepEqual(limited.response.error.data, { code: 'ANDON_RATE_LIMITED', retryAfterMs: 60_000, reason: '100 calls per minute', component: 'quota' });
  } finally {
    await ep.close();
  }
});
