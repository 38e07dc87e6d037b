/**
 * Exactly once across kill -9 (issue 9, defect 6c), with real processes: calls in flight at the
 * kill, calls and sessions acknowledged just before it, retries of the same ids on the restarted
 * node. Executions are counted in a side-effect file the tools append to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, DIST } from '../helpers/paths.js';
import { freePort, nodeFleet, startNode } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { dirs, procs } = nodeFleet(MODULE);

async function runs(log: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  const text = await readFile(log, 'utf8').catch(() => '');
  for (const line of text.split('\n').filter(Boolean)) m.set(line, (m.get(line) ?? 0) + 1);
  return m;
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('kill -9 with calls in flight: no second run of a non-idempotent call, idempotent at most once more, completed calls and fresh sessions survive', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-once-'));
  dirs.push(stateDir);
  const port = await freePort();
  const opsPort = await freePort();
  const log = join(stateDir, 'executions.log');
  const env = { CORD_LOG: log };
  const node = await startNode(MODULE, { stateDir, port, opsPort, env });
  procs.push(node);
  const s = new Session2025(node.url);
  await s.initialize();
  const call = (id: string, name: string, tag: string, ms: number) =>
    post(node.url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { ms, tag } } }, s.headers()).catch(() => null);

  // Ten of each kind in flight (long handlers), all started before the kill.
  for (let i = 0; i < 10; i++) {
    void call(`c-${i}`, 'charge', `c-${i}`, 60_000);
    void call(`r-${i}`, 'record', `r-${i}`, 60_000);
  }
  await until('20 handlers running', async () => [...(await runs(log)).values()].reduce((a, b) => a + b, 0) === 20, 30_000);
  // Acknowledged within a few ms of the kill: completed calls and a brand-new session.
  const done = await Promise.all([call('d-1', 'charge', 'd-1', 0), call('d-2', 'record', 'd-2', 0)]);
  assert.equal(done[0]!.response.result.content[0].text, 'charged d-1');
  const late = new Session2025(node.url);
  await late.initialize();
  node.child.kill('SIGKILL');
  await node.exited;

  // Restart (on fresh ports: a port freed by the kill can be handed to another test's node running
  // in parallel, which would then answer for ours); poll from the first moment: a request that is
  // answered at all must find the restored session (no 404 window before restore).
  const port2 = await freePort();
  const opsPort2 = await freePort();
  const url2 = `http://127.0.0.1:${port2}/mcp`;
  const child = spawn(process.execPath, [CLI, 'serve', MODULE, '--port', String(port2), '--ops-port', String(opsPort2), '--state-dir', stateDir], {
    env: { ...process.env, ANDON_ADMIN_TOKEN: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  try {
    let first: Awaited<ReturnType<typeof post>> | undefined;
    await until('the restarted node to answer', async () => {
      try {
        first = await post(url2, { jsonrpc: '2.0', id: 'e-1', method: 'tools/call', params: { name: 'echo', arguments: { text: 'back' } } }, late.headers());
        return true;
      } catch {
        if (child.exitCode !== null) throw new Error(`the restarted node exited with ${child.exitCode}: ${stderr}`);
        return false; // connection refused: not listening yet
      }
    });
    assert.equal(first!.status, 200, `first answer after restart: ${first!.text}\n${stderr}`);
    assert.equal(first!.response.result.content[0].text, 'back', 'a session acknowledged just before the kill survived');

    const retry = async (id: string, name: string, tag: string) => (await post(url2, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { ms: 0, tag } } }, s.headers())).response;
    for (let i = 0; i < 10; i++) {
      const r = await retry(`c-${i}`, 'charge', `c-${i}`);
      assert.equal(r.error?.code, -32001, JSON.stringify(r));
      assert.equal(r.error.data.code, 'ANDON_INTERRUPTED');
      assert.equal(r.error.data.tool, 'charge');
      assert.match(r.error.message, /interrupted by a server restart and not replayed/);
      const again = await retry(`c-${i}`, 'charge', `c-${i}`);
      assert.equal(again.error?.data?.code, 'ANDON_INTERRUPTED', 'every retry gets the same answer');
    }
    for (let i = 0; i < 10; i++) {
      const r = await retry(`r-${i}`, 'record', `r-${i}`);
      assert.equal(r.result?.content[0].text, `recorded r-${i}`);
      const again = await retry(`r-${i}`, 'record', `r-${i}`);
      assert.equal(again.result?.content[0].text, `recorded r-${i}`);
    }
    assert.equal((await retry('d-1', 'charge', 'd-1')).result.content[0].text, 'charged d-1', 'a completed call is answered from the journal');
    assert.equal((await retry('d-2', 'record', 'd-2')).result.content[0].text, 'recorded d-2');
    const counts = await runs(log);
    for (let i = 0; i < 10; i++) {
      assert.equal(counts.get(`charge c-${i}`), 1, `charge c-${i} ran once`);
      assert.equal(counts.get(`record r-${i}`), 2, `record r-${i}: the original and one replay`);
    }
    assert.equal(counts.get('charge d-1'), 1, 'completed non-idempotent call not replayed');
    assert.equal(counts.get('record d-2'), 1, 'completed idempotent call ran exactly once');
    assert.match(stderr, /request interrupted by the previous run/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
