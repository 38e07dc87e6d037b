/** docs/configuration.md and andon.config.example.yaml against the schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { schemaKeyPaths } from '../../src/config/keys.js';
import { ENV_BINDINGS } from '../../src/config/env.js';
import { isReloadable } from '../../src/config/reload.js';
import { loadConfig } from '../../src/config/load.js';

interface Row {
  key: string;
  env: string;
  reloads: string;
}

function rows(): Row[] {
  const all = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  // Only the "## Keys" section lists keys; other tables (plain environment variables) do not.
  const start = all.indexOf('\n## Keys');
  assert.ok(start > 0, 'docs/configuration.md has a "## Keys" section');
  const end = all.indexOf('\n## ', start + 1);
  const doc = all.slice(start, end < 0 ? undefined : end);
  return [...doc.matchAll(/^\| `([^`]+)` \|(.*)$/gm)].map((m) => {
    const cells = m[2]!.split(' | ').map((c) => c.trim());
    // key | type | default | env | reloads | meaning
    return { key: m[1]!, env: cells[2] ?? '', reloads: cells[3] ?? '' };
  });
}

test('every schema key is documented, and every documented key exists', () => {
  const documented = rows().map((r) => r.key);
  const keys = schemaKeyPaths();
  assert.ok(keys.length > 60);
  for (const k of keys) assert.ok(documented.includes(k), `${k} is documented in docs/configuration.md`);
  for (const k of documented) assert.ok(keys.includes(k), `documented key ${k} exists in the schema`);
  assert.equal(new Set(documented).size, documented.length, 'each key documented once');
});

test('the docs name each key\'s environment override and whether it reloads', () => {
  const byKey = new Map(rows().map((r) => [r.key, r]));
  for (const b of ENV_BINDINGS) assert.ok(byKey.get(b.path)?.env.includes(`\`${b.name}\``), `${b.path} row names ${b.name}`);
  for (const [k, r] of byKey) {
    assert.equal(r.reloads, isReloadable(k) ? 'yes' : 'no', `${k}: reloads column`);
    const names = [...r.env.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    for (const n of names) assert.ok(ENV_BINDINGS.some((b) => b.name === n && (b.path === k || k === 'ops.enabled')) || n === 'ANDON_ALERTS_CONFIG', `${k}: ${n} is an override of this key`);
  }
});

test('andon.config.example.yaml validates', () => {
  const { config, file } = loadConfig({ file: join(ROOT, 'andon.config.example.yaml'), env: {} });
  assert.ok(file?.endsWith('andon.config.example.yaml'));
  assert.ok(config.alerts && Object.keys(config.alerts.channels).length >= 3);
});
