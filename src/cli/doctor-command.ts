/**
 * `andon doctor`'s command line; the checks (src/cli/doctor.ts) load only when it runs.
 */
import type { Command } from 'commander';
import { CONFIG_OPTION } from './config-commands.js';
import type { DoctorFlags } from './doctor.js';

/** Registers `andon doctor`. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('pre-deployment checklist: each check pass/warn/fail with a fix; exit 1 when any fails (docs/doctor.md)')
    .option('--json', 'machine-readable report')
    .option(...CONFIG_OPTION)
    .option('--state-dir <dir>', 'state directory to check (default: the configuration\'s stateDir)')
    .option('--no-send', 'do not send a test alert through each channel')
    .option('--ops-url <url>', 'ops API of a running node (default: the configured ops listener)')
    .option('--token <token>', 'admin token for the running node (default $ANDON_ADMIN_TOKEN, else <state dir>/admin-token)')
    .option('--prometheus-rules <file>', 'Prometheus rules file to check with promtool (default deploy/prometheus/alerts.yml of this install)')
    .action(async (flags: DoctorFlags) => {
      const { runDoctor, formatReport } = await import('./doctor.js');
      const report = await runDoctor(flags);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
