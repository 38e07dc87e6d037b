/** The exactly-once journal and group commit, in-process with MemoryStore and TestClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../src/index.js';
import { Incoming } from '../../src/server/incoming.js';
import { Session } from '../../src/server/session.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoredEntry } from '../../src/store/store.js';
import { TestClock } from '../../src/util/clock.js';
import { nullLogger } from '../../src/util/logger.js';
import { GroupCommit } from '../../src/runtime/group-commit.js';
import { Journal, JOURNAL_KEY, JOURNAL_NS } from '../../src/runtime/journal.js';
import { resultResponse } from '../../src/protocol/jsonrpc.js';

/** A MemoryStore whose writes wait until released, and which logs operations in order. */
class GatedStore extends MemoryStore {
  readonly ops: string[] = [];
  private gates: Array<() => void> = [];
  gated = false;
  fail = false;
  override async set(ns: string, key: string, value: unknown): Promise<void> {
    this.ops.push(`set ${ns}/${key}`);
    if (this.gated) await new Promise<void>((r) => this.gates.push(r));
    if (this.fail) throw new Error('disk full');
    await super.set(ns, key, value);
  }
  release(): void {
    const g = this.gates;
    this.gates = [];
    for (const f of g) f();
  }
  get waiting(): number {
    return this.gates.length;
  }
}

function server() {
  const s = createServer({ name: 't', version: '1' });
  s.tool('charge', () => 'charged');
  s.tool('record', { idempotent: true }, () => 'recorded');
  s.tool('look', { annotations: { readOnlyHint: true } }, () => 'seen');
  return s;
}

function inc(session: Session, id: string | number, tool: string) {
  return new Incoming({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: {} } }, session, session, '2025', { send: () => {} } as never, new AbortController());
}

const tick = () => new Promise((r) => setImmediate(r));

test('group commit: calls that arrive during a write share the next one; each waits for a write that started after it', async () => {
  let resolveWrite: () => void = () => {};
  let writes = 0;
  const gc = new GroupCommit(() => {
    writes++;
    return new Promise<void>((r) => (resolveWrite = r));
  });
  const done: number[] = [];
  void gc.commit().then(() => done.push(1));
  const later = Array.from({ length: 9 }, (_, i) => gc.commit().then(() => done.push(i + 2)));
  assert.equal(writes, 1);
  resolveWrite();
  await tick();
  assert.deepEqual(done, [1], 'the first write covers only the first call');
  assert.equal(writes, 2, 'the nine queued calls started one write together');
  resolveWrite();
  await Promise.all(later);
  assert.equal(writes, 2);
  assert.deepEqual(gc.stats, { writes: 2, commits: 10, maxBatch: 9 });
});

test('write-ahead: the record is durable before begin() resolves; concurrent calls share one write; read-only and idempotent tools skip it', async () => {
  const store = new GatedStore();
  const j = new Journal(server(), store, new TestClock(), nullLogger);
  const s = new Session('s1');
  assert.equal(j.begin(inc(s, 1, 'look')), undefined, 'read-only: not journaled');
  assert.equal(j.begin(inc(s, 2, 'record')), undefined, 'idempotent: no write-ahead');
  store.gated = true;
  let started = 0;
  const first = j.begin(inc(s, 3, 'charge'))!.then(() => started++);
  const rest = [4, 5, 6, 7].map((id) => j.begin(inc(s, id, 'charge'))!.then(() => started++));
  await tick();
  assert.equal(started, 0, 'no handler may start before its record is written');
  store.release();
  await first;
  await tick();
  store.release();
  await Promise.all(rest);
  assert.equal(started, 5);
  assert.equal(store.ops.length, 2, 'five calls, two writes (group commit)');
  const saved = (await store.get<string[]>(JOURNAL_NS, JOURNAL_KEY))!;
  assert.equal(saved.length, 5);
  assert.deepEqual(JSON.parse(saved[0]!), { s: 's1', id: 3, tool: 'charge', at: 1_000_000 });
});

