/**
 * The injected clock through the real HTTP interface: task TTLs, whenIdle, the idle-session
 * sweeper and SSE keep-alives all move with a TestClock, with no real waiting for them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, serveHttp, type HttpEndpoint, type McpServer } from '../../src/index.js';
import { TestClock } from '../../src/util/clock.js';
import { ACCEPT, Session2025 } from '../helpers/mcp-http.js';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers) await c();
});

async function start(clock: TestClock, opts: { sessionIdleMs?: number; keepAliveMs?: number } = {}): Promise<{ server: McpServer; ep: HttpEndpoint; release: () => void }> {
  const server = createServer({ name: 'clock-test', version: '1.0.0', clock });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  server.tool('quick', { description: 'returns at once', taskSupport: 'optional' }, async () => 'done');
  server.tool('blocks', { description: 'waits for the test' }, async () => {
    await gate;
    return 'released';
  });
  const ep = await serveHttp(server, { port: 0, ...opts });
  closers.push(() => ep.close());
  return { server, ep, release };
}

/** Polls `cond` on real time with a deadline (waits for real I/O, not for the clock). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a task lives for its TTL on the injected clock, then is gone', async () => {
  const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
  const { ep } = await start(clock);
  const s = new Session2025(ep.url);
  await s.initialize();
  const created = await s.call('tools/call', { name: 'quick', arguments: {}, task: { ttl: 60_000 } });
  assert.equal(created.task.createdAt, '2026-03-01T00:00:00.000Z', 'timestamps come from the clock');
  const id = created.task.taskId;
  await s.call('tasks/result', { taskId: id });
  await clock.advance(59_999);
  assert.equal((await s.call('tasks/get', { taskId: id })).status, 'completed', 'still there just before the TTL');
  await clock.advance(1);
  const gone = await s.request('tasks/get', { taskId: id });
  assert.equal(gone.response.error.code, -32602, 'expired after the TTL');
});

test('whenIdle times out on the clock, and resolves true when the last request ends', async () => {
  const clock = new TestClock();
  const { server, ep, release } = await start(clock);
  const s = new Session2025(ep.url);
  await s.initialize();
  const call = s.request('tools/call', { name: 'blocks', arguments: {} });
  await until(() => server.inflightRequests().length === 1, 'the call to be in flight');
  let first: boolean | undefined;
  const p1 = server.whenIdle(5000).then((v) => (first = v));
  await clock.advance(4999);
  assert.equal(first, undefined, 'not yet timed out');
  await clock.advance(1);
  await p1;
  assert.equal(first, false);
  const p2 = server.whenIdle(5000);
  release();
  assert.equal(await p2, true);
  assert.equal((await call).response.result.content[0].text, 'released');
});

test('the sweeper closes a session idle longer than sessionIdleMs on the clock', async () => {
  const clock = new TestClock();
  const { ep } = await start(clock, { sessionIdleMs: 10_000 });
  const s = new Session2025(ep.url);
  await s.initialize();
  await clock.advance(9_000);
  assert.ok((await s.request('tools/list')).response.result, 'activity at t+9 s renews the session');
  await clock.advance(10_000);
  assert.ok((await s.request('tools/list')).response.result, 'the sweep at t+10 s saw activity 1 s old');
  await clock.advance(20_000);
  const r = await s.request('tools/list');
  assert.equal(r.status, 404, 'expired after more than sessionIdleMs without activity');
});

test('an idle SSE stream gets a keep-alive comment when keepAliveMs passes on the clock', async () => {
  const clock = new TestClock();
  const { ep } = await start(clock, { keepAliveMs: 15_000 });
  const s = new Session2025(ep.url);
  await s.initialize();
  const ac = new AbortController();
  closers.unshift(async () => ac.abort());
  const res = await fetch(ep.url, { headers: s.headers({ accept: ACCEPT }), signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += Buffer.from(value).toString();
    }
  })().catch(() => undefined);
  await clock.advance(14_000);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!text.includes(': keep-alive'), `no keep-alive before the interval: ${JSON.stringify(text)}`);
  await clock.advance(1_000);
  await until(() => text.includes(': keep-alive'), 'the keep-alive comment');
  ac.abort();
  await pump;
});
