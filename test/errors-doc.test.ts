/** Keeps docs/errors.md in step with the error codes the code defines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { ErrorCode } from '../src/protocol/errors.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('docs/errors.md lists every wire and local error code, and nothing that does not exist', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const src = sources(join(ROOT, 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.match(doc, new RegExp(`\\| ${code} \\| ${name} \\|`), `wire error ${name} (${code}) is documented`);
  }
  const local = [...src.matchAll(/readonly code = '([A-Z_]+)'/g)].map((m) => m[1]!);
  assert.ok(local.length >= 4);
  for (const c of local) assert.ok(doc.includes(`\`${c}\``), `local error ${c} is documented`);
  const clientBlock = /export type ClientErrorCode =([\s\S]*?)';\n/.exec(src)![1]! + "'";
  const client = [...clientBlock.matchAll(/\| '([A-Z_]+)'/g)].map((m) => m[1]!);
  assert.ok(client.length >= 15);
  for (const c of client) assert.ok(doc.includes(`\`${c}\``), `client error ${c} is documented`);
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
  // Catalogue entries (`defineError({ code: 'ANDON_…' })`) count as existing too.
  const catalogued = [...src.matchAll(/code: '(ANDON_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
  for (const c of documented) assert.ok(local.includes(c) || client.includes(c) || catalogued.includes(c), `documented code ${c} exists in src/`);
});
