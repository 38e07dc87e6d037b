/**
 * A deleted 2025 session stays deleted across kill -9 (found by hold-out probing after issue 9):
 * the DELETE was answered 200 while the bucket was only marked for the next periodic flush, so a
 * kill -9 within ~200 ms brought the session back on restart. Real processes, same port and state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { freePort, nodeFleet, startNode } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { dirs, procs } = nodeFleet(MODULE);

test('a session DELETEd just before a kill -9 is not restored; an untouched one is', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-del-'));
  dirs.push(stateDir);
  const port = await freePort();
  const opsPort = await freePort();
  const node = await startNode(MODULE, { stateDir, port, opsPort });
  procs.push(node);
  const kept = new Session2025(node.url);
  await kept.initialize();
  const gone = new Session2025(node.url);
  await gone.initialize();
  const del = await fetch(node.url, { method: 'DELETE', headers: gone.headers() });
  assert.equal(del.status, 200);
  // No pause: the kill lands well inside the periodic flush interval.
  node.child.kill('SIGKILL');
  await node.exited;

  const again = await startNode(MODULE, { stateDir, port, opsPort });
  procs.push(again);
  try {
    const ping = (s: Session2025) => post(again.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers());
    const g = await ping(gone);
    assert.equal(g.status, 404, `a deleted session came back after kill -9: ${g.text}`);
    const k = await ping(kept);
    assert.equal(k.status, 200, `the other session survived: ${k.text}`);
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
});
