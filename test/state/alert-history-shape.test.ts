/** The alert history checks each persisted entry's shape: a bad one is left out and reported. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertHistory, HISTORY_FILE, readHistoryFile } from '../../src/observability/alerts/history.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const good = { id: 'a1', action: 'trigger', severity: 'critical', title: 'x', component: 'c', incident: 'i', context: {}, time: '2026-01-01T00:00:00.000Z', test: false, status: 'sent', suppressed: 0, deliveries: [] };

test('entries of the wrong shape are left out with a report; the good ones load', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-hist-'));
  dirs.push(dir);
  await writeFile(join(dir, HISTORY_FILE), JSON.stringify({ entries: [good, 42, { ...good, id: 'a2', severity: 'loud' }, { ...good, id: 'a3' }] }));
  const errors: Error[] = [];
  const h = new AlertHistory({ stateDir: dir, onError: (e) => errors.push(e) });
  assert.deepEqual(h.list(10).map((r) => r.id), ['a1', 'a3']);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /2 entries of the wrong shape left out \(first: \[1\]\.expected an object\)/);
});

test('a history whose entries are not an array is an error the CLI can show, and the manager starts empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-hist-'));
  dirs.push(dir);
  await writeFile(join(dir, HISTORY_FILE), JSON.stringify({ entries: 'many' }));
  assert.throws(() => readHistoryFile(dir), /entries: expected an array/);
  const errors: Error[] = [];
  assert.deepEqual(new AlertHistory({ stateDir: dir, onError: (e) => errors.push(e) }).list(10), []);
  assert.equal(errors.length, 1);
});
