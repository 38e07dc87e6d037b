/**
 * Issue 15, the runbook set: every runbook named by the issues exists, the index links every
 * runbook, each has trigger / impact / immediate actions / investigation / resolution and at least
 * one exact `andon` command, every `andon …` line in them is a command the real CLI accepts
 * (commands, subcommands, options, argument count, checked against the commander program of
 * src/cli/andon.ts), and every metric and alert title they cite is one src/ emits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { andonLines, andonProgram, checkAndonLine, shellWords } from '../helpers/cli-commands.js';
import { metricProblems, srcText } from '../helpers/doc-refs.js';

const DIR = join(ROOT, 'docs/runbooks');
const NAMED = ['RECOVERY_EXHAUSTED', 'CIRCUIT_BREAKER_OPEN', 'SYSTEM_DEGRADED', 'EMERGENCY_SHUTDOWN', 'CASCADING_FAILURES', 'RATE_LIMITED', 'ROLLBACK', 'SESSION_FAILOVER', 'STORE_FAILOVER', 'NETWORK_PARTITION', 'component-halted'];
const SECTIONS: Array<[string, RegExp]> = [
  ['Trigger', /^##\s+(\d+\.\s+)?Trigger\b/im],
  ['Impact', /^##\s+(\d+\.\s+)?Impact\b/im],
  ['Immediate actions', /^##\s+(\d+\.\s+)?Immediate actions\b/im],
  ['Investigation', /^##\s+(\d+\.\s+)?Investigation\b/im],
  ['Resolution', /^##\s+(\d+\.\s+)?Resolution\b/im],
];

const runbooks = readdirSync(DIR).filter((f) => f.endsWith('.md') && f !== 'README.md');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

test('every runbook named by the issues exists', () => {
  for (const name of NAMED) assert.ok(runbooks.includes(`${name}.md`), `docs/runbooks/${name}.md is missing`);
});

test('the index (docs/runbooks/README.md) links every runbook, and every link resolves', () => {
  const index = read('README.md');
  const links = [...index.matchAll(/\]\(([^)#]+\.md)(#[^)]*)?\)/g)].map((m) => m[1]!);
  for (const f of runbooks) assert.ok(links.includes(f), `docs/runbooks/README.md does not link ${f}`);
  for (const l of links) assert.doesNotThrow(() => readFileSync(join(DIR, l)), `docs/runbooks/README.md links ${l}, which does not exist`);
});

test('every runbook has trigger, impact, immediate actions, investigation, resolution and andon commands', () => {
  for (const f of runbooks) {
    const text = read(f);
    for (const [name, re] of SECTIONS) assert.match(text, re, `${f} has no "## ${name}" section`);
    const fenced = andonLines(text.replace(/`andon [^`]+`/g, ''));
    assert.ok(fenced.length > 0, `${f} has no andon command in a code block`);
  }
});

test('every andon command line in the runbooks is accepted by the real CLI', async () => {
  const program = await andonProgram();
  const problems: string[] = [];
  let checked = 0;
  for (const f of [...runbooks, 'README.md']) {
    for (const { line, loose } of andonLines(read(f))) {
      const words = shellWords(line);
      assert.equal(words[0], 'andon');
      for (const p of checkAndonLine(program, words.slice(1), { loose })) problems.push(`${f}: \`${line}\`: ${p}`);
      checked++;
    }
  }
  assert.ok(checked >= 40, `only ${checked} andon lines found`);
  assert.deepEqual(problems, []);
});

test('the command checker itself refuses what commander refuses', async () => {
  const program = await andonProgram();
  const check = (line: string) => checkAndonLine(program, shellWords(line).slice(1));
  assert.deepEqual(check('andon halt tool:x --reason "a b"'), []);
  assert.deepEqual(check('andon breakers open downstream:db --reason "x" # comment'), []);
  assert.notDeepEqual(check('andon halt tool:x --because "a b"'), [], 'unknown option');
  assert.notDeepEqual(check('andon haltt tool:x'), [], 'unknown command');
  assert.notDeepEqual(check('andon breakers frobnicate x'), [], 'unknown subcommand');
  assert.notDeepEqual(check('andon halt'), [], 'missing argument');
  assert.notDeepEqual(check('andon status extra'), [], 'excess argument');
  assert.deepEqual(check('andon breakers --json'), [], 'the default subcommand (list) takes the options');
  assert.notDeepEqual(check('andon breakers --bogus'), [], 'the default subcommand has no such option');
});

test('every metric and alert title the runbooks cite exists in src/', () => {
  const src = srcText();
  const problems: string[] = [];
  for (const f of [...runbooks, 'README.md']) {
    const text = read(f);
    problems.push(...metricProblems(text).map((p) => `${f}: ${p}`));
    for (const title of alertTitles(text)) if (!src.includes(title)) problems.push(`${f}: alert "${title}…" is not raised anywhere in src/`);
  }
  assert.deepEqual(problems, []);
});

/**
 * The literal start of every alert title cited as **"Title…"** or after the word "alert":
 * up to and including its first ": " (the rest names the component), backticks removed.
 */
function alertTitles(text: string): string[] {
  const out = new Set<string>();
  const quoted = [...text.matchAll(/\*\*"([^"]+)"\*\*/g), ...text.matchAll(/[Aa]lerts? \*{0,2}"([^"]+)"/g)].map((m) => m[1]!.replace(/`/g, ''));
  for (const q of quoted) {
    if (!/^[A-Z][a-z]+ [a-z]/.test(q)) continue;
    const colon = q.indexOf(': ');
    out.add(colon === -1 ? q.replace(/[.…]+$/, '') : q.slice(0, colon + 2));
  }
  return [...out];
}
