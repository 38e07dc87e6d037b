/** The conformance runners' verdict: any FAILURE or WARNING check fails a run, scored or not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCheck, problems, readBaseline, readChecks } from './suite.js';

test('readChecks reads every checks.json with its scenario; problems() keeps each FAILURE and WARNING', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-checks-'));
  try {
    mkdirSync(join(dir, 'server-tools-call-2026-12-02T01-00-00'), { recursive: true });
    mkdirSync(join(dir, 'server-ping-2026-12-02T01-00-01'), { recursive: true });
    writeFileSync(join(dir, 'server-tools-call-2026-12-02T01-00-00/checks.json'), JSON.stringify([{ id: 'a', status: 'SUCCESS' }, { id: 'b', status: 'WARNING', errorMessage: 'unscored\nwarning' }]));
    writeFileSync(join(dir, 'server-ping-2026-12-02T01-00-01/checks.json'), JSON.stringify([{ id: 'c', status: 'FAILURE' }, { id: 'd', status: 'INFO' }, { id: 'e', status: 'SKIPPED' }]));
    const checks = readChecks(dir);
    assert.equal(checks.length, 5);
    const bad = problems(checks).sort((x, y) => x.id.localeCompare(y.id));
    assert.deepEqual(bad.map((c) => `${c.scenario}:${c.id}:${c.status}`), ['tools-call:b:WARNING', 'ping:c:FAILURE']);
    assert.equal(describeCheck(bad[0]!), 'WARNING tools-call:b — unscored warning');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readBaseline reads one section of the baseline file, with reasons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-baseline-'));
  try {
    const file = join(dir, 'b.yaml');
    writeFileSync(file, '# comment\nserver:\n  - tools-call # known gap\nclient:\n  - auth/x@2025-11-25\n');
    assert.deepEqual([...readBaseline(file, 'server')], [['tools-call', 'known gap']]);
    assert.deepEqual([...readBaseline(file, 'client')], [['auth/x@2025-11-25', '']]);
    assert.equal(readBaseline(join(dir, 'missing.yaml'), 'server').size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
