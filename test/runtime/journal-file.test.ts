/**
 * The exactly-once journal on the file store: an append-only line log (`journal/log.lines`), one
 * append + fsync per group commit, compacted when it grows past its bound; torn and corrupt lines
 * skipped; the one-key journal of earlier versions read once. In-process on a real FileStore, and
 * across a kill -9 of a real node.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from '../../src/index.js';
import { Incoming } from '../../src/server/incoming.js';
import { Session } from '../../src/server/session.js';
import { FileStore } from '../../src/store/file-store.js';
import { TestClock } from '../../src/util/clock.js';
import type { Logger } from '../../src/util/logger.js';
import { nullLogger } from '../../src/util/logger.js';
import { Journal, JOURNAL_KEY, JOURNAL_NS } from '../../src/runtime/journal.js';
import { resultResponse } from '../../src/protocol/jsonrpc.js';
import { DIST } from '../helpers/paths.js';
import { freePort, nodeFleet, startNode } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';

const tmp: string[] = [];
after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

async function fileStore(): Promise<{ store: FileStore; dir: string; logFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'andon-jfile-'));
  tmp.push(dir);
  const store = new FileStore({ dir, clock: new TestClock() });
  await store.open();
  return { store, dir, logFile: join(dir, JOURNAL_NS, `${JOURNAL_KEY}.lines`) };
}

function server() {
  const s = createServer({ name: 't', version: '1' });
  s.tool('charge', () => 'charged');
  s.tool('record', { idempotent: true }, () => 'recorded');
  return s;
}

function inc(session: Session, id: string | number, tool: string) {
  return new Incoming({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: {} } }, session, session, '2025', { send: () => {} } as never, new AbortController());
}

/** A logger that keeps what it was told. */
function recorder(): Logger & { lines: Array<{ level: string; msg: string; obj: object }> } {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const at = (level: string) => (obj: object, msg = '') => void lines.push({ level, msg, obj });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const fileLines = async (f: string) => (await readFile(f, 'utf8')).split('\n').filter(Boolean);

test('file store: each group commit appends the changed records to one file (no rewrite), concurrent calls share one append', async () => {
  const { store, dir, logFile } = await fileStore();
  const j = new Journal(server(), store, new TestClock(), nullLogger);
  await j.restore(new Map());
  const s = new Session('s1');
  await j.begin(inc(s, 1, 'charge'));
  const first = await stat(logFile);
  assert.equal((await fileLines(logFile)).length, 1, 'the write-ahead record is one line');
  await j.settle(inc(s, 1, 'charge'), resultResponse(1, { content: [{ type: 'text', text: 'charged' }] }));
  assert.equal((await fileLines(logFile)).length, 2, 'the outcome is appended, the write-ahead line stays');
  const writes = j.stats.writes;
  await Promise.all(Array.from({ length: 16 }, (_, i) => j.begin(inc(s, 100 + i, 'charge'))));
  assert.ok(j.stats.writes - writes <= 2, `16 concurrent write-aheads, ${j.stats.writes - writes} appends`);
  assert.equal((await fileLines(logFile)).length, 18);
  const now = await stat(logFile);
  assert.equal(now.ino, first.ino, 'appended in place, never renamed over');
  assert.ok(now.size > first.size);
  await assert.rejects(stat(join(dir, JOURNAL_NS, `${JOURNAL_KEY}.json`)), 'no one-key journal is written');
  // Another process (after a restart) sees the latest line of each record.
  const restored = new Session('s1');
  const j2 = new Journal(server(), store, new TestClock(), nullLogger);
  assert.deepEqual(await j2.restore(new Map([['s1', restored]])), { completed: 1, interrupted: 16 });
  assert.equal((restored.completed!.get(1) as unknown as { result: { content: Array<{ text: string }> } }).result.content[0]!.text, 'charged');
});

test('file store: the log is compacted when it outgrows max(2 × live records, compactBytes), so it stays bounded; retired records stay retired', async () => {
  const { store, logFile } = await fileStore();
  const compactBytes = 8 * 1024;
  const j = new Journal(server(), store, new TestClock(), nullLogger, { maxCompleted: 10, compactBytes });
  await j.restore(new Map());
  const s = new Session('s1');
  const text = 'y'.repeat(200);
  let largest = 0;
  let renamed = 0;
  let ino = -1;
  for (let round = 0; round < 40; round++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => j.settle(inc(s, round * 8 + i, 'record'), resultResponse(round * 8 + i, { content: [{ type: 'text', text }] }))));
    const st = await stat(logFile);
    largest = Math.max(largest, st.size);
    if (ino !== -1 && st.ino !== ino) renamed++;
    ino = st.ino;
  }
  // 320 outcomes of ~300 bytes (~100 KB appended): without compaction the file would hold them all.
  assert.ok(renamed >= 3, `compacted ${renamed} times`);
  assert.ok(largest <= compactBytes + 8 * 400, `largest file ${largest} bytes, bound ${compactBytes} + one batch`);
  const restored = new Session('s1');
  const r = await new Journal(server(), store, new TestClock(), nullLogger, { maxCompleted: 10, compactBytes }).restore(new Map([['s1', restored]]));
  assert.deepEqual(r, { completed: 10, interrupted: 0 }, 'only the 10 kept outcomes come back');
  assert.ok(restored.completed!.has(319) && !restored.completed!.has(309), 'the newest ten');
});

