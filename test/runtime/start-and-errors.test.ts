/**
 * Real processes for two runtime defects of issue 9: a busy MCP port is a start failure (6i), and
 * a handler's thrown error is the caller's error result, never a crash or a halt (6e).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';

const dirs: string[] = [];
const kids: Array<ReturnType<typeof spawn>> = [];
after(async () => {
  for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function andon(args: string[], stateDir: string) {
  const child = spawn(process.execPath, [CLI, ...args, '--state-dir', stateDir], { env: { ...process.env, ANDON_ADMIN_TOKEN: 'test-token' }, stdio: ['ignore', 'ignore', 'pipe'] });
  kids.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const listening = async () => {
    const deadline = Date.now() + 10_000;
    while (!err.includes('listening on')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`node did not start:\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, stderr: () => err, exited, listening };
}

test('a busy MCP port: start exits 2 naming host:port, persists no halt; the next start on a free port serves MCP and is ready', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-busy-'));
  dirs.push(stateDir);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const busy = (blocker.address() as { port: number }).port;
  const opsPort = await freePort();
  try {
    const a = andon(['example', 'calculator', '--port', String(busy), '--ops-port', String(opsPort)], stateDir);
    const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 2, `exit code (stderr: ${a.stderr()})`);
    assert.match(a.stderr(), new RegExp(`ANDON_LISTEN_FAILED: cannot listen for MCP on 127\\.0\\.0\\.1:${busy}: the address is already in use`));
    const halts = await readdir(join(stateDir, 'halt')).catch(() => [] as string[]);
    assert.deepEqual(halts, [], 'no halt persisted');
  } finally {
    blocker.close();
  }
  const port = await freePort();
  const b = andon(['example', 'calculator', '--port', String(port), '--ops-port', String(opsPort)], stateDir);
  await b.listening();
  const ready = await fetch(`http://127.0.0.1:${opsPort}/health/ready`);
  assert.equal(ready.status, 200);
  const s = new Session2025(`http://127.0.0.1:${port}/mcp`);
  await s.initialize();
  const r = await s.call('tools/call', { name: 'add', arguments: { a: 2, b: 3 } });
  assert.equal(r.isError, undefined);
  b.child.kill('SIGTERM');
  assert.equal(await b.exited, 0);
});

test('a busy ops port: start exits 2 with ANDON_LISTEN_FAILED naming the ops API and host:port (was a bare EADDRINUSE)', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-busy-ops-'));
  dirs.push(stateDir);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const busy = (blocker.address() as { port: number }).port;
  try {
    const a = andon(['example', 'calculator', '--port', String(await freePort()), '--ops-port', String(busy)], stateDir);
    const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 2, `exit code (stderr: ${a.stderr()})`);
    assert.match(a.stderr(), new RegExp(`ANDON_LISTEN_FAILED: cannot listen for the ops API on 127\\.0\\.0\\.1:${busy}: the address is already in use`));
    const halts = await readdir(join(stateDir, 'halt')).catch(() => [] as string[]);
    assert.deepEqual(halts, [], 'no halt persisted');
  } finally {
    blocker.close();
  }
});

test('120 calls of divide {a:1,b:0}: each is the caller\'s isError result; the tool is never crashed or halted', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-divide-'));
  dirs.push(stateDir);
  const port = await freePort();
  const opsPort = await freePort();
  // 120 back-to-back calls from one session are over the default 50 tools/call per second, and
  // 120 failures open divide's breaker after 20: this test is about error results, not rate
  // limits or breakers (test/resilience covers those).
  const config = join(stateDir, 'andon.config.yaml');
  await writeFile(config, 'rateLimits:\n  perClient:\n    messagesPerSec: 10000\n    toolCallsPerSec: 10000\nbreakers:\n  enabled: false\n');
  const n = andon(['example', 'calculator', '--port', String(port), '--ops-port', String(opsPort), '--config', config], stateDir);
  await n.listening();
  const s = new Session2025(`http://127.0.0.1:${port}/mcp`);
  await s.initialize();
  for (let i = 0; i < 120; i++) {
    const r = await s.call('tools/call', { name: 'divide', arguments: { a: 1, b: 0 } });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /Division by zero/);
  }
  const c = await fetch(`http://127.0.0.1:${opsPort}/admin/components/tool:divide`, { headers: { authorization: 'Bearer test-token' } });
  const comp = (await c.json()) as { state: string; restarts: number };
  assert.equal(comp.state, 'running');
  assert.equal(comp.restarts, 0);
  assert.equal((await s.call('tools/call', { name: 'divide', arguments: { a: 6, b: 3 } })).structuredContent.result, 2);
  const halts = await readdir(join(stateDir, 'halt')).catch(() => [] as string[]);
  assert.deepEqual(halts, []);
  n.child.kill('SIGTERM');
  assert.equal(await n.exited, 0);
});