test('outcome is durable before settle() resolves, a retry id is answered from it; a failed write-ahead refuses the call', async () => {
  const store = new GatedStore();
  const j = new Journal(server(), store, new TestClock(), nullLogger);
  const s = new Session('s1');
  await j.begin(inc(s, 'a', 'charge'));
  store.gated = true;
  let settled = false;
  const p = j.settle(inc(s, 'a', 'charge'), resultResponse('a', { content: [] }))!.then(() => (settled = true));
  await tick();
  assert.equal(settled, false, 'the response waits for the outcome record');
  store.release();
  await p;
  assert.deepEqual(s.completed?.get('a'), { jsonrpc: '2.0', id: 'a', result: { content: [] } });
  // Idempotent: no write-ahead, but its outcome is recorded.
  store.gated = false;
  await j.settle(inc(s, 'b', 'record'), resultResponse('b', { content: [{ type: 'text', text: 'recorded' }] }));
  assert.ok(s.completed?.has('b'));
  assert.equal(j.settle(inc(s, 'c', 'look'), resultResponse('c', {})), undefined);
  store.fail = true;
  await assert.rejects(j.begin(inc(s, 'd', 'charge'))!, (e: { code: number; data: { code: string } }) => e.code === -32001 && e.data.code === 'ANDON_JOURNAL_FAILED');
  assert.equal(j.size, 2, 'the refused call left no record');
});

test('restore: unfinished calls become ANDON_INTERRUPTED, completed ones keep their result, unknown sessions and bad records are dropped; retention prunes', async () => {
  const store = new MemoryStore();
  const clock = new TestClock();
  const s = new Session('s1');
  const j1 = new Journal(server(), store, clock, nullLogger);
  await j1.begin(inc(s, 1, 'charge'));
  await j1.begin(inc(s, 2, 'charge'));
  await j1.settle(inc(s, 2, 'charge'), resultResponse(2, { content: [{ type: 'text', text: 'charged' }] }));
  const other = new Session('gone');
  await j1.begin(inc(other, 9, 'charge'));
  const lines = (await store.get<string[]>(JOURNAL_NS, JOURNAL_KEY))!;
  await store.set(JOURNAL_NS, JOURNAL_KEY, [...lines, '{not json', JSON.stringify({ nope: 1 })]);

  const restored = new Session('s1');
  const j2 = new Journal(server(), store, clock, nullLogger, { retainMs: 60_000, maxCompleted: 10 });
  assert.deepEqual(await j2.restore(new Map([['s1', restored]])), { completed: 1, interrupted: 1 });
  const r1 = restored.completed!.get(1) as { error: { code: number; data: Record<string, unknown> } };
  assert.equal(r1.error.code, -32001);
  assert.equal(r1.error.data.code, 'ANDON_INTERRUPTED');
  assert.equal(r1.error.data.tool, 'charge');
  assert.deepEqual((restored.completed!.get(2) as { result: unknown }).result, { content: [{ type: 'text', text: 'charged' }] });
  const after = (await store.get<string[]>(JOURNAL_NS, JOURNAL_KEY))!;
  assert.equal(after.length, 2, 'the interrupted outcome is durable; the other session and bad lines are gone');
  // Retention: past retainMs, the next write retires completed outcomes.
  await clock.advance(60_001);
  await j2.settle(inc(restored, 3, 'record'), resultResponse(3, { content: [] }));
  assert.equal(j2.size, 1);
  assert.equal(restored.completed!.has(1), false);
  assert.equal(restored.completed!.has(3), true);
});