test('file store: a torn last line and corrupt lines are skipped and logged, earlier lines kept; the next append starts on a fresh line', async () => {
  const { store, logFile } = await fileStore();
  const j = new Journal(server(), store, new TestClock(), nullLogger);
  await j.restore(new Map());
  const s = new Session('s1');
  await j.begin(inc(s, 'a', 'charge'));
  await j.settle(inc(s, 'a', 'charge'), resultResponse('a', { content: [] }));
  await j.begin(inc(s, 'b', 'charge'));
  // Hostile bytes in the middle, then a line torn by a crash mid-append.
  await appendFile(logFile, 'not a line\n0123456789abcdef {"s":"s1","id":"z","tool":"charge","at":1}\n\u0000\u00ff\u0001garbage\n');
  await appendFile(logFile, (await fileLines(logFile))[0]!.slice(0, 30));
  const log = recorder();
  const restored = new Session('s1');
  const j2 = new Journal(server(), new FileStore({ dir: join(logFile, '..', '..'), clock: new TestClock() }), new TestClock(), log);
  assert.deepEqual(await j2.restore(new Map([['s1', restored]])), { completed: 1, interrupted: 1 });
  assert.ok(restored.completed!.has('a') && restored.completed!.has('b') && !restored.completed!.has('z'));
  const skip = log.lines.find((l) => /journal file/.test(l.msg));
  assert.ok(skip, JSON.stringify(log.lines));
  assert.equal((skip.obj as { skipped: number }).skipped, 4, 'three bad lines and the torn tail');
  // Restore rewrote the log with the live records only.
  assert.equal((await fileLines(logFile)).length, 2);

  // The line log itself: appending (without reading first) to a file with a torn tail.
  const { store: s2, logFile: f2 } = await fileStore();
  await s2.lineLog!(JOURNAL_NS, JOURNAL_KEY).append(['{"one":1}']);
  await appendFile(f2, 'abcdef0123456789 {"torn"');
  const fresh = new FileStore({ dir: join(f2, '..', '..') });
  await fresh.lineLog(JOURNAL_NS, JOURNAL_KEY).append(['{"two":2}', '{"three":3}']);
  const back = await fresh.lineLog(JOURNAL_NS, JOURNAL_KEY).read();
  assert.deepEqual(back.lines, ['{"one":1}', '{"two":2}', '{"three":3}'], 'the appended lines did not glue onto the torn one');
  assert.equal(back.skipped, 1);
});

test('file store: the one-key journal of earlier versions is read once (interrupted and completed records), then replaced by the log', async () => {
  const { store, dir, logFile } = await fileStore();
  const old = [
    JSON.stringify({ s: 's1', id: 1, tool: 'charge', at: 999_000 }),
    JSON.stringify({ s: 's1', id: 2, tool: 'charge', at: 999_001, resp: { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'charged' }] } }, done: 999_002 }),
  ];
  await store.set(JOURNAL_NS, JOURNAL_KEY, old);
  const restored = new Session('s1');
  assert.deepEqual(await new Journal(server(), store, new TestClock(), nullLogger).restore(new Map([['s1', restored]])), { completed: 1, interrupted: 1 });
  assert.equal((restored.completed!.get(1) as { error: { data: { code: string } } }).error.data.code, 'ANDON_INTERRUPTED');
  assert.equal(await store.get(JOURNAL_NS, JOURNAL_KEY), undefined, 'the old key is deleted');
  await assert.rejects(stat(join(dir, JOURNAL_NS, `${JOURNAL_KEY}.json`)));
  assert.equal((await fileLines(logFile)).length, 2);
  // The next start reads the same answers from the log alone.
  const again = new Session('s1');
  assert.deepEqual(await new Journal(server(), new FileStore({ dir }), new TestClock(), nullLogger).restore(new Map([['s1', again]])), { completed: 2, interrupted: 0 });
  assert.equal((again.completed!.get(1) as { error: { data: { code: string } } }).error.data.code, 'ANDON_INTERRUPTED');
  assert.deepEqual(again.completed!.get(2), JSON.parse(old[1]!).resp);
});

