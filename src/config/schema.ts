/**
 * The schema of `andon.config.yaml` / `andon.config.json`: one section per concern, every object
 * strict, so a misspelt key or a wrong type is refused at start with the key's path. Later issues
 * add their settings as a new section (here or in schema-sections.ts), composed into `configSchema`,
 * a row in `docs/configuration.md` per key (a test keeps the two in step) and, when they can change
 * live, an entry in `RELOADABLE` (src/config/reload.ts).
 *
 * Defaults live in the schema (`.default()`), so the parsed config is the effective one and
 * `andon config print` shows every value the node will use.
 */
import { z } from 'zod';
import { assertNoSecretLiterals } from '../observability/alerts/config.js';
import { port, ms, positiveInt, nonEmpty, envName, stringList, listOrAll, logLevel, requestLevel, severities, recipients, url } from './schema-primitives.js';
import { transportSecurityProblems } from './transport-security.js';
import { authSchema, breakersSchema, connectionsSchema, dashboardSchema, flagsSchema, guardianSchema, rolloutsSchema, legacySseSchema, limitsSchema, rateLimitsSchema, recoverySchema, storeSchema, tcpSchema, tlsSchema, websocketSchema } from './schema-sections.js';

export * from './schema-sections.js';

/** The MCP endpoint (Streamable HTTP). */
export const httpSchema = z.strictObject({
  enabled: z.boolean().default(true),
  port: port.default(3000),
  host: nonEmpty.default('127.0.0.1'),
  path: nonEmpty.regex(/^\//, { error: 'expected a path starting with /' }).default('/mcp'),
  maxBodyBytes: positiveInt.default(4 * 1024 * 1024),
  allowedOrigins: listOrAll.optional(),
  allowedHosts: listOrAll.optional(),
  responseMode: z.enum(['auto', 'json', 'sse'], { error: 'expected one of auto, json, sse' }).default('auto'),
  retryMs: ms.default(1_000),
  keepAliveMs: ms.default(15_000),
  sessionIdleMs: positiveInt.default(30 * 60_000),
});

/** The ops listener: admin API, metrics, health. */
export const opsSchema = z.strictObject({
  /** Unset: on, except when serving stdio only and no ops port was given. */
  enabled: z.boolean().optional(),
  port: port.default(9464),
  host: nonEmpty.default('127.0.0.1'),
  /** Require the admin token on GET /metrics too. */
  metricsAuth: z.boolean().default(false),
});

export const drainSchema = z.strictObject({ graceMs: ms.default(30_000), haltMs: ms.default(10_000) });

export const loggingSchema = z.strictObject({
  level: logLevel.default('info'),
  /** Log to this file (rotated by size) instead of stderr. */
  file: nonEmpty.optional(),
  maxBytes: positiveInt.default(10 * 1024 * 1024),
  maxFiles: positiveInt.default(5),
  /** Most bytes of log output waiting for a slow stderr or file; lines past it are dropped and counted. */
  maxBufferBytes: positiveInt.default(16 * 1024 * 1024),
  /** Key names redacted anywhere in a log line, on top of the built-in list. */
  redactKeys: stringList.default([]),
});

export const observabilitySchema = z.strictObject({
  enabled: z.boolean().default(true),
  metrics: z.strictObject({ enabled: z.boolean().default(true), defaultMetrics: z.boolean().default(true), buckets: z.array(z.number().positive()).optional(), maxLabelValues: positiveInt.default(200) }).prefault({}),
  tracing: z.strictObject({ enabled: z.boolean().default(true), otel: z.boolean().default(true), propagate: z.boolean().default(false) }).prefault({}),
  requestLogging: z.strictObject({ enabled: z.boolean().default(true), startLevel: requestLevel.default('debug'), completeLevel: requestLevel.default('debug'), errorLevel: requestLevel.default('info') }).prefault({}),
  health: z.strictObject({ intervalMs: positiveInt.default(30_000), failingIntervalMs: positiveInt.default(5_000), failureThreshold: positiveInt.default(3), timeoutMs: positiveInt.default(5_000) }).prefault({}),
});

// Alert channels: the same shape src/observability/alerts/config.ts builds from, one strict object
// per type. Secrets are never literals: a channel names the variable (`routingKeyEnv`).
const channelCommon = { enabled: z.boolean().optional(), fallback: nonEmpty.optional() };
const alertChannelSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('slack'), ...channelCommon, webhookUrlEnv: envName.optional(), mention: nonEmpty.optional() }),
    z.strictObject({ type: z.literal('pagerduty'), ...channelCommon, routingKeyEnv: envName.optional(), url: url.optional(), triggerOn: severities.optional() }),
    z.strictObject({
      type: z.literal('email'),
      ...channelCommon,
      host: nonEmpty,
      port: port.optional(),
      secure: z.boolean().optional(),
      requireTLS: z.boolean().optional(),
      rejectUnauthorized: z.boolean().optional(),
      user: nonEmpty.optional(),
      userEnv: envName.optional(),
      passwordEnv: envName.optional(),
      from: nonEmpty,
      to: recipients,
      subjectPrefix: nonEmpty.optional(),
    }),
    z.strictObject({ type: z.literal('webhook'), ...channelCommon, url: url.optional(), urlEnv: envName.optional(), secretEnv: envName.optional(), headers: z.record(z.string(), z.string()).optional() }),
    z.strictObject({ type: z.literal('twilio'), ...channelCommon, accountSid: nonEmpty.optional(), accountSidEnv: envName.optional(), authTokenEnv: envName.optional(), from: nonEmpty, to: recipients, baseUrl: url.optional() }),
  ],
  { error: 'expected "type" to be one of slack, pagerduty, email, webhook, twilio' },
);

