/**
 * The configuration on the command line: the `--config FILE` flag of start/serve/example
 * ({@link loadCliConfig}), and `andon config print|check|reload`.
 */
import type { Command } from 'commander';
import type { AlertsSection } from '../config/schema.js';
import type { ReloadReport } from '../config/reload.js';
import { adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';

// The configuration schema, printer and alert channels load only when a command needs them
// (`andon --help` and the operator commands start without them).
const cliConfig = () => import('./cli-config.js');

/** The `--config` option text, shared by every command that takes it. */
export const CONFIG_OPTION = ['--config <file>', 'configuration file (default $ANDON_CONFIG, else andon.config.yaml|.json here)'] as const;

/** Why the alert channels cannot be built in this environment (an unset secret variable), if so. */
async function alertsProblem(section: AlertsSection): Promise<string | undefined> {
  const [{ alertsConfigFromSection }, { buildAlertChannels }] = await Promise.all([import('../config/runtime-options.js'), import('../observability/alerts/config.js')]);
  try {
    const built = buildAlertChannels(alertsConfigFromSection(section), process.env);
    for (const c of built.channels) c.close?.();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function out(text: string): void {
  process.stdout.write(text);
}

/** Registers `andon config print|check|reload`. */
export function registerConfigCommands(program: Command): void {
  const cmd = program.command('config').description('show, validate or reload the configuration (see docs/configuration.md)');

  cmd
    .command('print')
    .description('print the effective configuration (defaults < file < environment), secrets redacted; YAML by default')
    .option('--json', 'print JSON')
    .option(...CONFIG_OPTION)
    .action(async (flags: { json?: boolean; config?: string }) => {
      const [{ loadCliConfig, exitOnConfigError }, { printConfig }] = await Promise.all([cliConfig(), import('../config/print.js')]);
      try {
        const loaded = loadCliConfig({ config: flags.config });
        out(printConfig(loaded.config, { json: flags.json, file: loaded.file, sources: loaded.sources }));
      } catch (err) {
        exitOnConfigError(err);
      }
    });

  cmd
    .command('check')
    .description('validate the configuration file and environment; exit 2 naming each bad key')
    .option(...CONFIG_OPTION)
    .option('--strict', 'also require every secret variable the alert channels name to be set here')
    .action(async (flags: { config?: string; strict?: boolean }) => {
      const { loadCliConfig, exitOnConfigError, ConfigError } = await cliConfig();
      try {
        const loaded = loadCliConfig({ config: flags.config });
        // Channels are built too, to find secret variables unset in this environment: a warning
        // (CI rarely holds production secrets), an error with --strict.
        const problem = loaded.config.alerts ? await alertsProblem(loaded.config.alerts) : undefined;
        if (problem && flags.strict) throw new ConfigError([problem]);
        if (problem) process.stderr.write(`warning: ${problem}\n`);
        process.stderr.write(`config ok: ${loaded.file ?? 'no file (defaults and environment)'}\n`);
      } catch (err) {
        exitOnConfigError(err);
      }
    });

  withOpsTarget(
    cmd
      .command('reload')
      .description('ask the running node to re-read its configuration (same as SIGHUP); prints what was applied')
      .option('--json', 'print the JSON report'),
  ).action(async (flags: { json?: boolean } & OpsTargetFlags) => {
    let report: ReloadReport;
    try {
      report = (await adminCall('POST', '/admin/config/reload', {}, flags)) as ReloadReport;
    } catch (err) {
      // A rejected config answers 422 with the report; show its errors and exit 2 like `check`.
      const msg = (err as Error).message;
      const m = /^422: configuration rejected: ([\s\S]*)$/.exec(msg);
      if (m) {
        process.stderr.write(`config reload rejected (the previous configuration stays in effect):\n  ${m[1]!.split('; ').join('\n  ')}\n`);
        process.exit(2);
      }
      throw err;
    }
    if (flags.json) return out(`${JSON.stringify(report, null, 2)}\n`);
    out(`config reloaded${report.file ? ` from ${report.file}` : ''}\n`);
    out(`applied: ${report.applied.length ? report.applied.join(', ') : 'nothing changed'}\n`);
    if (report.needsRestart.length) out(`needs restart: ${report.needsRestart.join(', ')}\n`);
  });
}
