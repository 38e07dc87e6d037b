/**
 * `andon recovery [--json] [--limit N]` — the recovery strategist's view of the running node
 * (GET /admin/recovery): per component its failures, rate, trend, predicted next failure, class,
 * root cause and degraded mark; then the last decisions (plan, steps and their results).
 */
import type { Command } from 'commander';
import { adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';
import type { RecoverySnapshot } from '../runtime/recovery/index.js';

interface Flags extends OpsTargetFlags {
  json?: boolean;
  limit?: string;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

/** Human-readable form of a snapshot. */
export function formatRecovery(s: RecoverySnapshot): string {
  const lines: string[] = [];
  if (s.components.length === 0) lines.push('no component failures recorded');
  else
    lines.push(
      table([
        ['COMPONENT', 'CLASS', 'FAILURES', 'IN WINDOW', 'PER MIN', 'TREND', 'NEXT (PREDICTED)', 'ROOT CAUSE', 'DEGRADED', 'LAST ERROR'],
        ...s.components.map((c) => [c.id, c.class ?? '-', String(c.failures), String(c.failuresInWindow), String(c.perMinute), c.trend, iso(c.predictedNextAt), c.rootCause ?? '-', c.degraded ?? '-', (c.lastError ?? '-').slice(0, 60)]),
      ]),
    );
  lines.push('');
  if (s.decisions.length === 0) lines.push('no recovery decisions');
  else
    lines.push(
      table([
        ['TIME', 'COMPONENT', 'CLASS', 'ACTION', 'STEP', 'RESULT', 'DETAIL'],
        ...s.decisions.map((d) => [iso(d.time), d.component, d.class, d.action, d.step ?? '-', d.result ?? '-', d.detail.slice(0, 100)]),
      ]),
    );
  return lines.join('\n');
}

/** Registers `andon recovery` on the CLI. */
export function registerRecoveryCommands(program: Command): void {
  withOpsTarget(
    program
      .command('recovery')
      .description("the recovery strategist: failure history, class, trend, prediction and decisions per component")
      .option('-n, --limit <n>', 'decisions shown (default 20)')
      .option('--json', 'machine-readable output'),
  ).action(async (flags: Flags) => {
    const limit = flags.limit === undefined ? 20 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new AndonError(CliErrors.Usage, `--limit must be an integer from 0 to 10000, got ${flags.limit}`);
    const s = (await adminCall('GET', `/admin/recovery?limit=${limit}`, undefined, flags)) as RecoverySnapshot;
    out(flags.json ? JSON.stringify(s, null, 2) : formatRecovery(s));
  });
}
