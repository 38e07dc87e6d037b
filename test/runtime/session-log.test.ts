/**
 * The session log of the file store (src/runtime/session-persistence.ts, src/store/line-log.ts):
 * acknowledged sessions, subscriptions and deletions survive kill -9 of a real node; the 64-bucket
 * format of before is migrated at start; torn, edited and hostile records are skipped and logged
 * while the others are kept; one acknowledgement appends one line whatever the log holds; the log
 * is compacted past its bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { Session } from '../../src/server/session.js';
import { FileStore } from '../../src/store/file-store.js';
import { SessionPersistence, bucketOf } from '../../src/runtime/session-persistence.js';
import type { Logger } from '../../src/util/logger.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-slog-');

const line = (record: string) => `${createHash('sha256').update(record).digest('hex').slice(0, 16)} ${record}\n`;
const logFile = (stateDir: string) => join(stateDir, 'sessions', 'sessions.lines');

async function kill9(node: NodeProc): Promise<void> {
  node.child.kill('SIGKILL');
  await node.exited;
}

function as(url: string, id: string): Session2025 {
  const s = new Session2025(url);
  s.sessionId = id;
  return s;
}

const ping = async (s: Session2025) => (await post(s.url, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s.headers())).status;

/** Opens a GET stream for `s`, read in the background; `until(n)` waits for n resources/updated, `count()` counts them now. */
async function stream(s: Session2025) {
  const ac = new AbortController();
  const res = await fetch(s.url, { method: 'GET', headers: { accept: 'text/event-stream', ...s.headers() }, signal: ac.signal });
  assert.equal(res.status, 200, `GET stream: ${res.status}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  void (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return;
      text += dec.decode(r.value, { stream: true });
    }
  })();
  const count = () => text.split('notifications/resources/updated').length - 1;
  return {
    count,
    async until(n: number) {
      for (let i = 0; i < 300 && count() < n; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(count() >= n, `${n} resources/updated within 15 s; got: ${text.slice(-300)}`);
    },
    close: () => ac.abort(),
  };
}

test('kill -9 right after the answers: initialized and subscribed sessions come back with their subscriptions, unsubscribed and DELETEd ones as left', async () => {
  const f = await fresh();
  const node = await f.start();
  const plain = new Session2025(node.url);
  await plain.initialize();
  const subbed = new Session2025(node.url);
  await subbed.initialize();
  await subbed.call('resources/subscribe', { uri: 'test://watched' });
  const unsubbed = new Session2025(node.url);
  await unsubbed.initialize();
  await unsubbed.call('resources/subscribe', { uri: 'test://watched' });
  await unsubbed.call('resources/unsubscribe', { uri: 'test://watched' });
  const gone = new Session2025(node.url);
  await gone.initialize();
  assert.equal((await fetch(node.url, { method: 'DELETE', headers: gone.headers() })).status, 200);
  // No pause: the kill lands inside the periodic flush interval.
  await kill9(node);
  assert.deepEqual((await readdir(join(f.stateDir, 'sessions'))).filter((n) => !n.includes('.tmp-')), ['sessions.lines'], 'one log, no bucket files');

  const again = await f.start();
  assert.equal(await ping(as(again.url, gone.sessionId)), 404, 'a DELETEd session stays deleted');
  for (const s of [plain, subbed, unsubbed]) assert.equal(await ping(as(again.url, s.sessionId)), 200, 'an initialized session is restored');
  const watched = await stream(as(again.url, subbed.sessionId));
  const notWatched = await stream(as(again.url, unsubbed.sessionId));
  await as(again.url, plain.sessionId).call('tools/call', { name: 'touch', arguments: {} });
  await watched.until(1);
  // A bounded wait for something that must not come (it can only pass wrongly, never fail wrongly).
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(notWatched.count(), 0, 'the unsubscribe survived too');
  watched.close();
  notWatched.close();
  await kill9(again);
});

function bucketFile(records: Record<string, string>): string {
  const payload = JSON.stringify(records);
  return JSON.stringify({ schema: 'andon-store/1', sha256: createHash('sha256').update(payload).digest('hex'), savedAt: Date.now(), payload });
}

test('the 64-bucket format is migrated at start (buckets deleted, sessions in the log, a hostile record skipped and logged) and stays migrated across kill -9', async () => {
  const f = await fresh();
  const rec = (id: string, subscriptions: string[] = []) => JSON.stringify({ id, protocolVersion: '2025-11-25', clientCapabilities: {}, subscriptions, lastActivity: Date.now() });
  const ids = ['old-a', 'old-b', 'old-c', 'old-d'];
  const buckets = new Map<string, Record<string, string>>();
  for (const id of ids) {
    const b = bucketOf(id);
    if (!buckets.has(b)) buckets.set(b, {});
    buckets.get(b)![id] = rec(id, id === 'old-a' ? ['test://watched'] : []);
  }
  // A hostile record next to a good one: a string that parses but is no session record.
  buckets.get(bucketOf('old-b'))!['evil'] = JSON.stringify({ id: 'evil', subscriptions: 'all' });
  await mkdir(join(f.stateDir, 'sessions'), { recursive: true });
  for (const [b, v] of buckets) await writeFile(join(f.stateDir, 'sessions', `${b}.json`), bucketFile(v));

  const node = await f.start();
  assert.match(node.stderr(), /skipped an unreadable saved session/);
  assert.match(node.stderr(), /migrated saved sessions from buckets to the session log/);
  assert.deepEqual(await readdir(join(f.stateDir, 'sessions')), ['sessions.lines'], 'the buckets are gone');
  for (const id of ids) assert.equal(await ping(as(node.url, id)), 200, `${id} restored`);
  assert.equal(await ping(as(node.url, 'evil')), 404);
  assert.equal((await fetch(node.url, { method: 'DELETE', headers: as(node.url, 'old-d').headers() })).status, 200);
  await kill9(node);

  const again = await f.start();
  for (const id of ['old-a', 'old-b', 'old-c']) assert.equal(await ping(as(again.url, id)), 200, `${id} still there`);
  assert.equal(await ping(as(again.url, 'old-d')), 404, 'deleted after the migration: stays deleted');
  const w = await stream(as(again.url, 'old-a'));
  await as(again.url, 'old-b').call('tools/call', { name: 'touch', arguments: {} });
  await w.until(1);
  w.close();
  await kill9(again);
});

test('torn, edited and hostile lines of the log are skipped and logged, the others kept; a session acknowledged after a torn tail survives the next kill -9', async () => {
  const f = await fresh();
  const node = await f.start();
  const a = new Session2025(node.url);
  await a.initialize();
  const b = new Session2025(node.url);
  await b.initialize();
  await kill9(node);
  const rec = (id: string) => JSON.stringify({ id, protocolVersion: '2025-11-25', clientCapabilities: {}, subscriptions: [], lastActivity: Date.now() });
  await appendFile(
    logFile(f.stateDir),
    // Edited: checksum mismatch. Hostile: checksum right, content not a record / a deletion of nothing usable.
    line(rec('edited')).replace('edited', 'EDITED') +
      line(JSON.stringify({ id: 'hostile', subscriptions: 'x' })) +
      line(JSON.stringify({ del: 42 })) +
      line('not json') +
      line(rec('fine')) +
      // Torn: the tail of a write cut by the crash.
      line(rec('torn')).slice(0, 40),
  );

  const again = await f.start();
  assert.match(again.stderr(), /skipped damaged lines of the session log/);
  assert.match(again.stderr(), /"skipped":2,.*checksum mismatch.*torn last line/, 'the edited line and the torn tail are counted and named');
  assert.match(again.stderr(), /skipped an unreadable saved session/);
  for (const s of [a, b]) assert.equal(await ping(as(again.url, s.sessionId)), 200, 'the sessions around the bad lines are kept');
  assert.equal(await ping(as(again.url, 'fine')), 200);
  for (const id of ['edited', 'EDITED', 'hostile', 'torn']) assert.equal(await ping(as(again.url, id)), 404, id);
  const c = new Session2025(again.url);
  await c.initialize();
  await kill9(again);

  // The same damage after the start's compaction: append a torn tail and acknowledge a new session on it.
  await appendFile(logFile(f.stateDir), line(rec('torn2')).slice(0, 30));
  const third = await f.start();
  const d = new Session2025(third.url);
  await d.initialize();
  await kill9(third);
  const fourth = await f.start();
  for (const s of [a, b, c, d]) assert.equal(await ping(as(fourth.url, s.sessionId)), 200, 'acknowledged sessions survive');
  await kill9(fourth);
});

function quietLogger(): Logger {
  const noop = () => {};
  const l = { error: noop, warn: noop, info: noop, debug: noop, trace: noop, fatal: noop, child: () => l } as unknown as Logger;
  return l;
}

test('one acknowledgement appends one line whatever the log holds; concurrent ones share appends; the log is compacted past 2 × live + 1,024 lines', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-slog-unit-'));
  try {
    const store = new FileStore({ dir });
    await store.open();
    const p = new SessionPersistence(store, quietLogger());
    await p.restoreInto({ restoreSession: () => {} });
    const open = (id: string) => Object.assign(new Session(id), { protocolVersion: '2025-11-25' });
    // 3,000 sessions acknowledged 500 at a time (group commit: far fewer appends than sessions).
    const live: Session[] = [];
    for (let k = 0; k < 6; k++) {
      const batch = Array.from({ length: 500 }, (_, i) => open(`s-${k}-${i}`));
      await Promise.all(batch.map((s) => p.persistNow(s)));
      live.push(...batch);
    }
    const file = logFile(dir);
    const lines = async () => (await readFile(file, 'utf8')).split('\n').length - 1;
    assert.ok((await lines()) <= 3000 + 1, `${await lines()} lines for 3,000 sessions`);
    const before = (await stat(file)).size;
    const one = open('one-more');
    await p.persistNow(one);
    const added = (await stat(file)).size - before;
    assert.equal(added, line(JSON.stringify({ id: 'one-more', protocolVersion: '2025-11-25', clientCapabilities: {}, subscriptions: [], lastActivity: one.lastActivity })).length, 'one initialize with 3,000 held appends its own line only');
    // Churn: delete and reopen far more than the bound; the log stays bounded and right.
    for (let i = 0; i < 4000; i++) {
      const s = live[i % live.length]!;
      await p.persistDeletion(s);
      live[i % live.length] = open(`r-${i}`);
      await p.persistNow(live[i % live.length]!);
    }
    const n = await lines();
    assert.ok(n <= 2 * 3001 + 1024 + 2, `the log holds ${n} lines for 3,001 sessions`);
    const loaded = (await new SessionPersistence(store, quietLogger()).load()).map((r) => r.id).sort();
    assert.deepEqual(loaded, [...live.map((s) => s.id), 'one-more'].sort());
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a migrated bucket that cannot be deleted does not bring back a session deleted after the migration, through later compactions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-slog-left-'));
  try {
    class Sticky extends FileStore {
      override async delete(ns: string, key: string): Promise<void> {
        if (ns === 'sessions') throw new Error('EACCES (test)');
        await super.delete(ns, key);
      }
    }
    const store = new Sticky({ dir });
    await store.open();
    const rec = (id: string) => JSON.stringify({ id, protocolVersion: '2025-11-25', clientCapabilities: {}, subscriptions: [], lastActivity: Date.now() });
    await store.set('sessions', bucketOf('x'), { x: rec('x') });
    await store.set('sessions', bucketOf('y'), { y: rec('y') });
    const restoreAll = async () => {
      const got: Session[] = [];
      const p = new SessionPersistence(store, quietLogger());
      await p.restoreInto({ restoreSession: (s) => got.push(s) });
      return { p, got };
    };
    const first = await restoreAll();
    assert.deepEqual(first.got.map((s) => s.id).sort(), ['x', 'y']);
    await first.p.persistDeletion(first.got.find((s) => s.id === 'x')!);
    // Each start compacts: the deletion of x must outlive it while x's bucket is still there.
    for (let i = 0; i < 2; i++) {
      const again = await restoreAll();
      assert.deepEqual(again.got.map((s) => s.id), ['y'], `start ${i + 2}`);
    }
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
