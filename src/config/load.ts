/**
 * Loads the configuration: defaults < file < environment < CLI flags. The file is `--config FILE`,
 * else `ANDON_CONFIG`, else `andon.config.yaml` / `.yml` / `.json` in the working directory (none is
 * fine: defaults and environment apply). Everything is validated against one strict schema
 * (src/config/schema.ts); a problem throws an `AndonError` (`ANDON_CONFIG_INVALID`) whose message
 * lists every offending key path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { ConfigErrors } from '../errors/config.js';
import { CONFIG_ENV, envLayer, setPath } from './env.js';
import { validateConfig, type AndonConfig } from './schema.js';

/** Candidate file names looked for in `cwd`, in order. */
export const DEFAULT_FILES = ['andon.config.yaml', 'andon.config.yml', 'andon.config.json'] as const;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Config file; default `env.ANDON_CONFIG`, else the first of {@link DEFAULT_FILES} in `cwd`. */
  file?: string;
  /** Environment to read overrides from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where relative paths and the default file are resolved. Default `process.cwd()`. */
  cwd?: string;
  /** Highest-precedence layer (CLI flags), as key path → value, e.g. `{ 'http.port': 8080 }`. */
  overrides?: Record<string, unknown>;
  /** Name of each override for error messages, e.g. `{ 'http.port': '--port' }`. */
  overrideNames?: Record<string, string>;
}

/** A loaded configuration and where it came from. */
export interface LoadedConfig {
  config: AndonConfig;
  /** Absolute path of the file read, or undefined when none was. */
  file: string | undefined;
  /** Key path → what set it (`file`, a variable name, a flag). Unlisted paths are defaults. */
  sources: Map<string, string>;
}

/** Thrown when the configuration cannot be loaded; `errors` has one `path: problem` line each. */
export class ConfigError extends AndonError {
  constructor(
    readonly errors: string[],
    def: ErrorDef = ConfigErrors.Invalid,
  ) {
    super(def, `config error: ${errors.join('\n  ')}`, { reason: errors.join('; ') });
  }
}

/** Which file to read: explicit, ANDON_CONFIG, or one found in `cwd` (undefined if none). */
export function resolveConfigFile(o: LoadConfigOptions = {}): string | undefined {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  const named = o.file ?? (env[CONFIG_ENV] || undefined);
  if (named !== undefined) {
    const p = resolve(cwd, named);
    if (!existsSync(p)) throw new ConfigError([`cannot read config file ${p}${o.file === undefined ? ` (from ${CONFIG_ENV})` : ''}: no such file`], ConfigErrors.NotFound);
    return p;
  }
  const found = DEFAULT_FILES.map((f) => resolve(cwd, f)).filter((p) => existsSync(p));
  if (found.length > 1) throw new ConfigError([`more than one config file in ${cwd} (${found.map((p) => p.slice(cwd.length + 1)).join(', ')}): keep one, or choose with --config`], ConfigErrors.NotFound);
  return found[0];
}

/** Parses a file's text: JSON for `.json`, YAML otherwise. An empty file is an empty config. */
export function parseConfigText(text: string, file: string): unknown {
  try {
    const raw: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
    if (raw === null || raw === undefined) return {};
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('the top level must be a mapping of sections (http, ops, drain, …)');
    return raw;
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message.split('\n')[0]}`]);
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge of plain objects; lists and scalars in `over` replace. `alerts` is replaced whole. */
export function mergeLayers(base: Record<string, unknown>, over: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(v) && isPlain(b) && !(depth === 0 && k === 'alerts') ? mergeLayers(b, v, depth + 1) : v;
  }
  return out;
}

function leafPaths(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (isPlain(v) && k !== 'alerts' ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

/**
 * Loads, merges and validates the configuration. Throws {@link ConfigError} with every problem.
 * Relative `stateDir` and `logging.file` stay as written (the runtime resolves them against its cwd).
 */
export function loadConfig(o: LoadConfigOptions = {}): LoadedConfig {
  const env = o.env ?? process.env;
  const file = resolveConfigFile(o);
  const sources = new Map<string, string>();
  let merged: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`], ConfigErrors.NotFound);
    }
    merged = parseConfigText(text, file) as Record<string, unknown>;
    for (const p of leafPaths(merged)) sources.set(p, 'file');
  }
  let fromEnv;
  try {
    fromEnv = envLayer(env);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  merged = mergeLayers(merged, fromEnv.layer);
  for (const [p, s] of fromEnv.sources) sources.set(p, s);
  if (o.overrides) {
    const layer: Record<string, unknown> = {};
    for (const [p, v] of Object.entries(o.overrides)) {
      if (v === undefined) continue;
      setPath(layer, p, v);
      sources.set(p, o.overrideNames?.[p] ?? 'flag');
    }
    merged = mergeLayers(merged, layer);
  }
  const named = new Map([...sources].filter(([, s]) => s !== 'file'));
  const r = validateConfig(merged, named);
  if (!r.ok) throw new ConfigError(r.errors);
  return { config: r.config, file, sources };
}
