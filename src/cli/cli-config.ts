/**
 * The configuration of a serving command: file < environment < the flags `--config`, `--port`,
 * `--host`, `--stdio`, `--ops-port`, `--state-dir`. Kept apart from the command registrations so
 * that `andon` loads the configuration schema only for a command that reads a configuration.
 */
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';

export { ConfigError };

/** Flags of the serving commands that map onto configuration keys. */
export interface ConfigFlags {
  config?: string;
  port?: string;
  host?: string;
  stdio?: boolean;
  opsPort?: string;
  stateDir?: string;
}

const num = (v: string): unknown => (/^\s*\d+\s*$/.test(v) ? Number(v) : v);

/** Loads file + environment + these flags (flags win). Throws ConfigError. */
export function loadCliConfig(flags: ConfigFlags, env: Record<string, string | undefined> = process.env): LoadedConfig {
  const overrides: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const put = (path: string, v: unknown, flag: string) => {
    overrides[path] = v;
    names[path] = flag;
  };
  if (flags.port !== undefined) put('http.port', num(flags.port), '--port');
  if (flags.host !== undefined) put('http.host', flags.host, '--host');
  if (flags.stdio) {
    put('stdio', true, '--stdio');
    put('http.enabled', false, '--stdio');
  }
  if (flags.opsPort !== undefined) {
    put('ops.port', num(flags.opsPort), '--ops-port');
    put('ops.enabled', true, '--ops-port');
  }
  if (flags.stateDir !== undefined) put('stateDir', flags.stateDir, '--state-dir');
  return loadConfig({ file: flags.config, env, overrides, overrideNames: names });
}

/** Prints a configuration error as `config error: path: problem` and exits 2 (other errors rethrow). */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

