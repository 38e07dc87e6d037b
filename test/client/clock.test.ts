/**
 * The client's time on an injected TestClock, against a real andon server over HTTP: the
 * per-request timeout resets on progress, the total limit holds while progress arrives, a plain
 * timeout cancels on the server, and reconnect backoff waits on the clock (not real time).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { createClient } from '../../src/client/index.js';
import { TestClock } from '../../src/util/clock.js';
import { rejectsWith, waitFor } from './helpers.js';

const ticks = new EventEmitter();
const aborted: string[] = [];
let ep: HttpEndpoint;

before(async () => {
  const s = createServer({ name: 'client-clock', version: '1.0.0' });
  // Reports progress each time the test emits `tick`, until the request ends.
  s.tool('stepper', { description: 'progress on demand', inputSchema: { type: 'object', properties: { tag: { type: 'string' } } } }, async ({ tag }: { tag: string }, ctx) => {
    let n = 0;
    await new Promise<void>((resolve) => {
      const tick = () => ctx.progress(++n);
      ticks.on(tag, tick);
      ctx.signal.addEventListener('abort', () => {
        aborted.push(tag);
        ticks.off(tag, tick);
        resolve();
      });
    });
    return 'ended';
  });
  ep = await serveHttp(s, { port: 0 });
});
after(() => ep.close());

async function connected(clock: TestClock) {
  const c = createClient(ep.url, { clock, protocolVersion: '2025-11-25', prefetchTools: false });
  await c.connect();
  return c;
}

test('the inactivity timeout restarts on progress and fires on the clock', async () => {
  const clock = new TestClock(0);
  const c = await connected(clock);
  const seen: number[] = [];
  let outcome: string | undefined;
  const call = c.callTool('stepper', { tag: 'reset' }, { timeoutMs: 1000, onProgress: (p) => seen.push(p.progress) }).then(
    () => (outcome = 'resolved'),
    (err: Error) => ((outcome = 'rejected'), err),
  );
  await waitFor(() => ticks.listenerCount('reset') === 1, 3000, 'the tool to start');
  await clock.advance(900);
  ticks.emit('reset');
  await waitFor(() => seen.length === 1, 3000, 'progress 1');
  await clock.advance(900);
  assert.equal(outcome, undefined, '1,800 ms after the start, but only 900 ms after progress');
  await clock.advance(100);
  const err = await call;
  assert.equal(outcome, 'rejected');
  await rejectsWith(Promise.reject(err), 'TIMEOUT');
  assert.match((err as Error).message, /no response or progress within 1000 ms/);
  await waitFor(() => aborted.includes('reset'), 3000, 'cancellation on the server');
  await c.close();
});

test('maxTotalTimeoutMs bounds a call on the clock even while progress arrives', async () => {
  const clock = new TestClock(0);
  const c = await connected(clock);
  let n = 0;
  let settled = false;
  const call = c.callTool('stepper', { tag: 'total' }, { timeoutMs: 1000, maxTotalTimeoutMs: 2500, onProgress: () => n++ }).finally(() => (settled = true));
  call.catch(() => undefined);
  await waitFor(() => ticks.listenerCount('total') === 1, 3000, 'the tool to start');
  for (let i = 1; i <= 3; i++) {
    await clock.advance(800);
    ticks.emit('total');
    await waitFor(() => n === i, 3000, `progress ${i}`);
  }
  assert.equal(settled, false, 'still pending at 2,400 ms: progress keeps resetting the 1,000 ms timeout');
  await clock.advance(100);
  const err = await rejectsWith(call, 'TIMEOUT');
  assert.match(err.message, /maximum total time of 2500 ms/);
  await c.close();
});

test('reconnect backoff waits on the clock: refused connections give up after maxAttempts', async () => {
  const clock = new TestClock(0);
  const c = createClient('http://127.0.0.1:1/mcp', { clock, protocolVersion: '2025-11-25', reconnect: { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 600_000, jitter: 0 } });
  const delays: number[] = [];
  c.on('reconnect', (r) => delays.push(r.delayMs as number));
  let failed = false;
  const connect = rejectsWith(c.connect(), 'CONNECTION_FAILED').finally(() => (failed = true));
  const realStart = Date.now();
  for (let i = 1; i <= 3; i++) {
    await waitFor(() => delays.length === i, 3000, `reconnect ${i}`);
    assert.equal(failed, false);
    await clock.advance(delays[i - 1]!);
  }
  await connect;
  assert.deepEqual(delays, [1000, 2000, 4000], 'exponential backoff without jitter');
  assert.equal(clock.now(), 7000);
  assert.ok(Date.now() - realStart < 5000, 'seven seconds of backoff took no real time');
});
