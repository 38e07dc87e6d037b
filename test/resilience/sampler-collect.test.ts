/**
 * The process sampler's `collect()` (a full GC while the guardian is degraded by the heap), in a
 * child process: garbage left on the heap is collected, and the experimental API it uses does not
 * print its ExperimentalWarning on stderr (which carries the JSON log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST } from '../helpers/paths.js';

const SAMPLER = join(DIST, 'src/resilience/sampler.js');

test('collect() frees garbage without printing an ExperimentalWarning; other warnings still print', () => {
  const script = `
    import { processSampler } from ${JSON.stringify(SAMPLER)};
    const s = processSampler();
    let junk = [];
    for (let i = 0; i < 200_000; i++) junk.push({ i, s: 'x'.repeat(20) + i });
    junk = null;
    const before = process.memoryUsage().heapUsed;
    s.collect();
    await new Promise((r) => setTimeout(r, 500));
    const after = process.memoryUsage().heapUsed;
    process.emitWarning('a user warning', 'UserWarning');
    process.stdout.write(JSON.stringify({ before, after }));
    s.close?.();
    setTimeout(() => process.exit(0), 200);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  assert.ok(after < before - 5 * 1024 * 1024, `heap ${before} → ${after}: the garbage was collected`);
  assert.doesNotMatch(r.stderr, /ExperimentalWarning|measureMemory/);
  assert.match(r.stderr, /UserWarning: a user warning/, 'other warnings are not swallowed');
});
