/**
 * The dashboard's ring buffer and login sessions on a TestClock: slots, percentiles, gaps, the
 * 15-minute bound, the event-channel feed; session expiry, sliding renewal, cookie flags, eviction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { events } from '../../src/events/index.js';
import { quantile, Series, SLOT_MS, SLOTS } from '../../src/dashboard/series.js';
import { COOKIE, MAX_SESSIONS, readCookie, SessionStore } from '../../src/dashboard/sessions.js';
import type { IncomingMessage } from 'node:http';

const mem = () => ({ heap: 10, rss: 20 });
const call = (name: string, durationMs: number, outcome: 'ok' | 'error' | 'tool_error' = 'ok') => ({ method: 'tools/call', name, outcome, durationMs });

test('quantile is the nearest rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(v, 0.5), 50);
  assert.equal(quantile(v, 0.95), 95);
  assert.equal(quantile(v, 0.99), 99);
  assert.equal(quantile([], 0.5), 0);
  assert.equal(quantile([7], 0.99), 7);
});

test('a slot counts requests and errors, and keeps p50/p95/p99 for all requests and per tool', () => {
  const clock = new TestClock(SLOT_MS * 1000);
  const s = new Series(clock, mem);
  for (let i = 1; i <= 100; i++) s.record(call('divide', i, i % 10 === 0 ? 'tool_error' : 'ok'));
  s.record({ method: 'resources/read', name: 'x://y', outcome: 'error', durationMs: 500 });
  const [open] = s.slots();
  assert.equal(open!.t, SLOT_MS * 1000);
  assert.equal(open!.req, 101);
  assert.equal(open!.err, 11, 'tool error results and protocol errors');
  assert.deepEqual(open!.lat.divide, [100, 50, 95, 99]);
  assert.equal(open!.lat['*']![0], 101);
  assert.equal(open!.lat['x://y'], undefined, 'only tools get their own latency line');
  assert.equal(open!.heap, 10);
});

test('a name longer than MCP allows (128 characters) gets no latency key: a client cannot park big strings in 180 slots', () => {
  const s = new Series(new TestClock(SLOT_MS * 1000), mem);
  const long = 'n'.repeat(300_000);
  s.record(call(long, 3, 'error'));
  s.record(call('t'.repeat(128), 3));
  const [open] = s.slots();
  assert.equal(open!.req, 2);
  assert.equal(open!.lat[long], undefined);
  assert.deepEqual(Object.keys(open!.lat).sort(), ['*', 't'.repeat(128)]);
});

test('slots close on time, quiet slots are filled, and 15 minutes are kept', async () => {
  const clock = new TestClock(SLOT_MS * 1000);
  const s = new Series(clock, mem);
  s.record(call('add', 3));
  await clock.advance(SLOT_MS);
  s.record(call('add', 5));
  let slots = s.slots();
  assert.equal(slots.length, 2);
  assert.deepEqual(slots.map((x) => x.req), [1, 1]);
  assert.equal(slots[1]!.t - slots[0]!.t, SLOT_MS);
  await clock.advance(SLOT_MS * 3);
  slots = s.slots();
  assert.deepEqual(slots.map((x) => x.req), [1, 1, 0, 0, 0], 'a quiet gap still has points');
  await clock.advance(SLOT_MS * SLOTS * 3);
  slots = s.slots();
  assert.equal(slots.length, SLOTS, 'bounded to 15 minutes');
  assert.ok(slots.every((x) => x.req === 0));
  assert.equal(slots[slots.length - 1]!.t - slots[0]!.t, (SLOTS - 1) * SLOT_MS);
});

test('the series is fed by andon:request and andon:session; sessions never go negative', () => {
  const clock = new TestClock(SLOT_MS * 1000);
  const s = new Series(clock, mem).start();
  try {
    events.request.publish({ method: 'tools/call', name: 'divide', era: '2025', outcome: 'ok', durationMs: 2 });
    events.session.publish({ action: 'close', era: '2025', transport: 'http' });
    events.session.publish({ action: 'open', era: '2025', transport: 'http' });
    events.session.publish({ action: 'open', era: '2026', transport: 'http' });
    const cur = s.current();
    assert.equal(cur.req, 1);
    assert.equal(cur.sessions, 2);
  } finally {
    s.stop();
  }
  events.request.publish({ method: 'tools/call', name: 'divide', era: '2025', outcome: 'ok', durationMs: 2 });
  assert.equal(s.current().req, 1, 'stop() unsubscribes');
});

const req = (cookie?: string) => ({ headers: cookie ? { cookie } : {}, socket: {} }) as unknown as IncomingMessage;

test('sessions: cookie flags, idle expiry renewed by use, logout, eviction of the least recently used', async () => {
  const clock = new TestClock(1_000_000);
  const store = new SessionStore(clock, 60_000);
  const s = store.create();
  assert.notEqual(s.id, s.csrf);
  assert.ok(s.id.length >= 43 && s.csrf.length >= 43, '256-bit random values');
  const cookie = `${COOKIE}=${s.id}`;
  assert.match(store.cookie(s, false), /^andon_dashboard=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=60$/);
  assert.match(store.cookie(s, true), /; Secure;/);
  assert.match(store.cookie(undefined, false), /Max-Age=0$/);
  assert.equal(readCookie(`a=1; ${cookie}; b=2`, COOKIE), s.id);

  await clock.advance(50_000);
  assert.equal(store.of(req(cookie)), s, 'used within the TTL: renewed');
  await clock.advance(50_000);
  assert.equal(store.of(req(cookie)), s, 'still alive 100 s after login: the TTL is idle time');
  await clock.advance(60_001);
  assert.equal(store.of(req(cookie)), undefined, 'idle past the TTL: gone');
  assert.equal(store.of(req(`${COOKIE}=forged`)), undefined);
  assert.equal(store.of(req()), undefined);

  const t = store.create();
  assert.ok(store.alive(t));
  store.end(t);
  assert.ok(!store.alive(t));

  const first = store.create();
  for (let i = 0; i < MAX_SESSIONS; i++) store.create();
  assert.equal(store.of(req(`${COOKIE}=${first.id}`)), undefined, 'the oldest is evicted past the limit');
});
