/**
 * `andon flags` — the feature flags of a running node (admin API, see ./ops-client.ts for how the
 * node and its token are found; docs/flags.md):
 *
 *   andon flags [list] [--json]                              every flag
 *   andon flags set <name> [--percent N] [--kind K] [--enabled true|false] [--rules JSON] [--by WHO] [--json]
 *   andon flags enable <name> [--percent N] [--by WHO] [--json]
 *   andon flags disable <name> [--by WHO] [--json]
 *   andon flags delete <name> [--by WHO] [--json]
 *   andon flags audit [name] [--limit N] [--json]            the audit trail (who, when, old → new)
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { OPS_ENV_HELP, adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';

interface FlagFlags extends OpsTargetFlags {
  json?: boolean;
  percent?: string;
  kind?: string;
  enabled?: string;
  rules?: string;
  by?: string;
  limit?: string;
}

interface FlagView {
  name: string;
  kind: string;
  enabled: boolean;
  percent: number;
  rules: unknown[];
  updatedAt: number;
  updatedBy: string;
}

interface AuditView {
  at: number;
  flag: string;
  by: string;
  action: string;
  from: FlagView | null;
  to: FlagView | null;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const show = (f: FlagView | null): string => (f === null ? '—' : `${f.enabled ? 'on' : 'off'}${f.kind === 'percentage' ? ` ${f.percent}%` : ''}${f.rules.length ? ` +${f.rules.length} rule(s)` : ''}`);

function who(flags: FlagFlags): string {
  if (flags.by) return flags.by;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function percentOf(flags: FlagFlags): number | undefined {
  if (flags.percent === undefined) return undefined;
  const n = Number(flags.percent);
  if (!Number.isFinite(n)) throw new Error(`--percent ${flags.percent}: a number from 0 to 100`);
  return n;
}

const path = (name: string) => `/admin/flags/${encodeURIComponent(name)}`;

async function put(name: string, body: Record<string, unknown>, flags: FlagFlags): Promise<void> {
  const f = (await adminCall('PUT', path(name), { ...body, by: who(flags) }, flags)) as FlagView;
  out(flags.json ? JSON.stringify(f) : `${f.name}: ${f.kind} ${show(f)}`);
}

/** Registers `andon flags` (list, set, enable, disable, delete, audit) on the CLI. */
export function registerFlagCommands(program: Command): void {
  const cmd = program.command('flags').description('feature flags of a running node: list, set, enable, disable, delete, audit').addHelpText('after', OPS_ENV_HELP);
  withOpsTarget(cmd.command('list', { isDefault: true }).description('every flag with its kind, state and percentage').option('--json', 'machine-readable output')).action(async (flags: FlagFlags) => {
    const data = (await adminCall('GET', '/admin/flags', undefined, flags)) as { flags: FlagView[] };
    if (flags.json) return out(JSON.stringify(data, null, 2));
    if (data.flags.length === 0) return out('no feature flags (create one: andon flags set <name> --percent 10)');
    out(table([['FLAG', 'KIND', 'STATE', 'RULES', 'CHANGED BY', 'CHANGED'], ...data.flags.map((f) => [f.name, f.kind, show(f), String(f.rules.length), f.updatedBy, new Date(f.updatedAt).toISOString()])]));
  });
  withOpsTarget(
    cmd
      .command('set')
      .description('create or change a flag (what is not given stays)')
      .argument('<name>', 'flag name')
      .option('--percent <n>', 'cohort percentage 0–100 (makes it a percentage flag)')
      .option('--kind <kind>', 'boolean or percentage')
      .option('--enabled <bool>', 'true or false')
      .option('--rules <json>', 'targeting rules, a JSON array: [{"clientName":"claude-desktop","minVersion":"1.2.0","action":"include"}]')
      .option('--by <who>', 'who changes it (audit); default cli:<user>')
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, flags: FlagFlags) => {
    const body: Record<string, unknown> = {};
    const percent = percentOf(flags);
    if (percent !== undefined) body.percent = percent;
    if (flags.kind !== undefined) body.kind = flags.kind;
    if (flags.enabled !== undefined) body.enabled = flags.enabled === 'true' ? true : flags.enabled === 'false' ? false : flags.enabled;
    if (flags.rules !== undefined) body.rules = JSON.parse(flags.rules) as unknown;
    await put(name, body, flags);
  });
  withOpsTarget(
    cmd.command('enable').description('enable a flag (creates a boolean one if absent)').argument('<name>', 'flag name').option('--percent <n>', 'cohort percentage 0–100').option('--by <who>', 'who (audit)').option('--json', 'machine-readable output'),
  ).action(async (name: string, flags: FlagFlags) => {
    const percent = percentOf(flags);
    await put(name, { enabled: true, ...(percent !== undefined ? { percent } : {}) }, flags);
  });
  withOpsTarget(cmd.command('disable').description('disable a flag: off for every client').argument('<name>', 'flag name').option('--by <who>', 'who (audit)').option('--json', 'machine-readable output')).action(
    async (name: string, flags: FlagFlags) => {
      await put(name, { enabled: false }, flags);
    },
  );
  withOpsTarget(cmd.command('delete').description('delete a flag (entries gated by it are hidden from everyone)').argument('<name>', 'flag name').option('--by <who>', 'who (audit)').option('--json', 'machine-readable output')).action(
    async (name: string, flags: FlagFlags) => {
      const r = (await adminCall('DELETE', `${path(name)}?by=${encodeURIComponent(who(flags))}`, undefined, flags)) as { deleted: string };
      out(flags.json ? JSON.stringify(r) : `deleted ${r.deleted}`);
    },
  );
  withOpsTarget(cmd.command('audit').description('who changed which flag when, old → new').argument('[name]', 'only this flag').option('--limit <n>', 'last n records', '50').option('--json', 'machine-readable output')).action(
    async (name: string | undefined, flags: FlagFlags) => {
      const q = new URLSearchParams({ limit: flags.limit ?? '50', ...(name ? { flag: name } : {}) });
      const data = (await adminCall('GET', `/admin/flags/audit?${q.toString()}`, undefined, flags)) as { records: AuditView[] };
      if (flags.json) return out(JSON.stringify(data, null, 2));
      if (data.records.length === 0) return out('no flag changes recorded');
      out(table([['WHEN', 'FLAG', 'BY', 'CHANGE'], ...data.records.map((r) => [new Date(r.at).toISOString(), r.flag, r.by, `${show(r.from)} → ${show(r.to)}`])]));
    },
  );
}
