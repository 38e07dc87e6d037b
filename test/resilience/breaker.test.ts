/**
 * The circuit breaker state machine on a TestClock: the sliding window and its minimum, the
 * error-rate and p95 thresholds, open → half-open after openMs (by timer, without traffic), the
 * half-open probe limit, a failed probe re-opening, forced states, the registry's downstream
 * runner and the events every transition publishes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { CircuitBreaker, DEFAULT_BREAKER_SETTINGS, Outcome, REFUSED, type BreakerSettings } from '../../src/resilience/breaker.js';
import { BreakerRegistry } from '../../src/resilience/breakers.js';
import { events, type BreakerEvent } from '../../src/events/index.js';
import { isError } from '../../src/errors/catalogue.js';
import { BreakerErrors } from '../../src/errors/breakers.js';

function breaker(over: Partial<BreakerSettings> = {}, clock = new TestClock()) {
  return { clock, b: new CircuitBreaker('tool:t', { ...DEFAULT_BREAKER_SETTINGS, ...over }, clock) };
}

/** Runs `n` calls through `b`, failing those for which `fail(i)` is true; returns how many were refused. */
function calls(b: CircuitBreaker, n: number, fail: (i: number) => boolean, latencyMs = 1): number {
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const token = b.acquire();
    if (token === REFUSED) {
      refused++;
      continue;
    }
    b.settle(token, fail(i) ? Outcome.Fail : Outcome.Ok, latencyMs);
  }
  return refused;
}

/** The state's kind (a function, so an assertion on it does not narrow the breaker's type). */
function kind(b: CircuitBreaker): string {
  return b.state.kind;
}

function recordEvents(): { list: BreakerEvent[]; stop(): void } {
  const list: BreakerEvent[] = [];
  const f = (m: unknown) => list.push(m as BreakerEvent);
  events.breaker.subscribe(f);
  return { list, stop: () => events.breaker.unsubscribe(f) };
}

test('closed below minCalls however many fail; opens at the error rate once the window holds minCalls', () => {
  const { b } = breaker();
  calls(b, 19, () => true);
  assert.equal(kind(b), 'closed', '19 failures of 19 calls: under minCalls (20)');
  calls(b, 1, () => true);
  assert.equal(kind(b), 'open');
  const { b: b2 } = breaker();
  // 9 of 20 fail (45 %): stays closed; the 10th failure of 21 (47.6 %) too; 11 of 22 (50 %) opens.
  calls(b2, 20, (i) => i < 9);
  assert.equal(kind(b2), 'closed');
  calls(b2, 1, () => true);
  assert.equal(kind(b2), 'closed');
  calls(b2, 1, () => true);
  assert.equal(kind(b2), 'open');
  const st = b2.state;
  assert.ok(st.kind === 'open' && /error rate 50 % \(11 of 22 calls in 60 s\)/.test(st.reason), JSON.stringify(st));
});

test('outcomes older than the window no longer count', async () => {
  const { b, clock } = breaker();
  calls(b, 15, () => true);
  await clock.advance(61_000);
  calls(b, 10, (i) => i < 4);
  assert.equal(kind(b), 'closed', 'the 15 old failures expired: 4 of 10 calls in the window, under minCalls');
  assert.equal(b.snapshot().window.calls, 10);
  calls(b, 10, (i) => i < 5);
  assert.equal(kind(b), 'closed', '9 of 20 fail');
  calls(b, 2, () => true);
  assert.equal(kind(b), 'open', '11 of 22 fail');
});

test('skipped outcomes (client faults) do not count', () => {
  const { b } = breaker();
  for (let i = 0; i < 100; i++) b.settle(b.acquire(), Outcome.Skip, 1);
  assert.equal(b.snapshot().window.calls, 0);
  assert.equal(kind(b), 'closed');
});