test('the journal stays bounded in bytes; a journal of the previous format is read as interrupted calls and removed', async () => {
  const store = new MemoryStore();
  const s = new Session('s1');
  const j = new Journal(server(), store, new TestClock(), nullLogger, { maxBytes: 2000 });
  const big = 'x'.repeat(300);
  for (let i = 0; i < 20; i++) await j.settle(inc(s, i, 'record'), resultResponse(i, { content: [{ type: 'text', text: big }] }));
  const lines = (await store.get<string[]>(JOURNAL_NS, JOURNAL_KEY))!;
  assert.ok(lines.join('').length <= 2000, 'within the byte budget');
  assert.ok(s.completed!.has(19) && !s.completed!.has(0), 'the oldest outcomes went first');

  const old = new MemoryStore();
  await old.set(JOURNAL_NS, 'inflight', [{ sessionId: 's1', requestId: 'c-1', tool: 'charge', arguments: {}, protocolVersion: '2025-11-25' }]);
  const restored = new Session('s1');
  assert.deepEqual(await new Journal(server(), old, new TestClock(), nullLogger).restore(new Map([['s1', restored]])), { completed: 0, interrupted: 1 });
  assert.equal((restored.completed!.get('c-1') as { error: { data: { code: string } } }).error.data.code, 'ANDON_INTERRUPTED');
  assert.equal(await old.get(JOURNAL_NS, 'inflight'), undefined);
});

/** A MemoryStore that says it is shared (as RedisStore does): the journal keeps one key per record. */
class SharedMemoryStore extends GatedStore {
  readonly shared = true;
}

test('shared store: one key per record, a commit writes only the records it covers without queueing behind writes in flight, pruned records are deleted, another node restores them', async () => {
  const store = new SharedMemoryStore();
  const clock = new TestClock();
  const s = new Session('s1');
  const j1 = new Journal(server(), store, clock, nullLogger, { retainMs: 60_000, maxCompleted: 100 });
  for (let i = 1; i <= 5; i++) {
    await j1.begin(inc(s, i, 'charge'));
    await j1.settle(inc(s, i, 'charge'), resultResponse(i, { content: [{ type: 'text', text: `charged ${i}` }] }));
  }
  await j1.begin(inc(s, 6, 'charge')); // still running
  const keys = (await store.list<string[]>(JOURNAL_NS)).map((e) => e.key);
  assert.equal(keys.length, 6, `one key per record: ${keys.join(', ')}`);
  assert.ok(keys.every((k) => k.startsWith(`${JOURNAL_KEY}-`)), 'under this node\'s key');
  for (const e of await store.list<string[]>(JOURNAL_NS)) assert.equal(e.value.length, 1);
  // The next commit writes the one record it covers, not the journal.
  store.ops.length = 0;
  await j1.settle(inc(s, 6, 'charge'), resultResponse(6, { content: [] }));
  assert.deepEqual(store.ops, [`set ${JOURNAL_NS}/${keys.find((k) => k.endsWith(':6'))}`]);
  // Another node (a restart, or a node adopting the session) reads them back.
  const restored = new Session('s1');
  const j2 = new Journal(server(), store, clock, nullLogger);
  assert.deepEqual(await j2.restore(new Map([['s1', restored]])), { completed: 6, interrupted: 0 });
  assert.deepEqual((restored.completed!.get(3) as { result: unknown }).result, { content: [{ type: 'text', text: 'charged 3' }] });
  // Past retention, j1's next write deletes its retired records.
  await clock.advance(60_001);
  await j1.settle(inc(s, 7, 'record'), resultResponse(7, { content: [] }));
  assert.equal((await store.list<string[]>(JOURNAL_NS)).filter((e) => e.key.startsWith(nodePart(keys[0]!))).length, 1, 'only the new record is left under j1');
  // Concurrent commits do not queue behind a write in flight: each record's write is issued at once.
  store.gated = true;
  const a = j1.begin(inc(s, 20, 'charge'))!;
  await tick();
  const b = j1.begin(inc(s, 21, 'charge'))!;
  await tick();
  assert.equal(store.waiting, 2, 'the second record is written while the first is still in flight');
  store.gated = false;
  store.release();
  await Promise.all([a, b]);
  await j1.settle(inc(s, 20, 'charge'), resultResponse(20, { content: [] }));
  await j1.settle(inc(s, 21, 'charge'), resultResponse(21, { content: [] }));
  await j1.settled();
  // A failed write leaves the records to the next write.
  store.fail = true;
  await assert.rejects(j1.begin(inc(s, 8, 'charge'))!);
  store.fail = false;
  await j1.begin(inc(s, 9, 'charge'));
  const mine = (await store.list<string[]>(JOURNAL_NS)).filter((e) => e.key.startsWith(nodePart(keys[0]!))).map((e) => e.key.slice(e.key.lastIndexOf(':') + 1));
  assert.deepEqual(mine.sort(), ['20', '21', '7', '9'], 'the refused call is not recorded; the others are');
});

