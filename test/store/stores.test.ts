import { test, describe } from 'node:test';
import { systemClock, type Clock } from '../../src/util/clock.js';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { storeContract } from './contract.js';

/** The contract drives time through a `now` function; the stores take a Clock. */
const clockOf = (now: () => number): Clock => ({ ...systemClock, now });

storeContract('MemoryStore', async (now) => ({ store: new MemoryStore(clockOf(now)), cleanup: async () => {} }));
storeContract('FileStore', async (now) => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-store-'));
  return { store: new FileStore({ dir, clock: clockOf(now) }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('FileStore crash safety', () => {
  test('files carry a SHA-256 checksum and schema tag, with mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andon-store-'));
    try {
      const s = new FileStore({ dir });
      await s.open();
      await s.set('halt', 'tool:echo', { state: 'halted_manual' });
      const text = await readFile(join(dir, 'halt', 'tool%3Aecho.json'), 'utf8');
      const env = JSON.parse(text);
      assert.equal(env.schema, 'andon-store/1');
      assert.match(env.sha256, /^[0-9a-f]{64}$/);
      const { statSync } = await import('node:fs');
      assert.equal(statSync(join(dir, 'halt', 'tool%3Aecho.json')).mode & 0o777, 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a torn write (temp file left by a crash) leaves the previous value, and the temp is cleaned up on open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andon-store-'));
    try {
      const s = new FileStore({ dir });
      await s.open();
      await s.set('state', 'k', { v: 'good' });
      // What a process killed between write and rename leaves behind: a partial temp file.
      await writeFile(join(dir, 'state', 'k.json.tmp-deadbeef'), '{"schema":"andon-store/1","sha256":"ab');
      const s2 = new FileStore({ dir });
      await s2.open();
      assert.deepEqual(await s2.get('state', 'k'), { v: 'good' });
      assert.deepEqual(await readdir(join(dir, 'state')), ['k.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a corrupted file is quarantined and reported, never half-loaded or silently reset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andon-store-'));
    try {
      const reports: Array<{ key: string; reason: string }> = [];
      const s = new FileStore({ dir, onQuarantine: (r) => reports.push(r) });
      await s.open();
      await s.set('state', 'edited', { n: 1 });
      await s.set('state', 'garbage', { n: 2 });
      await s.set('state', 'fine', { n: 3 });
      const f = join(dir, 'state', 'edited.json');
      const env = JSON.parse(await readFile(f, 'utf8'));
      env.payload = env.payload.replace('1', '7');
      await writeFile(f, JSON.stringify(env));
      await writeFile(join(dir, 'state', 'garbage.json'), 'not json at all');
      const listed = await s.list('state');
      assert.deepEqual(listed.map((e) => e.key), ['fine']);
      assert.equal(reports.length, 2);
      assert.match(reports.find((r) => r.key === 'edited')!.reason, /checksum mismatch/);
      assert.match(reports.find((r) => r.key === 'garbage')!.reason, /not valid JSON/);
      assert.equal((await readdir(join(dir, 'quarantine'))).length, 2);
      assert.equal(await s.get('state', 'edited'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