export const alertsSchema = z
  .strictObject({
    routes: z.strictObject({ critical: stringList.optional(), warning: stringList.optional(), info: stringList.optional() }).optional(),
    channels: z.record(z.string(), alertChannelSchema).default({}),
    dedupWindowMs: ms.default(300_000),
    historySize: positiveInt.default(200),
    retry: z.strictObject({ attempts: positiveInt.default(3), baseMs: ms.default(1_000), maxMs: ms.default(30_000) }).prefault({}),
    timeoutMs: positiveInt.default(10_000),
    source: nonEmpty.optional(),
  })
  .superRefine((a, ctx) => {
    // References are checked here so `andon config check` catches them without the secrets.
    for (const [name, c] of Object.entries(a.channels)) {
      if (c.fallback !== undefined && !(c.fallback in a.channels)) ctx.addIssue({ code: 'custom', path: ['channels', name, 'fallback'], message: `names an unknown channel "${c.fallback}"` });
      if (c.type === 'webhook' && c.url === undefined && c.urlEnv === undefined) ctx.addIssue({ code: 'custom', path: ['channels', name, 'url'], message: 'a webhook channel needs url (or urlEnv)' });
    }
    for (const [sev, names] of Object.entries(a.routes ?? {})) {
      for (const n of names ?? []) if (!(n in a.channels)) ctx.addIssue({ code: 'custom', path: ['routes', sev], message: `names an unknown channel "${n}"` });
    }
  });

/** The whole configuration file. Every section and key is optional in the file. */
export const configSchema = z.strictObject({
  http: httpSchema.prefault({}),
  connections: connectionsSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  /** Serve MCP over stdin/stdout (with `http.enabled: false` for stdio only). */
  stdio: z.boolean().default(false),
  websocket: websocketSchema.prefault({}),
  tcp: tcpSchema.prefault({}),
  legacySse: legacySseSchema.prefault({}),
  stateDir: nonEmpty.default('./.andon'),
  store: storeSchema.prefault({}),
  ops: opsSchema.prefault({}),
  dashboard: dashboardSchema.prefault({}),
  drain: drainSchema.prefault({}),
  intensity: z.strictObject({ maxRestarts: positiveInt.default(5), windowMs: positiveInt.default(60_000) }).prefault({}),
  backoff: z.strictObject({ baseMs: positiveInt.default(100), maxMs: positiveInt.default(5_000) }).prefault({}),
  staleMs: positiveInt.default(7 * 24 * 60 * 60 * 1000),
  flushMs: positiveInt.default(200),
  signals: z.boolean().default(true),
  logging: loggingSchema.prefault({}),
  observability: observabilitySchema.prefault({}),
  recovery: recoverySchema.prefault({}),
  /** Alerting is off without this section. */
  alerts: alertsSchema.optional(),
  tls: tlsSchema.prefault({}),
  auth: authSchema.prefault({}),
  breakers: breakersSchema.prefault({}),
  rateLimits: rateLimitsSchema.prefault({}),
  guardian: guardianSchema.prefault({}),
  flags: flagsSchema.default({}),
  rollouts: rolloutsSchema.prefault({}),
});

