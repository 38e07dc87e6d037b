/**
 * The log file's pending output is capped by `maxBufferBytes` too (the stderr cap is tested
 * through a real stdio node in test/transports/log-bounds.test.ts): lines written while the file
 * is behind by more than the cap are dropped, and the next line that fits is preceded by one
 * `log.dropped` line with the count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/util/logger.js';

test('lines past logging.maxBufferBytes waiting for the file are dropped and counted in the file', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'andon-log-buffer-')), 'andon.log');
  const log = createLogger({ file, level: 'info', maxBufferBytes: 64 * 1024, maxBytes: 1024 * 1024 * 1024 });
  const pad = 'z'.repeat(4000);
  // One synchronous burst: no file write completes meanwhile, so the pending output only grows.
  for (let i = 0; i < 200; i++) log.info({ i, pad }, 'burst');
  await new Promise<void>((r) => log.flush(() => r()));
  log.info({ after: true }, 'after the burst');
  await new Promise<void>((r) => log.flush(() => r()));
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i?: number; event?: string; lines?: number; after?: boolean });
  const kept = lines.filter((l) => l.i !== undefined).length;
  const warning = lines.find((l) => l.event === 'log.dropped');
  assert.ok(kept >= 10 && kept <= 20, `about 64 KiB of 4 KB lines kept, got ${kept}`);
  assert.ok(warning, 'a log.dropped line was written');
  assert.equal(warning.lines, 200 - kept, 'every dropped line is counted');
  assert.ok(lines.indexOf(warning) === lines.findIndex((l) => l.after) - 1, 'the warning precedes the next line written');
});