/** The `log-<node>:` part of a record's key. */
function nodePart(recordKey: string): string {
  return recordKey.slice(0, recordKey.indexOf(':') + 1);
}

/** A shared store (like Redis): request ids are claimed cluster-wide; `list` can stop answering. */
class ClaimingStore extends MemoryStore {
  readonly shared = true;
  private readonly held = new Map<string, string>();
  listFails = false;
  async claim(ns: string, key: string, owner: string): Promise<boolean> {
    if (this.held.has(`${ns}/${key}`)) return false;
    this.held.set(`${ns}/${key}`, owner);
    return true;
  }
  async unclaim(ns: string, key: string, owner: string): Promise<void> {
    if (this.held.get(`${ns}/${key}`) === owner) this.held.delete(`${ns}/${key}`);
  }
  override async list<T>(ns: string): Promise<StoredEntry<T>[]> {
    if (this.listFails) throw new Error(`store list ${ns}: no answer from Redis within 2000 ms`);
    return super.list<T>(ns);
  }
}

test('shared store: a retried id claimed elsewhere whose record cannot be read (store not answering) is refused ANDON_JOURNAL_FAILED, retryable — not an internal error (found by the soak)', async () => {
  const store = new ClaimingStore();
  const a = new Journal(server(), store, new TestClock(), nullLogger);
  const b = new Journal(server(), store, new TestClock(), nullLogger);
  const s = new Session('s1');
  await a.begin(inc(s, 'x', 'charge'));
  store.listFails = true;
  await assert.rejects(b.begin(inc(new Session('s1'), 'x', 'charge'))!, (e: { code: number; message: string; data: { code: string; retryable?: boolean } }) => {
    assert.equal(e.data.code, 'ANDON_JOURNAL_FAILED', e.message);
    assert.match(e.message, /claimed in the shared store/);
    return true;
  });
  // Once the store answers, the same retry gets the usual answer: A's unfinished record, ANDON_INTERRUPTED.
  store.listFails = false;
  await assert.rejects(b.begin(inc(new Session('s1'), 'x', 'charge'))!, (e: { response?: { error?: { data?: { code?: string } } } }) => e.response?.error?.data?.code === 'ANDON_INTERRUPTED');
});

/** The journal key each record was written under (`log-<node>` of `log-<node>:<record>`), by request id. */
async function writerOf(store: MemoryStore, id: string): Promise<string> {
  const e = (await store.list<string[]>(JOURNAL_NS)).find((x) => x.key.endsWith(`\u0000string:${id}`))!;
  return e.key.slice(0, e.key.indexOf(':'));
}

type Refusal = { code: number; message: string; data: { code: string; reason?: string; retryAfterMs?: number } };

