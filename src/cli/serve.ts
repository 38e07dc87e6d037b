/**
 * What `andon serve|example|start` run: load the user's module (or an example), read the
 * configuration and serve it inside the runtime. Loaded by src/cli/andon.ts only for those
 * commands, so the operator commands start without the server, runtime and configuration schema.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { McpServer, createServer } from '../server/server.js';
import { createRuntime, type RuntimeOptions } from '../runtime/runtime.js';
import { createLogger } from '../util/logger.js';
import { exitOnConfigError, loadCliConfig, type ConfigFlags } from './cli-config.js';
import { ConfigReloader } from '../config/reload.js';
import { loggerOptionsFromConfig, runtimeOptionsFromConfig } from '../config/runtime-options.js';
import { runtimeReloadTarget } from '../config/runtime-target.js';
import { watchParent } from './parent-watch.js';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';

const here = dirname(fileURLToPath(import.meta.url));
export const EXAMPLES = ['simple', 'calculator', 'weather'];

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

export type ServeFlags = ConfigFlags;

/** Serves `server` inside the andon runtime, configured by file < environment < flags (src/config). */
export async function run(server: McpServer, flags: ServeFlags): Promise<void> {
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

export async function example(name: string): Promise<McpServer> {
  if (!EXAMPLES.includes(name)) throw new AndonError(CliErrors.Usage, `Unknown example "${name}". Choose one of: ${EXAMPLES.join(', ')}`);
  return loadServer(resolve(here, '../../examples', `${name}.js`));
}


/** The demo of `andon start`: the weather and calculator examples on one server. */
export async function demo(flags: ServeFlags): Promise<void> {
  const server = createServer({ name: 'andon-demo', version: '0.1.0', instructions: 'Demo: weather (deterministic) and calculator tools.' });
  const { registerWeather } = (await import(pathToFileURL(resolve(here, '../../examples/weather.js')).href)) as typeof import('../../examples/weather.js');
  const { registerCalculator } = (await import(pathToFileURL(resolve(here, '../../examples/calculator.js')).href)) as typeof import('../../examples/calculator.js');
  registerWeather(server);
  registerCalculator(server);
  await run(server, flags);
}
