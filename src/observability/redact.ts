/**
 * Secret redaction for log lines, in two layers, because either one alone leaks:
 *
 * 1. By key name, at any depth (`redactObject`): pino's own `redact` paths cannot express "a key
 *    called `password` anywhere inside tool arguments", and tool arguments are free-form.
 * 2. By value, on the final serialized line (`Scrubber`): `Bearer …` / `Basic …` credentials,
 *    credentials in URLs, Slack webhook URLs, and any exact secret value the runtime registers
 *    (the admin token, channel secrets). This catches secrets that hide inside strings, such as
 *    an error message that quotes a header.
 */

/** The censor written in place of a secret. */
export const REDACTED = '[redacted]';

/**
 * Key names redacted by default, compared case-insensitively with `-` and `_` removed, so
 * `X-Api-Key`, `api_key` and `apiKey` are one entry. Keys that merely end in `token`, `secret`,
 * `password` or `apikey` (`githubToken`, `dbPassword`) are redacted too.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'x-api-key',
  'private_key',
  'credentials',
  'routing_key',
  'auth_token',
  'webhook_url',
  'signature',
  'x-andon-signature',
];

const SUFFIXES = ['token', 'secret', 'password', 'apikey', 'privatekey'];
// MCP's own fields that end in "token" but are not secrets.
const NOT_SECRET = new Set(['progresstoken', 'maxtokens', 'nexttoken']);

function normaliseKey(k: string): string {
  return k.toLowerCase().replace(/[-_]/g, '');
}

/** Decides whether a key names a secret. */
export class KeyMatcher {
  private readonly exact: Set<string>;
  private readonly cache = new Map<string, boolean>();

  /** `keys` defaults to {@link DEFAULT_REDACT_KEYS}; `extra` adds to it. */
  constructor(keys: readonly string[] = DEFAULT_REDACT_KEYS, extra: readonly string[] = []) {
    this.exact = new Set([...keys, ...extra].map(normaliseKey));
  }

  isSecret(key: string): boolean {
    let hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const k = normaliseKey(key);
    hit = this.exact.has(k) || (!NOT_SECRET.has(k) && SUFFIXES.some((s) => k.endsWith(s)));
    // Bounded: log objects come from code, but argument keys come from clients.
    if (this.cache.size < 4096) this.cache.set(key, hit);
    return hit;
  }
}

/**
 * Returns `obj` with every value under a secret key replaced by {@link REDACTED}, at any depth
 * (default limit 10 levels; deeper values are replaced by `[depth limit]`). Copy-on-write: the
 * caller's objects are never mutated, and an object without secrets is returned as is.
 */
export function redactObject<T>(obj: T, keys: KeyMatcher, maxDepth = 10): T {
  return walk(obj, keys, maxDepth, new WeakSet()) as T;
}

function walk(value: unknown, keys: KeyMatcher, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Errors go through pino's err serializer; their messages are covered by the value scrubber.
  if (value instanceof Error || Buffer.isBuffer(value) || value instanceof Date) return value;
  if (seen.has(value)) return value;
  if (depth <= 0) return '[depth limit]';
  seen.add(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const r = walk(v, keys, depth - 1, seen);
      if (r !== v) (out ??= value.slice())[i] = r;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const src = value as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    const v = src[k];
    let r: unknown;
    if (keys.isSecret(k)) r = v === undefined || v === null || v === '' ? v : REDACTED;
    else r = walk(v, keys, depth - 1, seen);
    if (r !== v) (out ??= { ...src })[k] = r;
  }
  return out ?? value;
}

const PATTERNS: Array<[RegExp, string]> = [
  // HTTP credentials quoted anywhere: "authorization: Bearer abc123", "Basic dXNlcjpwYXNz".
  [/\b(Bearer)\s+[A-Za-z0-9\-._~+/]{6,}=*/gi, `$1 ${REDACTED}`],
  // Basic needs a digit or base64 punctuation so that prose ("Basic configuration") survives.
  [/\b(Basic)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}/g, `$1 ${REDACTED}`],
  // Credentials in URLs: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@"]+:[^\s/@"]+@/gi, `$1${REDACTED}@`],
  // Slack incoming webhook URLs are bearer secrets in themselves.
  [/hooks\.slack\.com\/(services|workflows|triggers)\/[A-Za-z0-9/_-]+/g, `hooks.slack.com/$1/${REDACTED}`],
  // Slack tokens.
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, REDACTED],
];

/** Options of {@link Scrubber}. */
export interface ScrubberOptions {
  /** Exact secret values to remove from every line (values shorter than 6 chars are ignored). */
  values?: Iterable<string>;
  /** Extra patterns; each match is replaced by {@link REDACTED}. */
  patterns?: RegExp[];
}

/** Removes secret-looking substrings from a serialized log line. */
export class Scrubber {
  private readonly values = new Set<string>();
  private readonly patterns: RegExp[];

  constructor(options: ScrubberOptions = {}) {
    for (const v of options.values ?? []) this.addValue(v);
    this.patterns = (options.patterns ?? []).map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
  }

  /**
   * Registers a secret value to scrub from now on (e.g. a token read from the environment).
   * Values under 6 characters are ignored: scrubbing "abc" from every line would mangle logs.
   */
  addValue(v: string): void {
    if (typeof v !== 'string' || v.length < 6) return;
    this.values.add(v);
    // Inside a JSON line the value appears escaped.
    const escaped = JSON.stringify(v).slice(1, -1);
    if (escaped !== v) this.values.add(escaped);
  }

  scrub(line: string): string {
    let out = line;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const [re, to] of PATTERNS) {
      re.lastIndex = 0;
      if (re.test(out)) {
        re.lastIndex = 0;
        out = out.replace(re, to);
      }
    }
    for (const re of this.patterns) {
      re.lastIndex = 0;
      out = out.replace(re, REDACTED);
    }
    return out;
  }
}
