/**
 * Issue 15, docs/architecture.md stays true: every backticked `src/…` (and `dashboard/`, `eslint/`,
 * `test/`) path exists; the admission phases are listed in the order src/admission/pipeline.ts
 * runs them (in the text, the table and the picture); the layer table is eslint/architecture.js's
 * list in its order; the pipeline picture exists, is well-formed SVG and names every phase; and the
 * relative links of the operator guides and README.md resolve to files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/paths.js';
import { PHASES } from '../../src/admission/pipeline.js';

const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

test('every path docs/architecture.md cites exists', () => {
  const paths = new Set([...doc.matchAll(/`((?:src|dashboard|eslint|test)\/[^`\s…]*)`/g)].map((m) => m[1]!));
  assert.ok(paths.size >= 60, `only ${paths.size} paths cited`);
  const missing = [...paths].filter((p) => !existsSync(join(ROOT, p)));
  assert.deepEqual(missing, []);
  const svg = readFileSync(join(ROOT, 'docs/images/pipeline.svg'), 'utf8');
  const inSvg = new Set([...svg.matchAll(/\bsrc\/[\w./-]+\.ts\b/g)].map((m) => m[0]));
  for (const p of inSvg) assert.ok(existsSync(join(ROOT, p)), `docs/images/pipeline.svg cites ${p}, which does not exist`);
});

test('the admission phases are in the order the pipeline runs them', () => {
  assert.ok(doc.includes(PHASES.join(' → ')), `the text lists \`${PHASES.join(' → ')}\``);
  const table = [...doc.matchAll(/^\s*\| `(\w+)` \| .* \| `src\/[^|]*\|$/gm)].map((m) => m[1]!);
  assert.deepEqual(table, [...PHASES], 'the phase table, in order');
  const svg = readFileSync(join(ROOT, 'docs/images/pipeline.svg'), 'utf8');
  const boxes = [...svg.matchAll(/<text class="title" x="(\d+)" y="218">(\w+)<\/text>/g)].sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2]!);
  assert.deepEqual(boxes, [...PHASES], 'the picture draws the phases left to right in order');
});

test('the layer table is eslint/architecture.js, in order', async () => {
  const { layers } = (await import(pathToFileURL(join(ROOT, 'eslint/architecture.js')).href)) as { layers: Array<{ name: string; paths: string[] }> };
  const rows = [...doc.matchAll(/^\| (\d+) \| ([\w-]+) \| (.*) \|$/gm)].map((m) => ({ n: Number(m[1]), name: m[2]!, paths: [...m[3]!.matchAll(/`([^`]+)`/g)].map((p) => p[1]!) }));
  assert.deepEqual(
    rows.map((r) => r.name),
    layers.map((l) => l.name),
  );
  rows.forEach((r, i) => assert.deepEqual(r.paths, layers[i]!.paths, `layer ${r.name}: paths`));
});

test('the pipeline picture is well-formed SVG and is shown by the document', () => {
  const svg = readFileSync(join(ROOT, 'docs/images/pipeline.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\s*$/);
  // Balanced elements: every opening tag that is not self-closing is closed.
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) assert.equal(stack.pop(), m[2], `</${m[2]}> closes the open element`);
    else stack.push(m[2]!);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  assert.match(doc, /!\[[^\]]+\]\(images\/pipeline\.svg\)/);
});

test('relative links in the operator guides resolve', () => {
  const problems: string[] = [];
  for (const f of ['docs/architecture.md', 'docs/quickstart.md', 'docs/common-errors.md', 'docs/tuning.md', 'docs/runbooks/README.md', 'README.md']) {
    const file = join(ROOT, f);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)\s]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(dirname(file), target))) problems.push(`${f}: ${target}`);
    }
  }
  assert.deepEqual(problems, []);
});