test('shared store: another node\'s unfinished call whose writer is alive or unknown is refused ANDON_IN_PROGRESS (retryable, nothing recorded); once finished, its answer; once its writer is dead, ANDON_INTERRUPTED', async () => {
  const store = new ClaimingStore();
  const clock = new TestClock();
  const a = new Journal(server(), store, clock, nullLogger);
  const b = new Journal(server(), store, clock, nullLogger);
  const asked: Array<[string, number]> = [];
  let answer: boolean | undefined | Error = true;
  b.writerAlive = async (key, since) => {
    asked.push([key, since]);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const s = new Session('s1');
  await a.begin(inc(s, 'x', 'charge'));
  const writer = await writerOf(store, 'x');
  assert.equal(writer, a.journalKey);
  const before = (await store.list(JOURNAL_NS)).length;
  // Alive: refused, retryable, 503 + Retry-After; nothing is recorded under B's key.
  for (const [ans, reason] of [[true, 'in-progress'], [undefined, 'writer-unknown'], [new Error('no answer from Redis'), 'writer-unknown']] as const) {
    answer = ans;
    await assert.rejects(b.begin(inc(new Session('s1'), 'x', 'charge'))!, (e: Refusal) => {
      assert.equal(e.code, -32001);
      assert.equal(e.data.code, 'ANDON_IN_PROGRESS', e.message);
      assert.equal(e.data.reason, reason);
      assert.equal(e.data.retryAfterMs, 1000);
      assert.match(e.message, /Retry the same id later/);
      return true;
    });
  }
  assert.deepEqual(asked.at(-1), [a.journalKey, clock.now()], 'B asks about A\'s journal key, with the time A wrote its record');
  assert.equal((await store.list(JOURNAL_NS)).length, before, 'B recorded nothing');
  assert.equal(b.size, 0);
  // A session adopted meanwhile (loadSession) leaves the record alone too.
  answer = true;
  assert.deepEqual(await b.adopt(new Session('s1')), { completed: 0, interrupted: 0 });
  // A finishes: the next retry on B gets A's answer, without asking about liveness.
  await a.settle(inc(s, 'x', 'charge'), resultResponse('x', { content: [{ type: 'text', text: 'charged x' }] }));
  asked.length = 0;
  await assert.rejects(b.begin(inc(new Session('s1'), 'x', 'charge'))!, (e: { response?: { result?: unknown } }) => {
    assert.deepEqual(e.response?.result, { content: [{ type: 'text', text: 'charged x' }] });
    return true;
  });
  assert.equal(asked.length, 0);
  // Another call unfinished on A, whose node is then seen dead: ANDON_INTERRUPTED, durable under B's key.
  await a.begin(inc(s, 'y', 'charge'));
  answer = false;
  await assert.rejects(b.begin(inc(new Session('s1'), 'y', 'charge'))!, (e: { response?: { error?: { data?: { code?: string } } } }) => e.response?.error?.data?.code === 'ANDON_INTERRUPTED');
  const keys = (await store.list(JOURNAL_NS)).map((e) => e.key).filter((k) => k.startsWith(`${b.journalKey}:`));
  assert.equal(keys.filter((k) => k.endsWith('\u0000string:y')).length, 1, `B recorded the interruption: ${keys.join(', ')}`);
});

test('shared store: without a liveness source (no membership), and at restore, unfinished records become ANDON_INTERRUPTED as before', async () => {
  const store = new ClaimingStore();
  const a = new Journal(server(), store, new TestClock(), nullLogger);
  await a.begin(inc(new Session('s1'), 'x', 'charge'));
  const b = new Journal(server(), store, new TestClock(), nullLogger);
  await assert.rejects(b.begin(inc(new Session('s1'), 'x', 'charge'))!, (e: { response?: { error?: { data?: { code?: string } } } }) => e.response?.error?.data?.code === 'ANDON_INTERRUPTED');
  await a.begin(inc(new Session('s2'), 'z', 'charge'));
  const d = new Journal(server(), store, new TestClock(), nullLogger);
  d.writerAlive = async () => true;
  assert.deepEqual(await d.restore(new Map([['s2', new Session('s2')]])), { completed: 0, interrupted: 1 }, 'restore at start is unchanged');
});
