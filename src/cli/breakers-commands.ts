/**
 * `andon breakers` — the circuit breakers of a running node (admin API, see ./ops-client.ts for
 * how the node and its token are found):
 *
 *   andon breakers [list] [--json]            every breaker: state, window, reason, retry time
 *   andon breakers open <name> --reason R      force it open (every call refused) until reset
 *   andon breakers close <name> [--reason R]   force it closed (nothing opens it) until reset
 *   andon breakers reset <name>                clear the forced state and the window
 *
 * Names are `tool:<tool>` or `downstream:<name>`.
 */
import type { Command } from 'commander';
import { OPS_ENV_HELP, adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';

interface BreakerFlags extends OpsTargetFlags {
  json?: boolean;
  reason?: string;
}

/** The fields the CLI prints (GET /admin/breakers). */
interface Snapshot {
  name: string;
  state: string;
  reason?: string;
  retryAt?: string;
  probesInFlight?: number;
  successes?: number;
  forced: { kind: string; reason: string } | null;
  window: { calls: number; failures: number; slow: number; errorRate: number };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function detail(b: Snapshot): string {
  if (b.forced) return `forced ${b.forced.kind}: ${b.forced.reason}`;
  if (b.state === 'open') return `${b.reason ?? ''}; probes from ${b.retryAt ?? '?'}`;
  if (b.state === 'half_open') return `probing: ${b.probesInFlight ?? 0} in flight, ${b.successes ?? 0} succeeded`;
  return '';
}

function print(list: Snapshot[]): void {
  if (list.length === 0) return out('no circuit breakers yet (a tool\'s breaker appears with its first counted call)');
  out(
    table([
      ['BREAKER', 'STATE', 'CALLS', 'FAILURES', 'SLOW', 'DETAIL'],
      ...list.map((b) => [b.name, b.forced ? `${b.state} (forced)` : b.state, String(b.window.calls), String(b.window.failures), String(b.window.slow), detail(b)]),
    ]),
  );
}

const path = (name: string, action: string) => `/admin/breakers/${encodeURIComponent(name)}/${action}`;

/** Registers `andon breakers` (list, open, close, reset) on the CLI. */
export function registerBreakerCommands(program: Command): void {
  const breakers = program.command('breakers').description('circuit breakers of a running node: list, force open or closed, reset').addHelpText('after', OPS_ENV_HELP);
  withOpsTarget(breakers.command('list', { isDefault: true }).description('every breaker with its state and window').option('--json', 'machine-readable output')).action(async (flags: BreakerFlags) => {
    const data = (await adminCall('GET', '/admin/breakers', undefined, flags)) as { enabled: boolean; breakers: Snapshot[] };
    if (flags.json) return out(JSON.stringify(data, null, 2));
    if (!data.enabled) out('circuit breakers are disabled on this node (breakers.enabled: false)');
    print(data.breakers);
  });
  withOpsTarget(
    breakers
      .command('open')
      .description('force a breaker open: every call refused (503 ANDON_BREAKER_OPEN) until reset')
      .argument('<name>', 'tool:<tool> or downstream:<name>')
      .requiredOption('-r, --reason <reason>', 'why: shown to clients and to whoever resets it')
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, flags: BreakerFlags) => {
    const b = (await adminCall('POST', path(name, 'open'), { reason: flags.reason }, flags)) as Snapshot;
    out(flags.json ? JSON.stringify(b) : `forced open ${b.name}: ${b.forced?.reason ?? ''} (until \`andon breakers reset ${b.name}\`)`);
  });
  withOpsTarget(
    breakers
      .command('close')
      .description('force a breaker closed: every call admitted, no threshold opens it, until reset')
      .argument('<name>', 'tool:<tool> or downstream:<name>')
      .option('-r, --reason <reason>', 'why')
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, flags: BreakerFlags) => {
    const b = (await adminCall('POST', path(name, 'close'), flags.reason ? { reason: flags.reason } : {}, flags)) as Snapshot;
    out(flags.json ? JSON.stringify(b) : `forced closed ${b.name} (until \`andon breakers reset ${b.name}\`)`);
  });
  withOpsTarget(breakers.command('reset').description('clear a forced state and the window: closed, counting again').argument('<name>', 'tool:<tool> or downstream:<name>').option('--json', 'machine-readable output')).action(
    async (name: string, flags: BreakerFlags) => {
      const b = (await adminCall('POST', path(name, 'reset'), {}, flags)) as Snapshot;
      out(flags.json ? JSON.stringify(b) : `reset ${b.name}: ${b.state}`);
    },
  );
}