test('file store: an append that fails refuses the call (ANDON_JOURNAL_FAILED) and leaves its id free; later appends work', async () => {
  const { store, logFile } = await fileStore();
  const j = new Journal(server(), store, new TestClock(), nullLogger);
  await j.restore(new Map());
  const s = new Session('s1');
  await j.begin(inc(s, 1, 'charge'));
  await rm(logFile);
  await mkdir(logFile); // the log cannot be opened for appending now
  await assert.rejects(j.begin(inc(s, 2, 'charge'))!, (e: { data: { code: string } }) => e.data.code === 'ANDON_JOURNAL_FAILED');
  await rm(logFile, { recursive: true });
  await j.begin(inc(s, 3, 'charge'));
  const restored = new Session('s1');
  assert.deepEqual(await new Journal(server(), new FileStore({ dir: join(logFile, '..', '..') }), new TestClock(), nullLogger).restore(new Map([['s1', restored]])), { completed: 0, interrupted: 1 });
  assert.deepEqual([...restored.completed!.keys()], [3], 'the refused id 2 left no record (1 went with the file removed by the test)');
});

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { dirs, procs } = nodeFleet(MODULE);

test('kill -9 of a real node: acknowledged write-aheads and outcomes in the appended log survive, a torn tail is ignored; appends after the restart survive the next kill', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-jfile-node-'));
  dirs.push(stateDir);
  const execLog = join(stateDir, 'executions.log');
  const env = { CORD_LOG: execLog };
  const logFile = join(stateDir, JOURNAL_NS, `${JOURNAL_KEY}.lines`);
  const executions = async (tag: string) => (await readFile(execLog, 'utf8').catch(() => '')).split('\n').filter((l) => l === tag).length;
  const boot = async () => {
    const n = await startNode(MODULE, { stateDir, port: await freePort(), opsPort: await freePort(), env });
    procs.push(n);
    return n;
  };
  let node = await boot();
  const s = new Session2025(node.url);
  await s.initialize();
  const call = (url: string, id: string, name: string, ms = 0) => post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { ms, tag: id } } }, s.headers());
  for (let i = 0; i < 5; i++) assert.equal((await call(node.url, `d-${i}`, 'charge')).response.result.content[0].text, `charged d-${i}`);
  void call(node.url, 'c-1', 'charge', 60_000).catch(() => null);
  for (let i = 0; i < 500 && (await executions('charge c-1')) === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await executions('charge c-1'), 1, 'the long call started');
  node.child.kill('SIGKILL');
  await node.exited;
  assert.equal((await fileLines(logFile)).length, 11, 'five write-aheads, five outcomes, one write-ahead in flight: appended lines');
  await assert.rejects(stat(join(stateDir, JOURNAL_NS, `${JOURNAL_KEY}.json`)));
  // A crash in the middle of the next append.
  await appendFile(logFile, '3f2a9c0d1e4b5a6c {"s":"' + s.sessionId + '","id":"d-9","tool":"charge","at":1');

  node = await boot();
  assert.match(node.stderr(), /torn last line of the journal file/);
  for (let i = 0; i < 5; i++) assert.equal((await call(node.url, `d-${i}`, 'charge')).response.result.content[0].text, `charged d-${i}`, 'answered from the record');
  const c1 = (await call(node.url, 'c-1', 'charge')).response;
  assert.equal(c1.error?.data?.code, 'ANDON_INTERRUPTED', JSON.stringify(c1));
  assert.equal((await call(node.url, 'n-1', 'charge')).response.result.content[0].text, 'charged n-1');
  node.child.kill('SIGKILL');
  await node.exited;

  node = await boot();
  assert.equal((await call(node.url, 'n-1', 'charge')).response.result.content[0].text, 'charged n-1', 'appended after a compaction, still there');
  assert.equal((await call(node.url, 'c-1', 'charge')).response.error?.data?.code, 'ANDON_INTERRUPTED');
  for (let i = 0; i < 5; i++) assert.equal(await executions(`charge d-${i}`), 1, `d-${i} ran once`);
  assert.equal(await executions('charge c-1'), 1);
  assert.equal(await executions('charge n-1'), 1);
  node.child.kill('SIGTERM');
  await node.exited;
});
