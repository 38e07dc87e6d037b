/**
 * `andon alerts` — the alert history and test alerts.
 *
 *   andon alerts [list] [--limit N] [--json]      history of the running node (admin API)
 *   andon alerts list --state-dir DIR             history read from DIR/alerts-history.json (node may be down)
 *   andon alerts test [--channel X] [--severity S]  a test alert sent by the running node
 *   andon alerts test --config FILE [--channel X] sends from this process with FILE's alerts
 *                                                 section and secrets from this environment
 *
 * Both test forms go through the real path (queue, retries, fallback, the real endpoints); the
 * second checks a configuration before deploying it. Exit code 0 when delivered, 1 when not,
 * 2 on usage or configuration errors.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { OPS_ENV_HELP, adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';
import { SEVERITIES, type AlertRecord, type Severity } from '../observability/alerts/types.js';

interface ListFlags extends OpsTargetFlags {
  limit?: string;
  json?: boolean;
}

interface TestFlags extends OpsTargetFlags {
  channel?: string;
  severity?: string;
  config?: string;
  json?: boolean;
}

/** What a 404 for the alert routes from the ops API itself means: the node runs without alerting. */
const alertsOff = () => new AndonError(CliErrors.AlertsNotConfigured);

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function printRecords(records: AlertRecord[]): void {
  if (records.length === 0) return out('no alerts');
  out(
    table([
      ['TIME', 'SEVERITY', 'ACTION', 'STATUS', 'DUP', 'CHANNELS', 'TITLE'],
      ...records.map((r) => [
        r.time,
        r.severity,
        r.action,
        r.status,
        String(r.suppressed),
        r.deliveries.map((d) => `${d.channel}${d.ok ? '' : '✗'}`).join(',') || '-',
        `${r.test ? '[test] ' : ''}${r.title}`,
      ]),
    ]),
  );
}

function printOutcome(r: AlertRecord): void {
  for (const d of r.deliveries) {
    const via = d.fallbackOf ? ` (fallback of ${d.fallbackOf})` : '';
    out(d.ok ? `${d.channel}: sent${via} after ${d.attempts} attempt(s), ${d.durationMs} ms` : `${d.channel}: FAILED${via} after ${d.attempts} attempt(s): ${d.error ?? 'unknown error'}`);
  }
  out(`alert ${r.id}: ${r.status}`);
}

function limitOf(raw: string | undefined): number {
  const n = raw === undefined ? 20 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new AndonError(CliErrors.Usage, `--limit must be an integer from 1 to 10000, got ${raw}`);
  return n;
}

async function list(flags: ListFlags): Promise<void> {
  const limit = limitOf(flags.limit);
  // --state-dir alone reads the persisted history (the node may be down); with --ops-url or
  // --token the operator asks the node, and --state-dir only says where admin-token is.
  const fromFile = flags.stateDir !== undefined && flags.opsUrl === undefined && flags.token === undefined;
  const records = fromFile
    ? (await import('../observability/alerts/history.js')).readHistoryFile(resolve(flags.stateDir!)).slice(0, limit)
    : ((await adminCall('GET', `/admin/alerts?limit=${limit}`, undefined, { ...flags, onRouteNotFound: alertsOff })) as { alerts: AlertRecord[] }).alerts;
  if (flags.json) out(JSON.stringify(records, null, 2));
  else printRecords(records);
}

async function sendTest(flags: TestFlags): Promise<void> {
  const severity = (flags.severity ?? 'info') as Severity;
  if (!SEVERITIES.includes(severity)) throw new AndonError(CliErrors.Usage, `--severity must be one of ${SEVERITIES.join(', ')}`);
  let record: AlertRecord;
  if (flags.config) {
    // The channels (nodemailer among them) load only for a local test send.
    const [{ AlertManager }, { buildAlertChannels, loadAlertsConfig }] = await Promise.all([import('../observability/alerts/manager.js'), import('../observability/alerts/config.js')]);
    const config = loadAlertsConfig(resolve(flags.config));
    const built = buildAlertChannels(config, process.env, flags.channel ? [flags.channel] : undefined);
    if (flags.channel && !built.channels.some((c) => c.name === flags.channel)) {
      throw new AndonError(CliErrors.Usage, `no enabled channel "${flags.channel}" in ${flags.config} (configured: ${Object.keys(config.channels ?? {}).join(', ') || 'none'})`);
    }
    const alerts = new AlertManager({
      channels: built.channels,
      routes: built.routes,
      fallbacks: flags.channel ? {} : built.fallbacks,
      retry: config.retry,
      timeoutMs: config.timeoutMs,
      source: config.source,
      stateDir: flags.stateDir ? resolve(flags.stateDir) : undefined,
      historySize: config.historySize,
    });
    try {
      record = (await alerts.test({ channel: flags.channel, severity }).delivered)!;
    } finally {
      await alerts.close();
    }
  } else {
    const r = (await adminCall('POST', '/admin/alerts/test', { channel: flags.channel, severity }, { ...flags, onRouteNotFound: alertsOff })) as AlertRecord & { note?: string };
    if (r.deliveries === undefined) throw new AndonError(CliErrors.AlertPending, `the node is still delivering alert ${r.id}; see \`andon alerts\``);
    record = r;
  }
  if (flags.json) out(JSON.stringify(record, null, 2));
  else printOutcome(record);
  if (record.status !== 'sent') process.exitCode = 1;
}

/** Registers `andon alerts` (list, test) on the CLI. */
export function registerAlertCommands(program: Command): void {
  const alerts = program.command('alerts').description('alert history and test alerts').addHelpText('after', OPS_ENV_HELP);
  withOpsTarget(
    alerts
      .command('list', { isDefault: true })
      .description('recent alerts with their delivery outcome (from the running node, or --state-dir)')
      .option('-n, --limit <n>', 'how many (default 20)')
      .option('--json', 'machine-readable output'),
    'without --ops-url/--token: read the persisted history in this directory instead of asking the node',
  ).action((flags: ListFlags) => list(flags));
  withOpsTarget(
    alerts
      .command('test')
      .description('send a test alert through the real delivery path')
      .option('-c, --channel <name>', 'only this channel (default: the route of the severity)')
      .option('-s, --severity <severity>', 'critical, warning or info (default info)')
      .option('--config <file>', 'send from this process using the alerts section of this JSON config')
      .option('--json', 'machine-readable output'),
    'with --config: record the test in this history; else where admin-token is',
  ).action((flags: TestFlags) => sendTest(flags));
}
