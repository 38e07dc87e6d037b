/** Paths in the repository, resolved from the compiled test file (dist/test/...) or the source. */
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
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
