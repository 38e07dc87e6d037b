/**
 * FileStore on a state directory someone else has been in: files where directories belong,
 * directories where files belong, unreadable entries, names it never wrote. A read never throws
 * for what it finds; it moves it aside, reports it, and goes on.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FileStore } from '../../src/store/file-store.js';
import type { QuarantineReport } from '../../src/store/store.js';
import { checkHaltRecord, checkJournal, checkSessionBucket } from '../../src/store/records.js';
import { events, publishQuarantine, takeHeldQuarantines } from '../../src/events/index.js';

const run = promisify(execFile);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<{ s: FileStore; dir: string; reports: QuarantineReport[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'andon-layout-'));
  dirs.push(dir);
  const reports: QuarantineReport[] = [];
  const s = new FileStore({ dir, onQuarantine: (r) => reports.push(r) });
  await s.open();
  return { s, dir, reports };
}

describe('FileStore layout faults', () => {
  test('a file where a namespace directory belongs: list answers [] and moves it aside; the next write succeeds', async () => {
    const { s, dir, reports } = await store();
    await writeFile(join(dir, 'sessions'), 'not a directory');
    assert.deepEqual(await s.list('sessions'), []);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.key, '-');
    assert.match(reports[0]!.reason, /a file where a namespace directory belongs/);
    await s.set('sessions', '3', {});
    assert.ok((await stat(join(dir, 'sessions'))).isDirectory());
    assert.deepEqual(await s.get('sessions', '3'), {});
  });

  test('get under a namespace that is a file moves the file aside and answers undefined', async () => {
    const { s, dir, reports } = await store();
    await writeFile(join(dir, 'journal'), 'x');
    assert.equal(await s.get('journal', 'inflight'), undefined);
    assert.deepEqual(reports.map((r) => [r.ns, r.key, r.reason]), [['journal', '-', 'a file where a namespace directory belongs']]);
    assert.ok((await readdir(join(dir, 'quarantine'))).some((f) => f.startsWith('journal__-')));
  });

  test('a file where a namespace directory belongs is moved aside by a write too', async () => {
    const { s, dir, reports } = await store();
    await writeFile(join(dir, 'journal'), 'x');
    await s.set('journal', 'inflight', []);
    assert.deepEqual(await s.get('journal', 'inflight'), []);
    assert.match(reports[0]!.reason, /a file where a directory belongs/);
  });

  test('a directory where a record file belongs is quarantined, and the rest of the namespace loads', async () => {
    const { s, dir, reports } = await store();
    await s.set('things', 'ok', 1);
    await mkdir(join(dir, 'things', 'dir.json'));
    assert.deepEqual((await s.list('things')).map((e) => e.key), ['ok']);
    assert.match(reports[0]!.reason, /a directory where a record file belongs/);
    assert.ok((await readdir(join(dir, 'quarantine'))).some((f) => f.startsWith('things__dir')));
  });

  test('a file name the store never wrote (undecodable) is quarantined', async () => {
    const { s, dir, reports } = await store();
    await mkdir(join(dir, 'things'));
    await writeFile(join(dir, 'things', '%E0%A4%A.json'), '{}');
    assert.deepEqual(await s.list('things'), []);
    assert.match(reports[0]!.reason, /not an encoded key/);
  });

  test('an unreadable record file is reported, not thrown', async () => {
    const { s, dir, reports } = await store();
    await s.set('things', 'locked', 1);
    await chmod(join(dir, 'things', 'locked.json'), 0o000);
    if (process.getuid?.() !== 0) {
      assert.equal(await s.get('things', 'locked'), undefined);
      assert.match(reports[0]!.reason, /unreadable \(EACCES\)/);
      return;
    }
    // Root reads every file whatever its mode (and CI runs as root): read as "nobody" instead.
    await chmod(dir, 0o777);
    await chmod(join(dir, 'things'), 0o777);
    const storeUrl = new URL('../../src/store/file-store.js', import.meta.url).href;
    const script = `import { FileStore } from ${JSON.stringify(storeUrl)};
      const reasons = [];
      const s = new FileStore({ dir: ${JSON.stringify(dir)}, onQuarantine: (r) => reasons.push(r.reason) });
      await s.open();
      const value = await s.get('things', 'locked');
      process.stdout.write(JSON.stringify({ value: value ?? null, reasons }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534 });
    const out = JSON.parse(stdout) as { value: unknown; reasons: string[] };
    assert.equal(out.value, null);
    assert.match(out.reasons[0]!, /unreadable \(EACCES\)/);
  });

  test('a quarantine directory that is a file is moved aside too', async () => {
    const { s, dir, reports } = await store();
    await writeFile(join(dir, 'quarantine'), 'x');
    await mkdir(join(dir, 'things'));
    await writeFile(join(dir, 'things', 'k.json'), 'garbage');
    assert.equal(await s.get('things', 'k'), undefined);
    assert.ok((await stat(join(dir, 'quarantine'))).isDirectory());
    assert.equal(reports.length, 2);
    assert.match(reports[1]!.reason, /not valid JSON/);
  });

  test('default checks cover halt records, session buckets and the journal', async () => {
    const { s, reports } = await store();
    await s.set('halt', 'tool:x', { state: 'halted_manual' });
    await s.set('sessions', '1', { a: { id: 'a', protocolVersion: '2025-06-18', clientCapabilities: {}, subscriptions: [1] } });
    await s.set('journal', 'inflight', [{ sessionId: 's', requestId: null, tool: 't', arguments: {}, protocolVersion: 'v' }]);
    assert.deepEqual(await s.list('halt'), []);
    assert.deepEqual(await s.list('sessions'), []);
    assert.equal(await s.get('journal', 'inflight'), undefined);
    assert.deepEqual(
      reports.map((r) => [r.ns, r.reason]),
      [
        ['halt', 'wrong shape: reason: missing'],
        ['sessions', 'wrong shape: a.subscriptions: expected strings'],
        ['journal', 'wrong shape: [0].requestId: expected string or number'],
      ],
    );
  });
});

describe('record checks', () => {
  test('accept what the runtime writes, extra fields included', () => {
    assert.equal(checkHaltRecord({ id: 'tool:a', state: 'halted_fatal', reason: 'r', since: 1, by: 'sup', extra: true }), null);
    assert.equal(checkSessionBucket({ s: { id: 's', protocolVersion: 'v', clientCapabilities: {}, subscriptions: ['u'], lastActivity: 1, completed: [[1, { jsonrpc: '2.0', id: 1, result: {} }]] } }), null);
    assert.equal(checkJournal([{ sessionId: 's', requestId: 3, tool: 't', arguments: {}, protocolVersion: 'v' }]), null);
  });
  test('name the first problem with its path', () => {
    assert.equal(checkHaltRecord(null), 'expected an object');
    assert.equal(checkHaltRecord({ state: 'halted_manual', reason: 'r', since: 'yesterday' }), 'since: expected number, got string');
    assert.equal(checkSessionBucket([]), 'expected an object of sessions');
    assert.equal(checkJournal({}), 'expected an array of journal entries');
  });
});

describe('held quarantine reports', () => {
  test('reports published while nobody listens are held (bounded) and taken once', () => {
    takeHeldQuarantines();
    assert.equal(events.quarantine.hasSubscribers, false);
    for (let i = 0; i < 70; i++) publishQuarantine({ ns: 'x', key: String(i), file: 'f', reason: 'r' });
    const held = takeHeldQuarantines();
    assert.equal(held.length, 64);
    assert.equal(held[0]!.key, '6', 'the oldest go first');
    assert.deepEqual(takeHeldQuarantines(), []);
    const seen: unknown[] = [];
    const sub = (m: unknown) => seen.push(m);
    events.quarantine.subscribe(sub);
    publishQuarantine({ ns: 'x', key: 'live', file: 'f', reason: 'r' });
    events.quarantine.unsubscribe(sub);
    assert.equal(seen.length, 1);
    assert.deepEqual(takeHeldQuarantines(), []);
  });
});
