/**
 * `npm run conformance`: runs the official conformance suite (@modelcontextprotocol/conformance,
 * 0.2.0-alpha line) against the fixture server for both protocol revisions, with the baseline in
 * expected-failures.yaml, and prints the counts. Exits 1 when the suite fails a scored check, or
 * when any check, scored or not, is a FAILURE or WARNING outside the baseline. The suite needs Node 22; the dev dependency
 * scripts/node22.sh provides it (see suite.ts), while the project runs on Node 20.
 *
 *   --era 2025-11-25|2026-07-28   run one revision only
 */
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveHttp } from '../../src/index.js';
import { ROOT } from '../helpers/paths.js';
import { buildFixture } from './fixture.js';
import { describeCheck, problems, readBaseline, readChecks, runSuite } from './suite.js';

const BASELINE = resolve(ROOT, 'test/conformance/expected-failures.yaml');

const eraArg = process.argv.indexOf('--era');
const eras = eraArg === -1 ? ['2025-11-25', '2026-07-28'] : [process.argv[eraArg + 1]!];
const baseline = readBaseline(BASELINE, 'server');



const ep = await serveHttp(buildFixture(), { port: 0, host: '127.0.0.1' });
let failed = false;
try {
  for (const era of eras) {
    const outDir = mkdtempSync(join(tmpdir(), `andon-conformance-${era}-`));
    const args = ['server', '--url', ep.url, '--requirements', era, '-o', outDir];
    if (existsSync(BASELINE)) args.push('--expected-failures', BASELINE);
    const { code, out } = await runSuite(args);
    const summary = out.slice(out.indexOf('=== SUMMARY ==='));
    console.log(`\n######## conformance ${era} (exit ${code}) ########`);
    console.log(summary.trim());
    const checks = readChecks(outDir);
    const counts: Record<string, number> = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0, SKIPPED: 0 };
    for (const c of checks) counts[c.status] = (counts[c.status] ?? 0) + 1;
    console.log(`checks (scored and unscored) for ${era}: ${counts.SUCCESS} success, ${counts.FAILURE} failure, ${counts.WARNING} warning, ${counts.INFO} info, ${counts.SKIPPED} skipped`);
    // Any FAILURE or WARNING fails the run, scored or not, unless its scenario is baselined.
    const bad = problems(checks).filter((c) => !baseline.has(c.scenario) && !baseline.has(`${c.scenario}@${era}`));
    if (bad.length) console.log(`unexpected FAILURE/WARNING checks (each fails the run):\n${bad.map((c) => `  ${describeCheck(c)}`).join('\n')}`);
    if (code !== 0 || bad.length > 0) failed = true;
  }
} finally {
  await ep.close();
}
process.exit(failed ? 1 : 0);