/** The effective configuration: every default filled in. */
export type AndonConfig = z.output<typeof configSchema>;
/** What a file (or an override layer) may hold. */
export type AndonConfigInput = z.input<typeof configSchema>;
export type AlertsSection = z.output<typeof alertsSchema>;

/**
 * Validates `raw` (already merged from file, env and flags) and returns the effective config, or
 * the list of problems as `path: message` lines. `sources` maps a key path to where its value came
 * from (`PORT`, `--port`), so an error names the variable or flag as well as the path.
 */
export function validateConfig(raw: unknown, sources: ReadonlyMap<string, string> = new Map()): { ok: true; config: AndonConfig } | { ok: false; errors: string[] } {
  // The alerts rule comes first: its message says which `…Env` key to use instead.
  const alerts = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).alerts : undefined;
  if (alerts !== undefined) {
    try {
      assertNoSecretLiterals(alerts);
    } catch (err) {
      return { ok: false, errors: [(err as Error).message] };
    }
  }
  const r = configSchema.safeParse(raw, { reportInput: true, error: plainMessage });
  if (r.success) {
    const problems = transportSecurityProblems(r.data);
    return problems.length ? { ok: false, errors: problems } : { ok: true, config: r.data };
  }
  return { ok: false, errors: r.error.issues.map((i) => formatIssue(i, sources)) };
}

/** Messages for the issues a schema gives no message of its own (zod's defaults say "Invalid input"). */
function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `expected at least ${String(issue.minimum)} item(s)` : `expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
}

function formatIssue(issue: z.core.$ZodIssue, sources: ReadonlyMap<string, string>): string {
  const path = issue.path.map(String).join('.');
  const from = sources.get(path);
  const input = 'input' in issue ? issue.input : undefined;
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) return `${path}: required (${issue.message})`;
  // A discriminated union reports the whole object; the value of the bad key says more.
  const last = issue.path[issue.path.length - 1];
  if (issue.code === 'invalid_union' && input !== null && typeof input === 'object' && !Array.isArray(input) && typeof last === 'string' && last in input) {
    return `${path}: ${issue.message}, got ${describe((input as Record<string, unknown>)[last])}${from ? ` (from ${from})` : ''}`;
  }
  if (issue.code === 'unrecognized_keys') {
    const at = path ? `${path}.` : '';
    return issue.keys.map((k) => `${at}${k}: unknown key${knownKeys(issue.path)}`).join('; ');
  }
  const got = issue.code === 'custom' || input === undefined ? '' : `, got ${describe(input)}`;
  return `${path || '(root)'}: ${issue.message}${got}${from ? ` (from ${from})` : ''}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
}

/** ` (known: a, b, c)` for the object at `path`, when the schema there is a plain object. */
function knownKeys(path: PropertyKey[]): string {
  const keys = keysAt(path);
  return keys ? ` (known: ${keys.join(', ')})` : '';
}

function keysAt(path: PropertyKey[]): string[] | undefined {
  let s: z.ZodType = configSchema;
  for (const p of path) {
    const next = childSchema(s, String(p));
    if (!next) return undefined;
    s = next;
  }
  const shape = shapeOf(s);
  return shape ? Object.keys(shape) : undefined;
}

/** Unwraps defaults, optionals and refinements down to the object, record or union below. */
export function unwrap(s: z.ZodType): z.ZodType {
  let cur = s as z.ZodType & { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } };
  for (let i = 0; i < 10; i++) {
    const d = cur.def;
    if ((d.type === 'default' || d.type === 'optional' || d.type === 'prefault' || d.type === 'nullable' || d.type === 'readonly') && d.innerType) cur = d.innerType as typeof cur;
    else if (d.type === 'pipe' && d.in) cur = d.in as typeof cur;
    else break;
  }
  return cur;
}

/** The shape of an object schema (after unwrapping), else undefined. */
export function shapeOf(s: z.ZodType): Record<string, z.ZodType> | undefined {
  const u = unwrap(s) as z.ZodType & { def: { type: string; shape?: Record<string, z.ZodType> } };
  return u.def.type === 'object' ? u.def.shape : undefined;
}

function childSchema(s: z.ZodType, key: string): z.ZodType | undefined {
  const u = unwrap(s) as z.ZodType & { def: { type: string; valueType?: z.ZodType } };
  const shape = shapeOf(u);
  if (shape) return shape[key];
  if (u.def.type === 'record') return u.def.valueType;
  return undefined;
}
