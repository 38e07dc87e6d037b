/**
 * `npm run soak`: the soak of issue 15 (bench/soak/soak.ts) from the command line.
 *
 *   npm run soak -- --minutes 30 --failure-every-seconds 60 --nodes 3 --sessions 100 --workers 16
 *
 * Prints a progress line per minute, then the per-minute table, the memory trends and the JSON
 * summary (also written to --json FILE); exits 1 when an invariant was violated.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, TABLE_HEADER, formatRow, runSoak, type SoakOptions } from './soak.js';
import { killSpawned } from './proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, '../..');

const flags: Record<string, keyof SoakOptions> = {
  '--failure-every-seconds': 'failureEverySec',
  '--nodes': 'nodes',
  '--sessions': 'sessions',
  '--streams': 'streams',
  '--workers': 'workers',
  '--rate': 'rate',
  '--call-ms': 'callMs',
  '--command-timeout-ms': 'commandTimeoutMs',
  '--store-stall-ms': 'storeStallMs',
  '--redis-stall-ms': 'redisStallMs',
  '--restart-delay-ms': 'restartDelayMs',
  '--sample-every-seconds': 'sampleEverySec',
  '--warmup-seconds': 'warmupSec',
  '--slope-limit': 'slopeLimitMbPerMin',
  '--trend-min-span-seconds': 'trendMinSpanSec',
};

function parse(argv: string[]): { opts: Partial<SoakOptions>; json?: string } {
  const opts: Partial<SoakOptions> = {};
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run soak -- [--minutes 30] ${Object.keys(flags).map((f) => `[${f} N]`).join(' ')} [--no-assert-trend] [--json FILE]\ndefaults: ${JSON.stringify(DEFAULTS)}\n`);
      process.exit(0);
    }
    if (a === '--no-assert-trend') {
      opts.assertTrend = false;
      continue;
    }
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--json') json = v;
    else if (a === '--minutes') opts.durationSec = Math.round(Number(v) * 60);
    else if (flags[a]) (opts as Record<string, number>)[flags[a]] = Number(v);
    else throw new Error(`unknown option ${a} (--help)`);
    i++;
  }
  for (const [k, v] of Object.entries(opts)) if (typeof v === 'number' && !(v >= 0)) throw new Error(`${k}: not a number`);
  return { opts, json };
}

const { opts, json } = parse(process.argv.slice(2));
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    killSpawned();
    process.exit(130);
  });
const out = (line: string) => process.stdout.write(`${line}\n`);
const summary = await runSoak({ cli: resolve(DIST, 'src/cli/andon.js'), module: resolve(DIST, 'bench/soak/soak-server.js'), ...opts, log: (l) => out(`${new Date().toISOString()} ${l}`) });
const ids = Array.from({ length: summary.options.nodes }, (_, i) => `node-${String.fromCharCode(97 + i)}`);
out('\n## Per minute\n');
out(TABLE_HEADER(ids));
for (const m of summary.minutes) out(formatRow(m, ids));
out('\n## Memory trend (RSS slope per node lifetime, after the warm-up)\n');
for (const t of summary.trends) out(`${t.node}#${t.lifetime} ${t.fromSec}–${t.toSec} s, ${t.samples} samples: RSS ${t.rssStartMb.toFixed(1)} → ${t.rssEndMb.toFixed(1)} MB, slope ${t.rssSlopeMbPerMin.toFixed(3)} MB/min (heap ${t.heapSlopeMbPerMin.toFixed(3)} MB/min)${t.judged ? '' : ' [too short to judge]'}`);
out('\n## Summary\n');
out(JSON.stringify({ ...summary, minutes: undefined }, null, 2));
if (json) await writeFile(json, JSON.stringify(summary, null, 2));
out(summary.violations.length ? `\nFAIL: ${summary.violations.length} invariant(s) violated` : '\nPASS: no session lost, no duplicate execution, every subscription fired once, no memory growth trend');
process.exit(summary.violations.length ? 1 : 0);