test('p95 latency: opens when more than 5 % of the window is slower than p95Ms; off when unset', () => {
  const { b } = breaker({ p95Ms: 100 });
  // 20 calls: nearest-rank p95 is the 19th: one slow call leaves it fast, two make it slow.
  calls(b, 19, () => false, 10);
  calls(b, 1, () => false, 500);
  assert.equal(kind(b), 'closed', 'p95 of 20 calls with one slow one is fast');
  calls(b, 1, () => false, 500);
  const st = b.state;
  assert.equal(st.kind, 'open', '2 slow of 21: p95 above 100 ms');
  assert.ok(st.kind === 'open' && /p95 latency above 100 ms \(2 of 21 calls/.test(st.reason), JSON.stringify(st));
  const { b: off } = breaker();
  calls(off, 100, () => false, 60_000);
  assert.equal(kind(off), 'closed', 'no p95Ms: latency never opens it');
});

test('open refuses at once with ANDON_BREAKER_OPEN and Retry-After until openMs; then the timer turns it half-open', async () => {
  const rec = recordEvents();
  try {
    const { b, clock } = breaker({ openMs: 30_000 });
    calls(b, 20, () => true);
    assert.equal(b.acquire(), REFUSED);
    const err = b.refusal();
    assert.ok(isError(err, BreakerErrors.Open));
    assert.equal(err.httpStatus, 503);
    assert.equal(err.retryAfterSeconds, 30);
    assert.equal(err.data.breaker, 'tool:t');
    assert.match(err.message, /circuit breaker tool:t is open \(error rate 100 %.*lets a probe through at .* \(in 30 s\)/);
    await clock.advance(10_000);
    assert.equal(b.refusal().retryAfterSeconds, 20);
    assert.equal(b.acquire(), REFUSED);
    await clock.advance(20_000);
    // No call since: the timer set at opening turned it half-open.
    assert.deepEqual(
      rec.list.filter((e) => e.name === 'tool:t').map((e) => [e.from, e.to]),
      [
        ['closed', 'open'],
        ['open', 'half_open'],
      ],
    );
    assert.equal(rec.list[0]!.retryAt, clock.now());
    assert.equal(kind(b), 'half_open');
  } finally {
    rec.stop();
  }
});

test('half-open lets exactly halfOpenProbes through; that many successes close it and the window starts empty', async () => {
  const { b, clock } = breaker({ halfOpenProbes: 3 });
  calls(b, 20, () => true);
  await clock.advance(30_000);
  const tokens = [b.acquire(), b.acquire(), b.acquire()];
  assert.ok(tokens.every((t) => t > 0), 'three probes admitted');
  assert.equal(b.acquire(), REFUSED, 'a fourth concurrent call is refused');
  const err = b.refusal();
  assert.equal(err.data.state, 'half_open');
  assert.match(err.message, /half-open and its 3 probe\(s\) are taken/);
  b.settle(tokens[0]!, Outcome.Ok, 1);
  assert.equal(b.acquire(), REFUSED, 'successes count against the probe budget');
  b.settle(tokens[1]!, Outcome.Skip, 1);
  const again = b.acquire();
  assert.ok(again > 0, 'a skipped probe frees its slot');
  b.settle(tokens[2]!, Outcome.Ok, 1);
  assert.equal(kind(b), 'half_open');
  b.settle(again, Outcome.Ok, 1);
  assert.equal(kind(b), 'closed');
  assert.equal(b.snapshot().window.calls, 0);
  assert.equal(b.acquire(), 0);
});

test('a failed probe re-opens for another openMs; a probe from an earlier half-open phase is ignored', async () => {
  const { b, clock } = breaker({ openMs: 1000, halfOpenProbes: 2 });
  calls(b, 20, () => true);
  await clock.advance(1000);
  const p1 = b.acquire();
  const p2 = b.acquire();
  b.settle(p1, Outcome.Fail, 1);
  const st = b.state;
  assert.ok(st.kind === 'open' && st.reason === 'a half-open probe failed' && st.retryAt === clock.now() + 1000);
  await clock.advance(1000);
  assert.equal(kind(b), 'half_open');
  b.settle(p2, Outcome.Ok, 1);
  const h = b.state;
  assert.ok(h.kind === 'half_open' && h.successes === 0 && h.probesInFlight === 0, 'the stale probe did not count');
  b.settle(b.acquire(), Outcome.Ok, 1);
  b.settle(b.acquire(), Outcome.Ok, 1);
  assert.equal(kind(b), 'closed');
});

test('a slow probe counts as a failure when p95Ms is set', async () => {
  const { b, clock } = breaker({ openMs: 1000, p95Ms: 50 });
  calls(b, 20, () => true);
  await clock.advance(1000);
  b.settle(b.acquire(), Outcome.Ok, 200);
  assert.equal(kind(b), 'open');
});

test('forced open refuses until reset, even past openMs; forced closed never opens; reset clears both and the window', async () => {
  const rec = recordEvents();
  try {
    const { b, clock } = breaker({ openMs: 1000 });
    b.forceOpen('maintenance of the billing API');
    assert.equal(b.acquire(), REFUSED);
    await clock.advance(10_000);
    assert.equal(kind(b), 'open', 'a forced open breaker does not turn half-open');
    const err = b.refusal();
    assert.equal(err.data.forced, true);
    assert.match(err.message, /forced open by an operator: maintenance of the billing API.*until an operator closes or resets it/);
    b.forceClose('known good');
    assert.equal(b.forced?.kind, 'closed');
    calls(b, 100, () => true);
    assert.equal(kind(b), 'closed', 'forced closed: failures never open it');
    assert.equal(b.snapshot().window.failures, 100, 'the window still counts');
    b.reset();
    assert.equal(b.forced, null);
    assert.equal(b.snapshot().window.calls, 0);
    calls(b, 20, () => true);
    assert.equal(kind(b), 'open', 'back to automatic');
    const mine = rec.list.filter((e) => e.name === 'tool:t').map((e) => [e.from, e.to, e.forced ?? false]);
    assert.deepEqual(mine, [
      ['closed', 'open', true],
      ['open', 'closed', true],
      ['closed', 'closed', false],
      ['closed', 'open', false],
    ]);
  } finally {
    rec.stop();
  }
});

test('registry: per-name overrides, downstream runner counts rejections and refuses while open without calling fn', async () => {
  const clock = new TestClock();
  const reg = new BreakerRegistry({ minCalls: 4, openMs: 500, downstreams: { billing: { minCalls: 2 } }, tools: { slow: { p95Ms: 10 } } }, clock);
  assert.equal(reg.toolBreaker('slow')!.settings.p95Ms, 10);
  assert.equal(reg.toolBreaker('other')!.settings.minCalls, 4);
  assert.equal(reg.toolBreaker('other')!.settings.p95Ms, undefined);
  let ran = 0;
  const fail = () => {
    ran++;
    throw new Error('billing down');
  };
  await assert.rejects(reg.run('billing', fail), /billing down/);
  await assert.rejects(reg.run('billing', fail), /billing down/);
  assert.equal(kind(reg.get('downstream:billing')!), 'open', 'minCalls 2 for this downstream');
  await assert.rejects(reg.run('billing', fail), (e: unknown) => isError(e, BreakerErrors.Open) && /downstream:billing is open/.test((e as Error).message));
  assert.equal(ran, 2, 'fn was not called while open');
  assert.equal(kind(reg.get('tool:other')!), 'closed', 'other breakers are independent');
  await clock.advance(500);
  assert.equal(await reg.run('billing', () => 'ok'), 'ok');
  assert.equal(kind(reg.get('downstream:billing')!), 'half_open');
  await reg.run('billing', async () => 1);
  await reg.run('billing', () => 2);
  assert.equal(kind(reg.get('downstream:billing')!), 'closed');
  assert.deepEqual(
    reg.list().map((b) => b.name),
    ['tool:other', 'tool:slow', 'downstream:billing'],
  );
  assert.equal(reg.get('nope'), undefined);
  assert.equal(reg.get('tool:never'), undefined);
  assert.ok(reg.get('tool:never', { tools: ['never'] }), 'an operator can name a registered tool before its first call');
  reg.dispose();
  const off = new BreakerRegistry({ enabled: false }, clock);
  for (let i = 0; i < 50; i++) await assert.rejects(off.run('x', fail));
  assert.deepEqual(off.list(), [], 'disabled: no breakers, fn always runs');
});

test('a wall clock that jumps back (NTP) does not corrupt the window: old counts still expire', () => {
  let t = 10_000_000;
  const clock = { now: () => t, setTimeout: () => ({}), clearTimeout: () => {}, setInterval: () => ({}), clearInterval: () => {} };
  const b = new CircuitBreaker('tool:t', { ...DEFAULT_BREAKER_SETTINGS }, clock);
  calls(b, 10, () => true);
  t -= 30_000;
  calls(b, 5, () => false);
  assert.deepEqual([b.snapshot().window.calls, b.snapshot().window.failures], [15, 10]);
  t += 10 * 60_000;
  assert.deepEqual([b.snapshot().window.calls, b.snapshot().window.failures], [0, 0], 'everything expired');
  calls(b, 19, () => true);
  assert.equal(kind(b), 'closed', 'a fresh window: 19 calls are under minCalls');
  calls(b, 1, () => true);
  assert.equal(kind(b), 'open');
});
