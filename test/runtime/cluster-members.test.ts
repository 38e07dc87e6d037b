/**
 * ClusterMembers on a TestClock and an in-memory store with a pub/sub channel: heartbeats, the
 * `down` threshold (three missed heartbeats), `stopped` after a clean stop, drain requests for the
 * named node only, and hostile messages on the drain channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ClusterMembers, type MemberSource } from '../../src/runtime/cluster-members.js';
import type { Logger } from '../../src/util/logger.js';
import { resiliencePanels } from '../../src/runtime/dashboard-panels.js';
import { BreakerRegistry } from '../../src/resilience/breakers.js';

/** A MemoryStore with publish/subscribe, like a shared store. */
function sharedStore(clock: TestClock) {
  const store = new MemoryStore(clock) as MemoryStore & { publish(ch: string, m: string): Promise<void>; subscribe(ch: string, fn: (m: string) => void): Promise<() => Promise<void>> };
  const subs = new Map<string, Set<(m: string) => void>>();
  store.publish = async (ch, m) => {
    for (const fn of subs.get(ch) ?? []) fn(m);
  };
  store.subscribe = async (ch, fn) => {
    if (!subs.has(ch)) subs.set(ch, new Set());
    subs.get(ch)!.add(fn);
    return async () => void subs.get(ch)!.delete(fn);
  };
  return store;
}

function member(store: ReturnType<typeof sharedStore>, clock: TestClock, id: string) {
  const drains: string[] = [];
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, error() {}, warn: (_o, msg) => void warnings.push(msg ?? '') };
  const source: MemberSource = { mcpUrl: () => `http://${id}/mcp`, opsUrl: () => `http://${id}:9464`, phase: () => 'running', degraded: () => false, sessions: () => 2, drain: (r) => void drains.push(r) };
  return { m: new ClusterMembers(store, clock, log, id, 1_000, source), drains, warnings };
}

test('heartbeats list every node; a node missing three heartbeats is down; a stopped node is stopped', async () => {
  const clock = new TestClock();
  const frozen = new TestClock(); // B's clock never moves: B stops beating, like a killed process
  const store = sharedStore(clock);
  const a = member(store, clock, 'a');
  const b = member(store, frozen, 'b');
  await a.m.start();
  await b.m.start();
  let nodes = await a.m.list();
  assert.deepEqual(nodes.map((n) => [n.id, n.status, n.self, n.sessions, n.mcpUrl]), [['a', 'up', true, 2, 'http://a/mcp'], ['b', 'up', false, 2, 'http://b/mcp']]);
  await clock.advance(3_000);
  nodes = await a.m.list();
  assert.equal(nodes.find((n) => n.id === 'b')!.status, 'up', 'three periods without a heartbeat: not yet down');
  assert.equal(nodes.find((n) => n.id === 'a')!.ageMs, 0, 'A kept beating');
  await clock.advance(1_001);
  assert.equal((await a.m.list()).find((n) => n.id === 'b')!.status, 'down');
  assert.equal(a.m.snapshot().find((n) => n.id === 'b')!.status, 'down');
  // The dashboard's nodes panel draws the same list (from memory, as of the last heartbeat).
  const panel = resiliencePanels({ breakers: new BreakerRegistry({ enabled: false }, clock), members: a.m }).nodes!() as { rows: Array<{ id: string; state: string; sessions: number }> };
  assert.deepEqual(panel.rows.map((r) => [r.id, r.state, r.sessions]), [['a (this node)', 'up', 2], ['b', 'down', 2]]);
  assert.deepEqual(await a.m.requestDrain('b', 'x', 'test'), { ok: false, status: 409, error: 'node "b" is down (last heartbeat 4 s ago): nobody would act on a drain request' });
  await a.m.stop();
  await b.m.stop();
  const after = await b.m.list();
  assert.equal(after.find((n) => n.id === 'a')!.status, 'stopped');
  // An hour later the records are forgotten by whoever lists them.
  await clock.advance(3_600_001);
  const c = member(store, clock, 'c');
  await c.m.start();
  assert.deepEqual((await c.m.list()).map((n) => n.id), ['c']);
  await c.m.stop();
});

test('a drain request reaches the named node only; unknown nodes are refused; malformed messages are dropped', async () => {
  const clock = new TestClock();
  const store = sharedStore(clock);
  const a = member(store, clock, 'a');
  const b = member(store, clock, 'b');
  await a.m.start();
  await b.m.start();
  for (const m of ['nope', '{}', JSON.stringify({ op: 'drain', node: 'b' }), JSON.stringify({ op: 'drain', node: 'b', reason: 1, by: 'x', from: 'y' }), 'x'.repeat(9_000)]) await store.publish('drain', m);
  assert.deepEqual(b.drains, []);
  assert.equal(b.warnings.filter((w) => /malformed drain request/.test(w)).length, 5);
  assert.deepEqual(await a.m.requestDrain('zz', 'x', 'test'), { ok: false, status: 404, error: 'unknown node "zz"; GET /admin/nodes lists them' });
  const r = await a.m.requestDrain('b', 'maintenance', 'test');
  assert.equal(r.ok, true);
  assert.deepEqual(b.drains, ['maintenance']);
  assert.deepEqual(a.drains, []);
  // A node asked to drain itself drains directly.
  await a.m.requestDrain('a', 'self', 'test');
  assert.deepEqual(a.drains, ['self']);
  assert.deepEqual(b.drains, ['maintenance']);
  await a.m.stop();
  await b.m.stop();
});

test('journal writer liveness: alive while the record naming its journal key beats, dead once down or stopped; an unnamed key is unknown until three heartbeats past its record', async () => {
  const clock = new TestClock();
  const frozen = new TestClock(clock.now()); // A stops beating, like a killed process
  const store = sharedStore(clock);
  const src = (id: string): MemberSource => ({ mcpUrl: () => undefined, opsUrl: () => undefined, phase: () => 'running', degraded: () => false, sessions: () => 0, journalKey: () => `log-${id}`, drain: () => {} });
  const a = new ClusterMembers(store, frozen, { debug() {}, info() {}, warn() {}, error() {} }, 'a', 1_000, src('a'));
  const b = new ClusterMembers(store, clock, { debug() {}, info() {}, warn() {}, error() {} }, 'b', 1_000, src('b'));
  await a.beat();
  await b.beat();
  assert.equal((await b.list()).find((n) => n.id === 'a')?.journal, 'log-a', 'the record names the journal key');
  const at = clock.now();
  assert.equal(await b.journalWriterAlive('log-a', at), true);
  assert.equal(await b.journalWriterAlive('log-gone', at), undefined, 'an unnamed key with a fresh record: unknown');
  await clock.advance(3_001);
  await b.beat();
  assert.equal(await b.journalWriterAlive('log-a', at), false, 'A missed three heartbeats: dead');
  assert.equal(await b.journalWriterAlive('log-gone', at), false, 'unnamed three heartbeats after its record: dead');
  assert.equal(await b.journalWriterAlive('log-b', at), true);
  await b.stop();
  assert.equal(await a.journalWriterAlive('log-b', at), false, 'a stopped node is dead');
  const failing = new ClusterMembers(Object.assign(new MemoryStore(clock), { list: async () => Promise.reject(new Error('no answer')) }), clock, { debug() {}, info() {}, warn() {}, error() {} }, 'c', 1_000, src('c'));
  await assert.rejects(failing.journalWriterAlive('log-a', at), /no answer/);
});
