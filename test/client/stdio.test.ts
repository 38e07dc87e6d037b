/**
 * The client over stdio: against andon-mcp's server as a child process in both eras, the spec's
 * shutdown sequence (stdin close, SIGTERM, SIGKILL) against servers that ignore each step, and a
 * server that dies in the middle of a call.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createClient, splitCommand, type McpClient } from '../../src/client/index.js';
import { SERVERS, alive, forbidUnhandledRejections, rejectsWith, text, waitFor } from './helpers.js';

const guard = forbidUnhandledRejections();
after(() => guard.check());

const ANDON = resolve(SERVERS, 'andon-stdio.js');
const BAD = resolve(SERVERS, 'misbehaving-stdio.js');

for (const era of ['2026', '2025'] as const) {
  describe(`andon server over stdio, era ${era}`, () => {
    let c: McpClient;
    before(async () => {
      // A command line, split the way a shell would (the path is quoted on purpose).
      c = createClient(`"${process.execPath}" '${ANDON}'`, {
        protocolVersion: era === '2026' ? 'auto' : '2025-11-25',
        elicitation: async () => ({ action: 'accept', content: { name: 'Bo', v: 'y' } }),
        sampling: async () => ({ role: 'assistant', content: { type: 'text', text: 'yo' }, model: 'm1' }),
        roots: async () => [{ uri: 'file:///a' }, { uri: 'file:///b' }],
      });
      await c.connect();
    });
    after(() => c.close());

    test('era, tools, structured output', async () => {
      assert.equal(c.server.era, era);
      assert.equal(c.server.transport, 'stdio');
      assert.equal((await c.listTools()).length, 14);
      assert.deepEqual((await c.callTool('add', { a: 1, b: 1 })).structuredContent, { sum: 2 });
    });

    test('handlers answer the server', async () => {
      assert.equal(text(await c.callTool('ask_all')), 'y+yo+2');
      assert.equal(text(await c.callTool('ask')), 'hello Bo (42)');
    });

    test('progress, cancellation by signal, timeouts', async () => {
      const seen: number[] = [];
      await c.callTool('progress', { steps: 2 }, { onProgress: (p) => seen.push(p.progress) });
      assert.deepEqual(seen, [1, 2]);
      const ac = new AbortController();
      const p = c.callTool('slow', { ms: 5000 }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await rejectsWith(p, 'ABORTED');
      await rejectsWith(c.callTool('slow', { ms: 5000 }, { timeoutMs: 80 }), 'TIMEOUT');
      assert.equal(text(await c.callTool('echo', { text: 'after' })), 'after');
    });

    test('resources, prompts, completion, logging, ping', async () => {
      assert.equal((await c.listResources()).length, 3);
      assert.equal(((await c.readResource('test://static')).contents[0] as { text: string }).text, 'static text');
      const updates: string[] = [];
      const sub = await c.subscribeResource('test://watched', (u) => updates.push(u));
      await sub.close();
      assert.equal((await c.getPrompt('greet', { who: 'x' })).messages.length, 1);
      assert.deepEqual((await c.complete({ type: 'ref/prompt', name: 'greet' }, { name: 'who', value: 'wo' })).values, ['world']);
      await c.setLoggingLevel('debug');
      await c.ping();
    });
  });
}

test('close() shuts a well-behaved server down by closing stdin', async () => {
  const c = createClient({ command: process.execPath, args: [ANDON] });
  await c.connect();
  const pid = c.pid!;
  const t0 = Date.now();
  await c.close();
  assert.equal(alive(pid), false);
  assert.ok(Date.now() - t0 < 1500, 'no signal was needed');
});

test('close() sends SIGTERM to a server that ignores stdin closing', async () => {
  const c = createClient({ command: process.execPath, args: [BAD, 'stubborn'], shutdownTimeoutMs: 200 }, { protocolVersion: '2025-11-25' });
  let stderr = '';
  c.on('stderr', (t) => (stderr += t));
  await c.connect();
  const pid = c.pid!;
  await c.close();
  assert.equal(alive(pid), false);
  assert.match(stderr, /got SIGTERM/);
});

test('close() sends SIGKILL to a server that ignores SIGTERM too', async () => {
  const c = createClient({ command: process.execPath, args: [BAD, 'very-stubborn'], shutdownTimeoutMs: 200 }, { protocolVersion: '2025-11-25' });
  let stderr = '';
  c.on('stderr', (t) => (stderr += t));
  await c.connect();
  const pid = c.pid!;
  const t0 = Date.now();
  await c.close();
  await waitFor(() => !alive(pid), 1000, 'process gone');
  assert.match(stderr, /got SIGTERM/);
  assert.ok(Date.now() - t0 >= 400, 'both waits happened');
});

test('a server that dies mid-call fails the calls in flight with PROCESS_EXITED', async () => {
  const c = createClient({ command: process.execPath, args: [BAD, 'die'] });
  const closed: unknown[] = [];
  c.on('close', (e) => closed.push(e));
  await c.connect();
  assert.equal(c.server.era, '2025', 'discover got -32601, so the client fell back to initialize');
  const hang = c.callTool('hang');
  const err = await rejectsWith(c.callTool('die'), 'PROCESS_EXITED');
  assert.match(err.message, /code 3/);
  assert.match(err.message, /going down/, 'the stderr tail is in the message');
  assert.equal(err.details?.exitCode, 3);
  await rejectsWith(hang, 'PROCESS_EXITED');
  await rejectsWith(c.callTool('echo', { text: 'x' }), 'PROCESS_EXITED');
  assert.equal(closed.length, 1);
  assert.equal(c.connected, false);
  await c.close();
});

test('a command that does not exist fails connect() with PROCESS_EXITED', async () => {
  const c = createClient('definitely-not-a-command-andon-test --flag');
  await rejectsWith(c.connect(), 'PROCESS_EXITED');
});

test('splitCommand splits like a shell', () => {
  assert.deepEqual(splitCommand('npx -y @modelcontextprotocol/server-everything'), ['npx', '-y', '@modelcontextprotocol/server-everything']);
  assert.deepEqual(splitCommand(`node "my server.js" --name 'a b' x\\ y ""`), ['node', 'my server.js', '--name', 'a b', 'x y', '']);
  assert.deepEqual(splitCommand(`echo "say \\"hi\\"" 'it''s'`), ['echo', 'say "hi"', 'its']);
  assert.throws(() => splitCommand('node "unterminated'), /Unterminated/);
});
