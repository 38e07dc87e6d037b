/** Session persistence in-process with MemoryStore (issue 9, 6c acknowledged sessions and 6d). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/server/session.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SessionPersistence, bucketOf, SESSIONS_NS } from '../../src/runtime/session-persistence.js';
import type { Logger } from '../../src/util/logger.js';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const noop = () => {};
  const l = { errors, error: (_o: unknown, msg?: string) => void errors.push(String(msg)), warn: noop, info: noop, debug: noop, trace: noop, fatal: noop, child: () => l } as unknown as Logger & { errors: string[] };
  return l;
}

/** `n` session ids that share one bucket. */
function sameBucket(n: number): string[] {
  const out: string[] = [];
  const b = bucketOf('seed');
  for (let i = 0; out.length < n; i++) if (bucketOf(`s${i}`) === b) out.push(`s${i}`);
  return out;
}

test('one session that cannot be serialised (100k-deep capabilities) is skipped and logged; the others of its bucket are kept', async () => {
  const store = new MemoryStore();
  const log = recordingLogger();
  const p = new SessionPersistence(store, log);
  const [a, bad, c] = sameBucket(3).map((id) => {
    const s = new Session(id);
    s.protocolVersion = '2025-11-25';
    return s;
  });
  let deep: Record<string, unknown> = {};
  const top = deep;
  for (let i = 0; i < 100_000; i++) deep = (deep.x = {}) as Record<string, unknown>;
  bad!.clientCapabilities = top;
  for (const s of [a!, bad!, c!]) p.changed(s, 'open');
  await p.flush();
  assert.ok(log.errors.some((m) => /cannot be serialised/.test(m)));
  const loaded = await new SessionPersistence(store, log).load();
  assert.deepEqual(loaded.map((r) => r.id).sort(), [a!.id, c!.id].sort());
  // A getter that throws is the same: only its session is lost.
  Object.defineProperty(c!.clientCapabilities, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
  p.changed(c!, 'update');
  await p.flush();
  assert.deepEqual((await p.load()).map((r) => r.id), [a!.id]);
});

test('persistNow writes the record (its own key on a store without a record log) before it resolves; a record that fails to parse is skipped at load; restoreInto recreates sessions', async () => {
  const store = new MemoryStore();
  const log = recordingLogger();
  const p = new SessionPersistence(store, log);
  const [x, y] = sameBucket(2).map((id) => Object.assign(new Session(id), { protocolVersion: '2025-06-18' }));
  x!.subscriptions.add('test://a');
  x!.logLevel = 'info';
  await p.persistNow(x!);
  await p.persistNow(y!);
  const raw = (await store.get<Record<string, string>>(SESSIONS_NS, x!.id))!;
  assert.deepEqual(Object.keys(raw), [x!.id]);
  assert.equal((await store.list(SESSIONS_NS)).length, 2);
  await store.set(SESSIONS_NS, y!.id, { [y!.id]: '{torn' });
  const restored: Session[] = [];
  const n = await new SessionPersistence(store, log).restoreInto({ restoreSession: (s) => restored.push(s) });
  assert.equal(n, 1);
  assert.equal(restored[0]!.id, x!.id);
  assert.deepEqual([...restored[0]!.subscriptions], ['test://a']);
  assert.equal(restored[0]!.logLevel, 'info');
  assert.ok(log.errors.some((m) => /unreadable saved session/.test(m)));
  // A closed session leaves the store; stdio sessions are never persisted.
  p.changed(x!, 'close');
  p.changed(y!, 'close');
  await p.flush();
  assert.equal(await store.get(SESSIONS_NS, x!.id), undefined);
  const stdio = Object.assign(new Session('stdio'), { transport: 'stdio' as const });
  await p.persistNow(stdio);
  assert.deepEqual(await store.list(SESSIONS_NS), []);
});

test('one key per session: the writer of a session is dropped once its write is done (no map entry per session ever seen)', async () => {
  const store = new MemoryStore();
  const p = new SessionPersistence(store, recordingLogger());
  const sessions = Array.from({ length: 500 }, (_, i) => {
    const s = new Session(`s-${i}`);
    s.transport = 'http';
    return s;
  });
  await Promise.all(sessions.map((s) => p.persistNow(s)));
  for (const s of sessions.slice(0, 250)) p.changed(s, 'update');
  await p.flush();
  await Promise.all(sessions.slice(0, 100).map((s) => p.persistDeletion(s)));
  await p.settled();
  // The drop runs after each write settles: give it the microtasks it needs.
  for (let i = 0; i < 10 && p.writersHeld > 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(p.writersHeld, 0, 'no writer left once every write is done');
  assert.equal((await p.load()).length, 400, 'the 400 sessions not deleted are stored');
});
