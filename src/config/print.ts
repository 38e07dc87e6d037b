/**
 * `andon config print`: the effective configuration with secrets redacted. The schema refuses
 * secret literals already, so this is the second line of defence: any value under a key that names
 * a secret is replaced, and a `…Env` reference shows the variable as `${NAME}`, never its value.
 */
import { stringify } from 'yaml';
import type { AndonConfig } from './schema.js';

/** Placeholder for a redacted value. */
export const REDACTED = '[REDACTED]';

const SECRET_KEY = /(token|secret|password|passwd|apikey|api_key|webhookurl|routingkey|integrationkey|authorization|cookie|credential)/i;

/** A deep copy of `value` with secrets replaced (see the module comment). */
export function redactConfig(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactConfig(v, k)]));
  }
  if (value === undefined || value === null || value === '') return value;
  if (/Env$/.test(key) && typeof value === 'string') return `\${${value}}`;
  if (SECRET_KEY.test(key)) return REDACTED;
  return value;
}

/** Options of {@link printConfig}. */
export interface PrintOptions {
  json?: boolean;
  /** File the config was read from, shown in the YAML header. */
  file?: string;
  /** Key path → source (variable or flag) for the YAML header. */
  sources?: ReadonlyMap<string, string>;
}

/** Renders the redacted configuration as YAML (with a header saying where it came from) or JSON. */
export function printConfig(config: AndonConfig, o: PrintOptions = {}): string {
  const redacted = redactConfig(config);
  if (o.json) return `${JSON.stringify(redacted, null, 2)}\n`;
  const over = [...(o.sources ?? new Map<string, string>())].filter(([, s]) => s !== 'file').map(([p, s]) => `${p} from ${s}`);
  const header = [`# effective andon configuration (defaults < file < environment < flags)`, `# file: ${o.file ?? 'none'}`, ...(over.length ? [`# overridden: ${over.join(', ')}`] : [])];
  return `${header.join('\n')}\n${stringify(redacted)}`;
}
