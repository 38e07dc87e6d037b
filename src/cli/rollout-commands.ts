/**
 * `andon rollout` — staged rollouts of a feature flag on a running node (admin API; see
 * ./ops-client.ts for how the node and its token are found; docs/flags.md "Rollouts"):
 *
 *   andon rollout start <flag> --phases 10,50,100 [--min-duration 60s] [--by WHO] [--json]
 *   andon rollout status [flag] [--json]
 *   andon rollout advance <flag> [--force] [--by WHO] [--json]
 *   andon rollout rollback <flag> [--reason TEXT] [--to-previous] [--by WHO] [--json]
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { parseDuration, parsePercents } from '../flags/rollout-model.js';
import { OPS_ENV_HELP, adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';

interface RolloutFlags extends OpsTargetFlags {
  json?: boolean;
  phases?: string;
  minDuration?: string;
  by?: string;
  force?: boolean;
  reason?: string;
  toPrevious?: boolean;
}

interface CohortView {
  calls: number;
  errors: number;
  errorRate: number;
  p99Ms: number;
}

interface RolloutView {
  flag: string;
  state: string;
  phase: number;
  phases: Array<{ enabled: boolean; percent: number; minDurationMs: number }>;
  phaseStartedAt: number;
  rollbackReason?: string;
  firing?: string;
  window?: { on: CohortView; off: CohortView; restartsLastMinute: number; alertDeliveries: number; alertDeliveryRate: number };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function who(flags: RolloutFlags): string {
  if (flags.by) return flags.by;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

const path = (flag: string, tail = '') => `/admin/rollouts/${encodeURIComponent(flag)}${tail}`;
const cohort = (c: CohortView): string => `${c.calls} calls, ${(c.errorRate * 100).toFixed(1)} % errors, p99 ${c.p99Ms.toFixed(1)} ms`;

function describe(r: RolloutView): string {
  const ph = r.phase >= 0 ? r.phases[r.phase] : undefined;
  const lines = [`${r.flag}: ${r.state}, phase ${r.phase + 1}/${r.phases.length} (${ph ? `${ph.percent}%` : 'flag off'}) since ${new Date(r.phaseStartedAt).toISOString()}; phases ${r.phases.map((p) => `${p.percent}%`).join(' → ')}`];
  if (r.window) lines.push(`  on-cohort:  ${cohort(r.window.on)}`, `  off-cohort: ${cohort(r.window.off)}`, `  restarts last minute: ${r.window.restartsLastMinute}; alert deliveries: ${r.window.alertDeliveries} (${(r.window.alertDeliveryRate * 100).toFixed(1)} % ok)`);
  if (r.firing) lines.push(`  FIRING: ${r.firing}`);
  if (r.rollbackReason) lines.push(`  rolled back: ${r.rollbackReason}`);
  return lines.join('\n');
}

function print(r: RolloutView, flags: RolloutFlags): void {
  out(flags.json ? JSON.stringify(r, null, 2) : describe(r));
}

/** Registers `andon rollout` (start, status, advance, rollback) on the CLI. */
export function registerRolloutCommands(program: Command): void {
  const cmd = program.command('rollout').description('staged rollouts of a feature flag with automatic rollback: start, status, advance, rollback').addHelpText('after', OPS_ENV_HELP);
  withOpsTarget(
    cmd
      .command('start')
      .description('start a rollout: the flag at the first phase')
      .argument('<flag>', 'flag name')
      .requiredOption('--phases <list>', 'percentages, e.g. 10,50,100')
      .option('--min-duration <d>', 'minimum time in each phase before advance (e.g. 60s, 5m)', '0')
      .option('--by <who>', 'who (audit); default cli:<user>')
      .option('--json', 'machine-readable output'),
  ).action(async (flag: string, flags: RolloutFlags) => {
    const body = { phases: parsePercents(flags.phases!), minDurationMs: parseDuration(flags.minDuration ?? '0'), by: who(flags) };
    print((await adminCall('POST', path(flag), body, flags)) as RolloutView, flags);
  });
  withOpsTarget(cmd.command('status').description('every rollout, or one, with its cohorts over the window').argument('[flag]', 'only this flag').option('--json', 'machine-readable output')).action(
    async (flag: string | undefined, flags: RolloutFlags) => {
      if (flag !== undefined) return print((await adminCall('GET', path(flag), undefined, flags)) as RolloutView, flags);
      const data = (await adminCall('GET', '/admin/rollouts', undefined, flags)) as { rollouts: RolloutView[] };
      if (flags.json) return out(JSON.stringify(data, null, 2));
      if (data.rollouts.length === 0) return out('no rollouts (start one: andon rollout start <flag> --phases 10,50,100)');
      out(data.rollouts.map(describe).join('\n'));
    },
  );
  withOpsTarget(
    cmd.command('advance').description('the next phase (after its minimum duration, with its gates passing)').argument('<flag>', 'flag name').option('--force', 'skip the minimum duration and the gates').option('--by <who>', 'who (audit)').option('--json', 'machine-readable output'),
  ).action(async (flag: string, flags: RolloutFlags) => {
    print((await adminCall('POST', path(flag, '/advance'), { by: who(flags), force: flags.force === true }, flags)) as RolloutView, flags);
  });
  withOpsTarget(
    cmd
      .command('rollback')
      .description('roll back: the flag off (or --to-previous phase)')
      .argument('<flag>', 'flag name')
      .option('--reason <text>', 'why (audit, alert)')
      .option('--to-previous', 'back to the previous phase instead of off')
      .option('--by <who>', 'who (audit)')
      .option('--json', 'machine-readable output'),
  ).action(async (flag: string, flags: RolloutFlags) => {
    print((await adminCall('POST', path(flag, '/rollback'), { by: who(flags), reason: flags.reason ?? 'manual rollback', toPrevious: flags.toPrevious === true }, flags)) as RolloutView, flags);
  });
}
