/**
 * `andon limits [--json]` — the running node's rate limits (GET /admin/rate-limits): configured
 * and effective rates (after the degradation factor), refusals per limit, whether throttling is
 * sustained, and the most-throttled client identities. Runbook: docs/runbooks/RATE_LIMITED.md.
 */
import type { Command } from 'commander';
import { OPS_ENV_HELP, adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';
import type { RateLimitsSnapshot } from '../resilience/rate-limits.js';

interface LimitsFlags extends OpsTargetFlags {
  json?: boolean;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The human form of a snapshot. */
export function formatLimits(s: RateLimitsSnapshot): string {
  const lines = [`rate limits: ${s.enabled ? 'on' : 'OFF'} (store ${s.store}, factor ${s.factor}, burst ${s.burstSec} s)`];
  lines.push(
    table([
      ['LIMIT', 'PER', 'COUNTS', 'RATE/S', 'EFFECTIVE/S', 'BURST', 'REFUSED'],
      ...s.limits.map((l) => [l.name, l.per, l.counts, String(l.perSec), String(l.effectivePerSec), String(Math.floor(l.burst)), String(l.refusals)]),
    ]),
  );
  const r = s.refusals;
  const sus = s.sustained;
  lines.push(`refusals: ${r.total} (client ${r.client}, tool ${r.tool}, global ${r.global}); throttling sustained: ${sus.active ? `YES since ${sus.since}` : 'no'} (${sus.seconds} s in a row; alert at ${sus.thresholdSec} s)`);
  if (s.topThrottled.length) {
    lines.push('most throttled clients:');
    lines.push(table([['CLIENT', 'REFUSED', 'LAST LIMIT', 'LAST REFUSAL'], ...s.topThrottled.map((t) => [t.client, String(t.refusals), t.lastLimit, t.lastAt])]));
  }
  return lines.join('\n');
}

async function show(flags: LimitsFlags): Promise<void> {
  const s = (await adminCall('GET', '/admin/rate-limits', undefined, {
    ...flags,
    onRouteNotFound: () => new AndonError(CliErrors.OpsFailed, 'this node has no rate limits (an andon without them, or a runtime created with rateLimits: false)'),
  })) as RateLimitsSnapshot;
  out(flags.json ? JSON.stringify(s, null, 2) : formatLimits(s));
}

/** Registers `andon limits` on the CLI. */
export function registerLimitsCommands(program: Command): void {
  withOpsTarget(program.command('limits').description('rate limits of the running node: rates, factor, refusals, most-throttled clients').option('--json', 'machine-readable output').addHelpText('after', OPS_ENV_HELP)).action(
    (flags: LimitsFlags) => show(flags),
  );
}
