/**
 * The sections of the configuration schema added by the resilience, transport, security, store and
 * dashboard parts (issues 10, 11, 13, 14); src/config/schema.ts composes them into the one schema.
 */
import { z } from 'zod';
import { port, ms, positiveInt, nonEmpty, envName, stringList, url } from './schema-primitives.js';

/** Connection limits of the MCP endpoint (sockets, slow clients, request bodies being read). */
export const connectionsSchema = z.strictObject({
  max: positiveInt.default(1024),
  maxPerClient: positiveInt.default(256),
  headersTimeoutMs: positiveInt.default(10_000),
  requestTimeoutMs: positiveInt.default(30_000),
  idleSocketMs: positiveInt.default(65_000),
  maxBufferedBodyBytes: positiveInt.default(64 * 1024 * 1024),
});

/** Session limits of the MCP endpoint (idle expiry is `http.sessionIdleMs`). */
export const limitsSchema = z.strictObject({
  maxSessions: positiveInt.default(10_000),
  maxSessionsPerClient: positiveInt.default(1_000),
  maxSseStreams: positiveInt.default(10_000),
  maxSubscriptionsPerSession: positiveInt.default(1_000),
  maxUriLength: positiveInt.default(2_048),
});

/** WebSocket transport (subprotocol `mcp`): on the MCP listener at `path`, or on its own `port`. */
export const websocketSchema = z.strictObject({
  enabled: z.boolean().default(false),
  path: nonEmpty.regex(/^\//, { error: 'expected a path starting with /' }).default('/ws'),
  /** Unset: share the MCP HTTP listener. */
  port: port.optional(),
  /** With `port`: the bind address. Default `http.host`. */
  host: nonEmpty.optional(),
  maxConnections: positiveInt.default(1000),
  pingIntervalMs: ms.default(30_000),
  maxBufferedBytes: positiveInt.default(4 * 1024 * 1024),
});

/** TCP transport: newline-delimited JSON-RPC on its own port. */
export const tcpSchema = z.strictObject({
  enabled: z.boolean().default(false),
  port: port.default(3001),
  host: nonEmpty.default('127.0.0.1'),
  maxConnections: positiveInt.default(1000),
  maxLineBytes: positiveInt.default(4 * 1024 * 1024),
  maxBufferedBytes: positiveInt.default(4 * 1024 * 1024),
  /** With `auth.enabled`: serve TCP anyway, its clients unauthenticated (TCP carries no bearer token). */
  allowUnauthenticated: z.boolean().default(false),
});

/** Legacy HTTP+SSE transport (2024-11-05): on the MCP listener, or on its own `port`. */
export const legacySseSchema = z.strictObject({
  enabled: z.boolean().default(false),
  ssePath: nonEmpty.regex(/^\//, { error: 'expected a path starting with /' }).default('/sse'),
  messagesPath: nonEmpty.regex(/^\//, { error: 'expected a path starting with /' }).default('/messages'),
  /** Unset: share the MCP HTTP listener. */
  port: port.optional(),
  /** With `port`: the bind address. Default `http.host`. */
  host: nonEmpty.optional(),
  maxConnections: positiveInt.default(1000),
  maxBufferedBytes: positiveInt.default(4 * 1024 * 1024),
  keepAliveMs: ms.default(15_000),
});

/** Where state lives: the embedded file store (default) or Redis, shared by many nodes (docs/cluster.md). */
const redisUrl = z
  .string({ error: 'expected a redis:// or rediss:// URL' })
  .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
  .refine((u) => !/\/\/[^/@]*:[^/@]*@/.test(u), { error: 'a Redis URL with a password is a secret: put it in the environment and name the variable with urlEnv' });
export const storeSchema = z
  .strictObject({
    kind: z.enum(['file', 'redis'], { error: 'expected one of file, redis' }).default('file'),
    /** Redis: the server's URL (no credentials here; see urlEnv). */
    url: redisUrl.optional(),
    /** Redis: the variable holding the URL (it may carry credentials). Default ANDON_REDIS_URL. */
    urlEnv: envName.default('ANDON_REDIS_URL'),
    /** Redis Cluster seed nodes (instead of url). */
    cluster: z.array(redisUrl).min(1).optional(),
    /** Redis Sentinel: master group name and sentinel URLs (instead of url). */
    sentinel: z.strictObject({ name: nonEmpty, nodes: z.array(redisUrl).min(1) }).optional(),
    prefix: nonEmpty.regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, _ . -' }).default('andon'),
    waitReplicas: z.number().int().min(0).default(0),
    commandTimeoutMs: positiveInt.default(5_000),
    /** Redis: SSE events kept per stream (XADD MAXLEN ~), for resuming a stream on another node. */
    streamMaxLen: positiveInt.default(256),
    /** Redis: an SSE stream's events expire this long after its last event. */
    streamTtlMs: positiveInt.default(3_600_000),
    /** This node's stable name among the nodes on the store. Default `<host name>-<http.port>`. */
    nodeId: nonEmpty.regex(/^[A-Za-z0-9_.:-]+$/, { error: 'expected letters, digits, _ . : -' }).optional(),
    /** Shared store: membership heartbeat period (`andon nodes`); a node missing 3 is shown down. */
    heartbeatMs: positiveInt.default(2_000),
  })
  .superRefine((st, ctx) => {
    const targets = [st.url, st.cluster, st.sentinel].filter((x) => x !== undefined).length;
    if (targets > 1) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give one of url, cluster, sentinel' });
  });

/** The operations dashboard on the ops listener (`/dashboard`). */
export const dashboardSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Idle lifetime of a dashboard login session. */
  sessionTtlMs: positiveInt.default(8 * 60 * 60 * 1000),
});

/** The recovery strategist (src/runtime/recovery/): failure history, classification, plans. */
export const recoverySchema = z.strictObject({
  enabled: z.boolean().default(true),
  historySize: positiveInt.default(100),
  windowMs: positiveInt.default(300_000),
  cascadeWindowMs: positiveInt.default(10_000),
  /** component id → the component ids it depends on, e.g. `tool:report: [tool:db]`. */
  dependencies: z.record(nonEmpty, stringList, { error: 'expected a mapping of component id to a list of component ids' }).default({}),
  decisions: positiveInt.default(500),
  persistentAfter: positiveInt.default(3),
  attemptTimeoutMs: positiveInt.default(30_000),
});
/** TLS for the MCP listener (docs/security.md). */
export const tlsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    certFile: nonEmpty.optional(),
    keyFile: nonEmpty.optional(),
    caFile: nonEmpty.optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3'], { error: 'expected TLSv1.2 or TLSv1.3' }).default('TLSv1.2'),
    hsts: z.strictObject({ enabled: z.boolean().default(true), maxAgeSec: z.number().int().min(0).default(31_536_000) }).prefault({}),
    reloadOnChange: z.boolean().default(true),
  })
  .superRefine((t, ctx) => {
    if (t.enabled && !t.certFile) ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'required when tls.enabled is true' });
    if (t.enabled && !t.keyFile) ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'required when tls.enabled is true' });
  });

