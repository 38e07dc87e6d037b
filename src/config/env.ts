/**
 * Environment variables that override the configuration file. This table is the one place that
 * maps the environment onto runtime settings: the loader reads it, docs/configuration.md lists it
 * (a test checks), and `andon --help` can print it. Secrets are not here: ANDON_ADMIN_TOKEN and the
 * alert channels' `…Env` variables are read where they are used, never copied into the config.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** How one variable maps onto a key path. */
export interface EnvBinding {
  /** Variable name. */
  name: string;
  /** Dotted key path it sets. */
  path: string;
  /** How the string becomes a value; invalid input is passed through so the schema names it. */
  parse: (value: string) => unknown;
  /** One line for --help and the docs. */
  description: string;
}

/** A number when the text is one, else the text itself (so the schema reports `got "abc"`). */
function num(v: string): unknown {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

/** `1`/`true`/`yes`/`on` and `0`/`false`/`no`/`off`; anything else passes through to be refused. */
function bool(v: string): unknown {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return v;
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

const text = (v: string) => v;

/** Every environment override, in the order the docs list them. */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'PORT', path: 'http.port', parse: num, description: 'MCP HTTP port' },
  { name: 'OPS_PORT', path: 'ops.port', parse: num, description: 'ops listener port (also turns the ops listener on in stdio mode)' },
  { name: 'ANDON_STATE_DIR', path: 'stateDir', parse: text, description: 'state directory' },
  { name: 'ANDON_DRAIN_GRACE_MS', path: 'drain.graceMs', parse: num, description: 'drain: in-flight grace, ms' },
  { name: 'ANDON_DRAIN_HALT_MS', path: 'drain.haltMs', parse: num, description: 'drain: halting budget, ms' },
  { name: 'ANDON_METRICS_AUTH', path: 'ops.metricsAuth', parse: bool, description: 'require the admin token on GET /metrics (1/0)' },
  { name: 'ANDON_TRACE_PROPAGATION', path: 'observability.tracing.propagate', parse: bool, description: 'continue incoming W3C trace context (1/0)' },
  { name: 'ANDON_LOG_LEVEL', path: 'logging.level', parse: text, description: 'log level' },
  { name: 'ANDON_LOG_FILE', path: 'logging.file', parse: text, description: 'log to this file instead of stderr' },
  { name: 'ANDON_LOG_MAX_BYTES', path: 'logging.maxBytes', parse: num, description: 'rotate the log file past this size' },
  { name: 'ANDON_LOG_MAX_FILES', path: 'logging.maxFiles', parse: num, description: 'rotated log files kept' },
  { name: 'ANDON_LOG_MAX_BUFFER_BYTES', path: 'logging.maxBufferBytes', parse: num, description: 'most bytes of log output waiting for a slow destination' },
  { name: 'ANDON_LOG_REDACT_KEYS', path: 'logging.redactKeys', parse: list, description: 'extra key names to redact (comma-separated)' },
];

/** Variable naming the configuration file (`--config` wins over it). */
export const CONFIG_ENV = 'ANDON_CONFIG';
/** Variable naming a JSON (or YAML) file whose `alerts` section (or whole body) replaces the config's. */
export const ALERTS_ENV = 'ANDON_ALERTS_CONFIG';

/** What the environment contributes: an override layer and, per key path, the variable that set it. */
export interface EnvLayer {
  layer: Record<string, unknown>;
  sources: Map<string, string>;
}

/** Sets `value` at dotted `path` in `obj`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/**
 * Reads the overrides from `env`. Empty variables count as unset. ANDON_ALERTS_CONFIG is read
 * here too (its file's `alerts` section becomes the layer's `alerts`); a file that cannot be read
 * or parsed throws with the variable's name.
 */
export function envLayer(env: Record<string, string | undefined>): EnvLayer {
  const layer: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const b of ENV_BINDINGS) {
    const v = env[b.name];
    if (v === undefined || v === '') continue;
    setPath(layer, b.path, b.parse(v));
    sources.set(b.path, b.name);
  }
  // OPS_PORT has always meant "I want the ops listener", also for stdio servers.
  if (sources.has('ops.port')) setPath(layer, 'ops.enabled', true);
  const alertsFile = env[ALERTS_ENV];
  if (alertsFile) {
    let raw: unknown;
    try {
      const text = readFileSync(alertsFile, 'utf8');
      raw = /\.ya?ml$/i.test(alertsFile) ? parseYaml(text) : JSON.parse(text);
    } catch (err) {
      throw new Error(`${ALERTS_ENV}=${alertsFile}: cannot read it (${(err as Error).message.split('\n')[0]})`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${ALERTS_ENV}=${alertsFile}: must hold an object`);
    layer.alerts = (raw as Record<string, unknown>).alerts ?? raw;
    sources.set('alerts', ALERTS_ENV);
  }
  return { layer, sources };
}
