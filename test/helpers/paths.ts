/** Paths in the repository, resolved from the compiled test file (dist/test/...) or the source. */
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { existsSync, mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'test/fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

/** The repository root. */
export const ROOT = findRoot();
/** Compiled output root. */
export const DIST = resolve(ROOT, 'dist');
/** The compiled CLI. */
export const CLI = resolve(DIST, 'src/cli/andon.js');

/**
 * State directory for servers the tests spawn. Passed as --state-dir explicitly because some
 * spawners (the official SDK's stdio transport) pass the child only a whitelist of env variables.
 */
export const TEST_STATE_DIR = process.env.ANDON_STATE_DIR || mkdtempSync(join(tmpdir(), 'andon-test-'));