/** The OAuth 2.1 resource server on the MCP listener (docs/security.md). Secrets only through the environment. */
export const authSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    issuer: url.optional(),
    resource: url.optional(),
    audience: z.union([nonEmpty, stringList], { error: 'expected a string or a list of strings' }).optional(),
    jwksUrl: url.optional(),
    introspection: z.strictObject({ url, clientIdEnv: envName, clientSecretEnv: envName }).optional(),
    clockSkewSec: z.number().int().min(0).max(300).default(30),
    scopes: z
      .strictObject({
        default: stringList.default([]),
        tools: z.record(z.string(), stringList).default({}),
        resources: z.record(z.string(), stringList).default({}),
        prompts: z.record(z.string(), stringList).default({}),
      })
      .prefault({}),
  })
  .superRefine((a, ctx) => {
    if (a.enabled && !a.issuer) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'required when auth.enabled is true' });
  });

/** Thresholds of one circuit breaker; in `breakers.tools.<name>` / `.downstreams.<name>` every key is optional. */
const breakerShape = {
  windowMs: positiveInt,
  minCalls: positiveInt,
  errorRate: z.number({ error: 'expected a number above 0, at most 1' }).gt(0, { error: 'expected a number above 0, at most 1' }).max(1, { error: 'expected a number above 0, at most 1' }),
  p95Ms: positiveInt,
  openMs: positiveInt,
  halfOpenProbes: positiveInt,
};
const breakerOverride = z.strictObject({
  windowMs: breakerShape.windowMs.optional(),
  minCalls: breakerShape.minCalls.optional(),
  errorRate: breakerShape.errorRate.optional(),
  p95Ms: breakerShape.p95Ms.optional(),
  openMs: breakerShape.openMs.optional(),
  halfOpenProbes: breakerShape.halfOpenProbes.optional(),
});

