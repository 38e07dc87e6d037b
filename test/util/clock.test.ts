/**
 * The one Clock: TestClock's timeouts, intervals, ordering, clearing and runUntil, `sleep` with
 * abort, and the system clock's real timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock, sleep, systemClock } from '../../src/util/clock.js';

test('timeouts fire only when time moves past them, in due order', async () => {
  const c = new TestClock(0);
  const fired: string[] = [];
  c.setTimeout(() => fired.push('b@20'), 20);
  c.setTimeout(() => fired.push('a@10'), 10);
  const x = c.setTimeout(() => fired.push('cleared'), 15);
  c.clearTimeout(x);
  await c.advance(9);
  assert.deepEqual(fired, []);
  await c.advance(11);
  assert.deepEqual(fired, ['a@10', 'b@20']);
  assert.equal(c.now(), 20);
  assert.equal(c.pending, 0);
  assert.deepEqual(c.scheduled, [20, 10, 15]);
});

test('a timer set by a firing timer fires within the same advance when due', async () => {
  const c = new TestClock(0);
  const at: number[] = [];
  c.setTimeout(() => {
    at.push(c.now());
    c.setTimeout(() => at.push(c.now()), 5);
  }, 5);
  await c.advance(10);
  assert.deepEqual(at, [5, 10]);
});

test('intervals fire once per period crossed until cleared', async () => {
  const c = new TestClock(0);
  const at: number[] = [];
  const t = c.setInterval(() => at.push(c.now()), 100);
  await c.advance(350);
  assert.deepEqual(at, [100, 200, 300]);
  c.clearInterval(t);
  await c.advance(1000);
  assert.equal(at.length, 3);
  assert.equal(c.pending, 0);
});

test('unref exists on test timers, so code that unrefs real timers runs unchanged', () => {
  const c = new TestClock();
  assert.equal(typeof c.setTimeout(() => undefined, 1).unref, 'function');
});

test('sleep resolves on the clock, or at once on abort', async () => {
  const c = new TestClock(0);
  let done = false;
  const p = sleep(c, 1000).then(() => (done = true));
  await c.advance(999);
  assert.equal(done, false);
  await c.advance(1);
  await p;
  assert.equal(done, true);
  const ac = new AbortController();
  const q = sleep(c, 60_000, ac.signal);
  ac.abort();
  await q;
  assert.equal(c.pending, 0, 'the aborted sleep cleared its timer');
});

test('runUntil jumps over clock waits interleaved with real I/O', async () => {
  const c = new TestClock(0);
  const work = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r)); // stands for real I/O
      await sleep(c, 1000 * 2 ** i);
    }
    return c.now();
  };
  assert.equal(await c.runUntil(work()), 7000);
  assert.deepEqual(c.scheduled, [1000, 2000, 4000]);
});

test('runUntil fails after its real-time budget when nothing settles', async () => {
  const c = new TestClock(0);
  await assert.rejects(c.runUntil(new Promise(() => undefined), { realMs: 50 }), /not settled within 50 ms/);
});

test('the system clock runs real timers and intervals', async () => {
  const t0 = systemClock.now();
  assert.ok(Math.abs(t0 - Date.now()) < 1000);
  await new Promise<void>((r) => systemClock.setTimeout(r, 5));
  let n = 0;
  await new Promise<void>((r) => {
    const i = systemClock.setInterval(() => {
      if (++n === 2) {
        systemClock.clearInterval(i);
        r();
      }
    }, 2);
  });
  assert.equal(n, 2);
});
