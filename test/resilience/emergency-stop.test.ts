/**
 * The emergency stop in-process, with an injected sampler: the halt is persisted before the exit,
 * the exit code is 75, and a webhook receiver that never answers holds the stop only for the
 * bounded alert wait.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, createRuntime, EXIT } from '../../src/index.js';
import { FileStore } from '../../src/store/file-store.js';
import type { ResourceSample } from '../../src/resilience/sampler.js';
import { freePort } from '../helpers/node-process.js';

const MB = 1024 * 1024;

test('at the hard limit: node halted_fatal persisted, then exit 75 after at most the bounded alert wait (the receiver never answers)', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-estop-'));
  after(() => rm(stateDir, { recursive: true, force: true }));
  // A webhook receiver that takes the request and never answers.
  const hanging: ServerResponse[] = [];
  const titles: string[] = [];
  const hook = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => titles.push((JSON.parse(body) as { title: string }).title));
    hanging.push(res);
  });
  const port = await freePort();
  await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
  after(() => {
    hook.closeAllConnections();
    hook.close();
  });

  let heap = 0.2;
  const sampler = {
    sample: (): ResourceSample => ({ heapUsedBytes: heap * 100 * MB, heapLimitBytes: 100 * MB, rssBytes: 10 * MB, memoryLimitBytes: undefined, fds: undefined, fdLimit: undefined, eventLoopDelayMs: 0, eventLoopUtilization: 0 }),
  };
  let exited: { code: number; at: number; nodeHalt: unknown } | undefined;
  const server = createServer({ name: 'estop', version: '1.0.0' });
  const rt = createRuntime({
    server,
    stateDir,
    http: { port: 0 },
    ops: false,
    signals: false,
    adminToken: 't',
    observability: { metrics: false, alerts: { channels: { hook: { type: 'webhook', url: `http://127.0.0.1:${port}/hook` } }, timeoutMs: 30_000, retry: { attempts: 1 } }, env: { ANDON_WEBHOOK_SECRET: 's' } },
    guardian: { intervalMs: 20, sampler, alertWaitMs: 500 },
    exit: (code) => {
      exited = { code, at: Date.now(), nodeHalt: rt.halts.get('node') };
    },
  });
  await rt.start();
  assert.equal(rt.guardian?.guardian.mode.kind, 'normal');
  const t0 = Date.now();
  heap = 0.98;
  for (let i = 0; i < 200 && !exited; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(exited, 'exited');
  assert.equal(exited.code, EXIT.emergencyStop);
  assert.equal(EXIT.emergencyStop, 75);
  assert.ok(exited.at - t0 < 2500, `the stop waited only briefly for the alert (${exited.at - t0} ms)`);
  assert.ok(titles.includes('Emergency shutdown'), `the alert was sent: ${titles.join(', ')}`);
  assert.match(String((exited.nodeHalt as { reason: string }).reason), /^emergency stop: heap at 98% of its limit \(98 of 100 MB\) \(hard limit 97%\)$/);
  // Durable: a fresh store on the same directory reads the halt.
  const store = new FileStore({ dir: stateDir });
  await store.open();
  const halts = await store.list<{ state: string; by: string }>('halt');
  assert.deepEqual(
    halts.map((h) => [h.key, h.value.state, h.value.by]),
    [['node', 'halted_fatal', 'guardian']],
  );
  await store.close();
  for (const r of hanging) r.destroy();
  await rt.obs?.stop();
  await rt.store.close();
});