/** Circuit breakers per tool and per `ctx.downstream` name (src/resilience). */
export const breakersSchema = z.strictObject({
  enabled: z.boolean().default(true),
  windowMs: breakerShape.windowMs.default(60_000),
  minCalls: breakerShape.minCalls.default(20),
  errorRate: breakerShape.errorRate.default(0.5),
  /** Unset: latency never opens a breaker. */
  p95Ms: breakerShape.p95Ms.optional(),
  openMs: breakerShape.openMs.default(30_000),
  halfOpenProbes: breakerShape.halfOpenProbes.default(3),
  tools: z.record(z.string(), breakerOverride).default({}),
  downstreams: z.record(z.string(), breakerOverride).default({}),
});

const perSec = z.number({ error: 'expected a number > 0 (per second)' }).positive({ error: 'expected a number > 0 (per second)' });

/** Rate limits (src/resilience/rate-limits.ts): per client identity, per tool, global. */
export const rateLimitsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  perClient: z.strictObject({ messagesPerSec: perSec.default(100), toolCallsPerSec: perSec.default(50) }).prefault({}),
  global: z.strictObject({ messagesPerSec: perSec.default(10_000) }).prefault({}),
  tools: z.record(nonEmpty, z.strictObject({ callsPerSec: perSec })).default({}),
  burstSec: perSec.default(1),
  sustainedAlertSec: positiveInt.default(10),
});

const ratio = z.number({ error: 'expected a number between 0 and 1' }).gt(0, { error: 'expected a number between 0 and 1' }).max(1, { error: 'expected a number between 0 and 1' });

/** The resource guardian, degradation mode and emergency stop (src/resilience/guardian.ts). */
export const guardianSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    intervalMs: positiveInt.default(5_000),
    warning: ratio.default(0.85),
    degrade: ratio.default(0.9),
    hard: ratio.default(0.97),
    recover: ratio.default(0.8),
    recoverSamples: positiveInt.default(3),
    eventLoopDelayMs: positiveInt.default(1_000),
    maxToolCallsWhileDegraded: positiveInt.default(16),
    emergencyStop: z.boolean().default(true),
  })
  .superRefine((g, ctx) => {
    if (!(g.recover < g.degrade)) ctx.addIssue({ code: 'custom', path: ['recover'], message: `must be below guardian.degrade (${g.degrade})` });
    if (!(g.warning <= g.degrade)) ctx.addIssue({ code: 'custom', path: ['warning'], message: `must not exceed guardian.degrade (${g.degrade})` });
    if (!(g.degrade <= g.hard)) ctx.addIssue({ code: 'custom', path: ['hard'], message: `must not be below guardian.degrade (${g.degrade})` });
  });

const flagVersion = z.string().regex(/^\d+(\.\d+){0,3}([-+].*)?$/, { error: 'expected a dotted version like 1.2.0' });

/** One feature flag as the file defines it (src/flags/model.ts has the same rules). */
const flagSchema = z.strictObject({
  /** Default: `percentage` when `percent` is given, else `boolean`. */
  kind: z.enum(['boolean', 'percentage']).optional(),
  enabled: z.boolean().default(true),
  percent: z.number({ error: 'expected a number from 0 to 100' }).min(0, { error: 'expected a number from 0 to 100' }).max(100, { error: 'expected a number from 0 to 100' }).optional(),
  rules: z
    .array(
      z.strictObject({
        action: z.enum(['include', 'exclude']).optional(),
        clientName: nonEmpty.optional(),
        minVersion: flagVersion.optional(),
        maxVersion: flagVersion.optional(),
      }),
    )
    .max(32)
    .optional(),
  description: z.string().max(1000).optional(),
});

/**
 * Feature flags (src/flags; docs/flags.md), by name: seeded into the store when absent. A flag
 * already in the store keeps its stored value (changes through the admin API or CLI win).
 */
export const flagsSchema = z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, { error: 'flag names: letters, digits, ".", "_", ":" and "-", at most 128' }).refine((n) => n !== 'audit', { error: 'the flag name "audit" is reserved' }), flagSchema);

/** Automatic rollback of rollouts (src/flags/rollouts.ts; docs/flags.md "Rollouts"). */
export const rolloutsSchema = z.strictObject({
  evaluationIntervalMs: z.number().int().min(10).default(5000),
  windowMs: z.number().int().min(100).default(60_000),
  errorRate: z.number().gt(0).max(1).default(0.05),
  minCalls: z.number().int().min(1).default(20),
  latencyFactor: z.number().gt(1).default(2),
  maxRestartsPerMinute: z.number().int().min(0).default(10),
  minAlertDeliveryRate: z.number().min(0).max(1).default(0.95),
  minAlertDeliveries: z.number().int().min(1).default(5),
  rollbackOnBreakerOpen: z.boolean().default(true),
});
