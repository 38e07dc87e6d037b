#!/usr/bin/env node
/**
 * The `andon` command: serve a user's server module, run an example, or start the demo.
 * Output for people goes to stderr; stdout is left to the stdio transport.
 */
import { Command } from 'commander';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { McpServer, createServer } from '../server/server.js';
import { createRuntime, type RuntimeOptions } from '../runtime/runtime.js';
import { createLogger } from '../util/logger.js';
import { registerOpsCommands } from './ops-commands.js';
import { registerAlertCommands } from './alerts-commands.js';
import { registerRecoveryCommands } from './recovery-commands.js';
import { registerBreakerCommands } from './breakers-commands.js';
import { registerFlagCommands } from './flags-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerLimitsCommands } from './limits-commands.js';
import { registerClientCommands } from './client-commands.js';
import { registerDoctorCommand } from './doctor.js';
import { CONFIG_OPTION, exitOnConfigError, loadCliConfig, registerConfigCommands, type ConfigFlags } from './config-commands.js';
import { ConfigReloader } from '../config/reload.js';
import { loggerOptionsFromConfig, runtimeOptionsFromConfig } from '../config/runtime-options.js';
import { runtimeReloadTarget } from '../config/runtime-target.js';
import { OPS_ENV_HELP } from './ops-client.js';
import { watchParent } from './parent-watch.js';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLES = ['simple', 'calculator', 'weather'];

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Loads a module and finds the server it exports: default or `server`, an instance or a factory. */
export async function loadServer(spec: string): Promise<McpServer> {
  const path = resolve(spec);
  if (!existsSync(path)) throw new AndonError(CliErrors.ModuleNotFound, `Cannot find module ${spec} (looked at ${path})`);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  for (const key of ['default', 'server', 'createServer']) {
    let v = mod[key];
    if (typeof v === 'function' && !(v instanceof McpServer)) v = await (v as () => unknown)();
    if (v instanceof McpServer) return v;
    if (v && typeof v === 'object' && typeof (v as McpServer).handleRequest === 'function') return v as McpServer;
  }
  throw new AndonError(CliErrors.NoServerExport, `${spec} does not export a server: export default an McpServer (or a function returning one), or export "server"`);
}

type ServeFlags = ConfigFlags;

/** Serves `server` inside the andon runtime, configured by file < environment < flags (src/config). */
async function run(server: McpServer, flags: ServeFlags): Promise<void> {
  let loaded;
  try {
    loaded = loadCliConfig(flags);
  } catch (err) {
    exitOnConfigError(err);
  }
  const log = createLogger(loggerOptionsFromConfig(loaded.config));
  const options: RuntimeOptions = { server, ...runtimeOptionsFromConfig(loaded.config), logger: log };
  const rt = createRuntime(options);
  await rt.start();
  // Under `npm start` without `exec`, npm's SIGTERM never reaches node: drain when npm goes away.
  watchParent();
  rt.reloader = new ConfigReloader({ load: () => loadCliConfig(flags), current: loaded.config, target: runtimeReloadTarget(rt, { options, logger: log }), logger: log });
  if (loaded.config.stdio) {
    // The client closing stdin is the end of a stdio session: drain and exit.
    void rt.stdio?.closed.then(() => rt.drain('stdin closed').then((r) => process.exit(r.graceExpired ? 3 : 0)));
  }
  if (rt.url) say(`andon-mcp: ${server.info.name} listening on ${rt.url} (ops: ${rt.ops?.url ?? 'off'}, state: ${rt.stateDir}, config: ${loaded.file ?? 'none'})`);
}

async function example(name: string): Promise<McpServer> {
  if (!EXAMPLES.includes(name)) throw new AndonError(CliErrors.Usage, `Unknown example "${name}". Choose one of: ${EXAMPLES.join(', ')}`);
  return loadServer(resolve(here, '../../examples', `${name}.js`));
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
  .action(async (mod: string, flags: ServeFlags) => run(await loadServer(mod), flags));

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
  .action(async (name: string, flags: ServeFlags) => run(await example(name), flags));

program
  .command('start')
  .description('the demo: weather and calculator examples together on one endpoint')
  .option('-p, --port <port>', 'HTTP port (default $PORT or 3000)')
  .option('-H, --host <host>', 'bind address (default 127.0.0.1)')
  .option('--ops-port <port>', 'ops listener port (default $OPS_PORT or 9464)')
  .option('--state-dir <dir>', 'state directory (default $ANDON_STATE_DIR or ./.andon)')
  .option(...CONFIG_OPTION)
  .action(async (flags: ServeFlags) => {
    const server = createServer({ name: 'andon-demo', version: '0.1.0', instructions: 'Demo: weather (deterministic) and calculator tools.' });
    const { registerWeather } = (await import(pathToFileURL(resolve(here, '../../examples/weather.js')).href)) as typeof import('../../examples/weather.js');
    const { registerCalculator } = (await import(pathToFileURL(resolve(here, '../../examples/calculator.js')).href)) as typeof import('../../examples/calculator.js');
    registerWeather(server);
    registerCalculator(server);
    await run(server, flags);
  });

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
