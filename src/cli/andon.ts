#!/usr/bin/env node
/**
 * The `andon` command: serve a user's server module, run an example, or start the demo, and the
 * operator commands. Output for people goes to stderr; stdout is left to the stdio transport.
 * Only command registrations load here; what a command needs loads when it runs (src/cli/serve.ts
 * for the serving commands), so the operator commands start fast.
 */
import { Command } from 'commander';
import { registerOpsCommands } from './ops-commands.js';
import { registerAlertCommands } from './alerts-commands.js';
import { registerRecoveryCommands } from './recovery-commands.js';
import { registerBreakerCommands } from './breakers-commands.js';
import { registerFlagCommands } from './flags-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerLimitsCommands } from './limits-commands.js';
import { registerClientCommands } from './client-commands.js';
import { registerDoctorCommand } from './doctor-command.js';
import { CONFIG_OPTION, registerConfigCommands } from './config-commands.js';
import type { ConfigFlags } from './cli-config.js';
import { OPS_ENV_HELP } from './ops-client.js';

type ServeFlags = ConfigFlags;
const EXAMPLES = ['simple', 'calculator', 'weather'];
const serving = () => import('./serve.js');

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

const program = new Command();
program.name('andon').description('andon-mcp: run MCP servers in production').version('0.1.0').addHelpText('after', `\nOperator commands (status, halt, resume, drain, alerts, recovery) take --ops-url and --token.${OPS_ENV_HELP}`);

program
  .command('serve')
  .description('serve a module that exports an McpServer (default export or "server")')
  .argument('<module>', 'path to a JavaScript module')
  .option('-p, --port <port>', 'HTTP port (default $PORT or 3000)')
  .option('-H, --host <host>', 'bind address (default 127.0.0.1)')
  .option('--stdio', 'serve over stdin/stdout instead of HTTP')
  .option('--ops-port <port>', 'ops listener port: admin API, metrics, health (default $OPS_PORT or 9464)')
  .option('--state-dir <dir>', 'state directory (default $ANDON_STATE_DIR or ./.andon)')
  .option(...CONFIG_OPTION)
  .action(async (mod: string, flags: ServeFlags) => {
    const { run, loadServer } = await serving();
    await run(await loadServer(mod), flags);
  });

program
  .command('example')
  .description(`serve a bundled example: ${EXAMPLES.join(', ')}`)
  .argument('<name>')
  .option('-p, --port <port>', 'HTTP port (default $PORT or 3000)')
  .option('-H, --host <host>', 'bind address (default 127.0.0.1)')
  .option('--stdio', 'serve over stdin/stdout instead of HTTP')
  .option('--ops-port <port>', 'ops listener port (default $OPS_PORT or 9464)')
  .option('--state-dir <dir>', 'state directory (default $ANDON_STATE_DIR or ./.andon)')
  .option(...CONFIG_OPTION)
  .action(async (name: string, flags: ServeFlags) => {
    const { run, example } = await serving();
    await run(await example(name), flags);
  });

program
  .command('start')
  .description('the demo: weather and calculator examples together on one endpoint')
  .option('-p, --port <port>', 'HTTP port (default $PORT or 3000)')
  .option('-H, --host <host>', 'bind address (default 127.0.0.1)')
  .option('--ops-port <port>', 'ops listener port (default $OPS_PORT or 9464)')
  .option('--state-dir <dir>', 'state directory (default $ANDON_STATE_DIR or ./.andon)')
  .option(...CONFIG_OPTION)
  .action(async (flags: ServeFlags) => (await serving()).demo(flags));

registerOpsCommands(program);
registerAlertCommands(program);
registerRecoveryCommands(program);
registerBreakerCommands(program);
registerFlagCommands(program);
registerRolloutCommands(program);
registerLimitsCommands(program);
registerClientCommands(program);
registerConfigCommands(program);
registerDoctorCommand(program);

program.parseAsync().catch((err: unknown) => {
  say(`andon: ${(err as Error).message}`);
  process.exit(2);
});
