/**
 * Runs every client scenario of the official conformance suite (@modelcontextprotocol/conformance,
 * 0.2.0-alpha line) against the andon-mcp client, through test/conformance/client-driver.ts, at
 * every spec version each scenario applies to (extension scenarios at their default version).
 * Failures listed in client-expected-failures.yaml are expected; anything else failing, or a
 * listed scenario that now passes (stale baseline), exits 1. A run fails on any FAILURE or
 * WARNING check, scored or not (the suite's own exit code counts scored checks only).
 *
 *   --scenario <name>   run one scenario (all its versions)
 *   --concurrency <n>   parallel scenario runs (default 6)
 *   --verbose           print every failing check
 *
 * The suite needs Node 22 (see suite.ts for where it comes from); the driver runs on this Node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { describeCheck, problems, readBaseline, readChecks, runSuite } from './suite.js';

const DRIVER = resolve(ROOT, 'dist/test/conformance/client-driver.js');
const BASELINE = resolve(ROOT, 'test/conformance/client-expected-failures.yaml');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const only = arg('--scenario');
const concurrency = Number(arg('--concurrency') ?? 6);
const verbose = process.argv.includes('--verbose');


interface Job {
  scenario: string;
  version: string | undefined;
}

interface Outcome extends Job {
  passed: boolean;
  counts: { success: number; failure: number; warning: number };
  problems: string[];
  ms: number;
}

async function runJob(job: Job): Promise<Outcome> {
  const outDir = mkdtempSync(join(tmpdir(), 'andon-client-conf-'));
  const started = Date.now();
  const args = ['client', '--command', `${process.execPath} ${DRIVER}`, '--scenario', job.scenario, '-o', outDir, '--timeout', '30000'];
  if (job.version) args.push('--spec-version', job.version);
  const { code, out } = await runSuite(args, 120_000);
  const checks = readChecks(outDir);
  const bad = problems(checks);
  const counts = { success: checks.filter((c) => c.status === 'SUCCESS').length, failure: bad.filter((c) => c.status === 'FAILURE').length, warning: bad.filter((c) => c.status === 'WARNING').length };
  const lines = bad.map(describeCheck);
  if (code !== 0 && lines.length === 0) lines.push(`conformance exited ${code}: ${out.split('\n').filter((l) => /exited with code|timed out|Error/.test(l)).slice(0, 3).join(' | ') || out.slice(-300)}`);
  rmSync(outDir, { recursive: true, force: true });
  // The suite's exit code counts scored checks only: an unscored FAILURE or WARNING fails the job too.
  return { ...job, passed: code === 0 && bad.length === 0, counts, problems: lines, ms: Date.now() - started };
}

const listed = await runSuite(['list', '--client']);
const jobs: Job[] = [];
for (const line of listed.out.split('\n')) {
  const m = /^\s+-\s+(\S+)\s+\[([^\]]+)\]/.exec(line);
  if (!m) continue;
  const [, scenario, versions] = m as unknown as [string, string, string];
  if (only && scenario !== only) continue;
  if (versions === 'extension') jobs.push({ scenario, version: undefined });
  else for (const v of versions.split(',')) jobs.push({ scenario, version: v.trim() });
}
if (jobs.length === 0) {
  console.error(`no client scenarios found${only ? ` named ${only}` : ''}:\n${listed.out}`);
  process.exit(1);
}

const baseline = readBaseline(BASELINE, 'client');
const outcomes: Outcome[] = [];
let next = 0;
const t0 = Date.now();
await Promise.all(
  Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      outcomes.push(await runJob(job));
    }
  }),
);
outcomes.sort((a, b) => jobs.indexOf(a) - jobs.indexOf(b) || a.scenario.localeCompare(b.scenario));

const unexpected: Outcome[] = [];
const stale: Outcome[] = [];
let expected = 0;
let passed = 0;
console.log('\n######## conformance client scenarios ########');
for (const o of outcomes) {
  const key = `${o.scenario}@${o.version ?? 'extension'}`;
  const listedReason = baseline.get(key) ?? baseline.get(o.scenario);
  let mark: string;
  if (o.passed) {
    passed++;
    if (listedReason !== undefined) {
      stale.push(o);
      mark = '✓ (stale baseline)';
    } else mark = '✓';
  } else if (listedReason !== undefined) {
    expected++;
    mark = '~ (baselined)';
  } else {
    unexpected.push(o);
    mark = '✗';
  }
  console.log(`${mark} ${key}: ${o.counts.success} passed, ${o.counts.failure} failed, ${o.counts.warning} warnings (${o.ms} ms)`);
  if (verbose || (!o.passed && listedReason === undefined)) for (const p of o.problems) console.log(`      ${p}`);
}
console.log(`\nclient scenario runs: ${outcomes.length} — ${passed} passed, ${expected} expected failures (baselined), ${unexpected.length} unexpected failures, ${stale.length} stale baseline entries; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (stale.length) console.log(`stale (now passing — remove from ${BASELINE}): ${stale.map((o) => o.scenario).join(', ')}`);
process.exit(unexpected.length || stale.length ? 1 : 0);
