/**
 * Circuit breakers in an in-process runtime served over stdio (real newline-delimited JSON-RPC on
 * streams) on a TestClock: the refusal is the JSON-RPC error -32001 with `data` (code, breaker,
 * retryAfterMs), the handler is not called, and moving the runtime's clock past openMs turns the
 * breaker half-open without any traffic. `breakers: false` leaves tools unguarded.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, createRuntime, type Runtime, type RuntimeOptions } from '../../src/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { TestClock } from '../../src/util/clock.js';

const dirs: string[] = [];
const runtimes: Runtime[] = [];
after(async () => {
  for (const rt of runtimes) await rt.drain('test over');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function stdioNode(breakers: RuntimeOptions['breakers']) {
  const clock = new TestClock();
  const server = createServer({ name: 'stdio-breakers', version: '1' });
  let ran = 0;
  server.tool('flaky', () => {
    ran++;
    throw new Error('always fails');
  });
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: any[] = [];
  let buf = '';
  output.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) lines.push(JSON.parse(line));
    }
  });
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-breaker-stdio-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server, store: new MemoryStore(), clock, stateDir, http: false, stdio: { input, output }, ops: false, observability: false, signals: false, adminToken: 't', breakers });
  await rt.start();
  runtimes.push(rt);
  let id = 0;
  const request = async (method: string, params: Record<string, unknown> = {}): Promise<any> => {
    const my = ++id;
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: my, method, params })}\n`);
    const end = Date.now() + 5000;
    for (;;) {
      const r = lines.find((m) => m.id === my && !('method' in m));
      if (r) return r;
      if (Date.now() > end) throw new Error(`no answer to ${method} #${my}: ${JSON.stringify(lines)}`);
      await new Promise((res) => setImmediate(res));
    }
  };
  await request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return { rt, clock, request, ran: () => ran };
}

test('over stdio: an open breaker answers -32001 with data, without the handler; the runtime clock turns it half-open', async () => {
  const { rt, clock, request, ran } = await stdioNode({ minCalls: 4, openMs: 5000 });
  for (let i = 0; i < 4; i++) {
    const r = await request('tools/call', { name: 'flaky', arguments: {} });
    assert.equal(r.result.isError, true);
  }
  const refused = await request('tools/call', { name: 'flaky', arguments: {} });
  assert.equal(refused.error.code, -32001);
  assert.equal(refused.error.data.code, 'ANDON_BREAKER_OPEN');
  assert.equal(refused.error.data.breaker, 'tool:flaky');
  assert.equal(refused.error.data.retryAfterMs, 5000);
  assert.match(refused.error.message, /circuit breaker tool:flaky is open \(error rate 100 % \(4 of 4 calls in 60 s\) reached 50 %\); it lets a probe through at .* \(in 5 s\)/);
  assert.equal(ran(), 4, 'the handler was not called');
  assert.equal(rt.breakers.get('tool:flaky')!.state.kind, 'open');
  await clock.advance(5000);
  assert.equal(rt.breakers.snapshots().find((b) => b.name === 'tool:flaky')!.state, 'half_open', 'the opening timer runs on the injected clock');
  const probe = await request('tools/call', { name: 'flaky', arguments: {} });
  assert.equal(probe.result.isError, true, 'the probe ran the handler');
  assert.equal(ran(), 5);
  assert.equal(rt.breakers.get('tool:flaky')!.state.kind, 'open', 'the failed probe re-opened it');
});

test('breakers: false leaves tools unguarded', async () => {
  const { rt, request, ran } = await stdioNode(false);
  for (let i = 0; i < 30; i++) assert.equal((await request('tools/call', { name: 'flaky', arguments: {} })).result.isError, true);
  assert.equal(ran(), 30);
  assert.equal(rt.breakers.enabled, false);
  assert.deepEqual(rt.breakers.list(), []);
});
