/**
 * Every environment variable src/ reads for a runtime setting is an override in ENV_BINDINGS
 * (so the loader applies it with the right precedence, validates it, and docs/configuration.md
 * lists it). Secrets and the operator CLI's own variables are the listed exceptions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { ALERTS_ENV, CONFIG_ENV, ENV_BINDINGS } from '../../src/config/env.js';

/**
 * Not settings: a secret, what the operator CLI (a client of the ops API) reads, and Node's own
 * flags (the resource guardian reads `--max-old-space-size` from NODE_OPTIONS as the heap limit).
 */
const NOT_SETTINGS = new Set(['ANDON_ADMIN_TOKEN', 'ANDON_OPS_URL', 'USER', 'NODE_OPTIONS']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every environment variable read in src/ is a documented override (or a secret)', () => {
  const known = new Set([...ENV_BINDINGS.map((b) => b.name), CONFIG_ENV, ALERTS_ENV, ...NOT_SETTINGS]);
  const read = new Map<string, string>();
  for (const f of sources(join(ROOT, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)|envInt\('([A-Z][A-Z0-9_]*)'\)/g)) read.set(m[1] ?? m[2]!, f.slice(ROOT.length + 1));
  }
  assert.ok(read.size >= 8, `found ${read.size} variables`);
  for (const [name, file] of read) assert.ok(known.has(name), `${name} (read in ${file}) is in ENV_BINDINGS of src/config/env.ts, or listed as not a setting`);
  const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  for (const name of known) if (!NOT_SETTINGS.has(name) || name === 'ANDON_ADMIN_TOKEN') assert.ok(doc.includes(`\`${name}\``), `${name} is in docs/configuration.md`);
});
