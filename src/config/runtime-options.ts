/**
 * From the validated configuration to the options of the parts it configures: the runtime
 * (`createRuntime`) and the logger (`createLogger`). Kept apart from the schema so the runtime
 * never depends on the file format, and embedders can keep passing options directly.
 */
import type { RuntimeOptions } from '../runtime/runtime.js';
import type { LoggerOptions } from '../util/logger.js';
import type { AlertsConfig } from '../observability/alerts/config.js';
import type { AndonConfig, AlertsSection } from './schema.js';
import { RedisStore } from '../store/redis-store.js';
import type { TlsOptions } from '../transports/tls.js';
import type { AuthOptions } from '../auth/resource-server.js';

/** The `alerts` section in the shape src/observability/alerts/config.ts builds channels from. */
export function alertsConfigFromSection(a: AlertsSection): AlertsConfig {
  return a as unknown as AlertsConfig;
}

/** Logger options of a configuration (level, file rotation, redaction keys). */
export function loggerOptionsFromConfig(c: AndonConfig): LoggerOptions {
  return { level: c.logging.level, file: c.logging.file, maxBytes: c.logging.maxBytes, maxFiles: c.logging.maxFiles, maxBufferBytes: c.logging.maxBufferBytes, redactKeys: c.logging.redactKeys };
}

/**
 * RuntimeOptions of a configuration, except `server` and what is not configuration (logger, store,
 * streams, exit). Every value is explicit, so the runtime's own environment fallbacks never apply
 * to a node started from a config: the loader has read the environment already.
 */
export function runtimeOptionsFromConfig(c: AndonConfig): Omit<RuntimeOptions, 'server'> {
  const h = c.http;
  const httpOpts = {
    port: h.port,
    host: h.host,
    path: h.path,
    maxBodyBytes: h.maxBodyBytes,
    responseMode: h.responseMode,
    // Bound beyond loopback, the Host check cannot know the public names: accept any unless listed.
    ...(h.allowedHosts !== undefined ? { allowedHosts: h.allowedHosts } : isLoopback(h.host) ? {} : { allowedHosts: '*' as const }),
    ...(h.allowedOrigins !== undefined ? { allowedOrigins: h.allowedOrigins } : {}),
    retryMs: h.retryMs,
    keepAliveMs: h.keepAliveMs,
    sessionIdleMs: h.sessionIdleMs,
    connections: { ...c.connections },
    limits: { ...c.limits },
    ...securityOptionsFromConfig(c),
  };
  // A host may spawn several stdio servers at once, so over stdio the ops listener is opt-in.
  const opsOn = c.ops.enabled ?? !(c.stdio && !h.enabled);
  const o = c.observability;
  return {
    http: h.enabled ? httpOpts : false,
    stdio: c.stdio,
    ...transportOptionsFromConfig(c, httpOpts),
    // With the MCP listener off, the other transports still take `tls` and `auth`.
    ...(h.enabled ? {} : { transportSecurity: securityOptionsFromConfig(c) }),
    stateDir: c.stateDir,
    ...(c.store.kind === 'redis' ? { store: redisStoreFromConfig(c.store) } : {}),
    ...(c.store.nodeId ? { nodeId: c.store.nodeId } : {}),
    heartbeatMs: c.store.heartbeatMs,
    ops: opsOn ? { port: c.ops.port, host: c.ops.host, dashboard: c.dashboard.enabled ? { sessionTtlMs: c.dashboard.sessionTtlMs } : false } : false,
    drain: { graceMs: c.drain.graceMs, haltMs: c.drain.haltMs },
    intensity: c.intensity,
    backoff: c.backoff,
    staleMs: c.staleMs,
    flushMs: c.flushMs,
    signals: c.signals,
    recovery: { ...c.recovery, dependencies: { ...c.recovery.dependencies } },
    breakers: c.breakers.enabled ? c.breakers : false,
    rateLimits: c.rateLimits,
    flags: c.flags,
    rollouts: c.rollouts,
    guardian: guardianOptions(c),
    observability: o.enabled
      ? {
          metrics: o.metrics.enabled ? { defaultMetrics: o.metrics.defaultMetrics, ...(o.metrics.buckets ? { buckets: o.metrics.buckets } : {}), maxLabelValues: o.metrics.maxLabelValues } : false,
          tracing: o.tracing.enabled ? { otel: o.tracing.otel, propagate: o.tracing.propagate } : false,
          requestLogging: o.requestLogging.enabled ? { startLevel: o.requestLogging.startLevel, completeLevel: o.requestLogging.completeLevel, errorLevel: o.requestLogging.errorLevel } : false,
          health: { ...o.health },
          metricsAuth: c.ops.metricsAuth,
          ...(c.alerts ? { alerts: alertsConfigFromSection(c.alerts) } : {}),
        }
      : false,
  };
}

/** The Redis store of a `store: { kind: redis }` section; the URL comes from the file or the variable it names. */
export function redisStoreFromConfig(st: AndonConfig['store'], env: NodeJS.ProcessEnv = process.env): RedisStore {
  return new RedisStore({
    url: st.url ?? env[st.urlEnv] ?? 'redis://127.0.0.1:6379',
    ...(st.cluster ? { cluster: st.cluster } : {}),
    ...(st.sentinel ? { sentinel: st.sentinel } : {}),
    prefix: st.prefix,
    waitReplicas: st.waitReplicas,
    commandTimeoutMs: st.commandTimeoutMs,
    streamMaxLen: st.streamMaxLen,
    streamTtlMs: st.streamTtlMs,
  });
}

/** `tls` and `auth` of the MCP listener (docs/security.md); absent when off. */
export function securityOptionsFromConfig(c: AndonConfig): { tls?: TlsOptions; auth?: AuthOptions } {
  const t = c.tls;
  const a = c.auth;
  return {
    ...(t.enabled ? { tls: { certFile: t.certFile!, keyFile: t.keyFile!, ...(t.caFile ? { caFile: t.caFile } : {}), minVersion: t.minVersion, reloadOnChange: t.reloadOnChange, hsts: { enabled: t.hsts.enabled, maxAgeSec: t.hsts.maxAgeSec } } } : {}),
    ...(a.enabled
      ? {
          auth: {
            issuer: a.issuer!,
            ...(a.resource ? { resource: a.resource } : {}),
            ...(a.audience ? { audience: a.audience } : {}),
            ...(a.jwksUrl ? { jwksUrl: a.jwksUrl } : {}),
            ...(a.introspection ? { introspection: a.introspection } : {}),
            clockSkewSec: a.clockSkewSec,
            scopes: a.scopes,
          },
        }
      : {}),
  };
}

/** The WebSocket, TCP and legacy SSE transports: off unless enabled; they take the HTTP body limit and Host/Origin rules. */
function transportOptionsFromConfig(c: AndonConfig, h: { maxBodyBytes: number; allowedHosts?: string[] | '*'; allowedOrigins?: string[] | '*' }): Pick<RuntimeOptions, 'websocket' | 'tcp' | 'legacySse'> {
  const { websocket: w, tcp: t, legacySse: l } = c;
  const shared = { ...(h.allowedHosts !== undefined ? { allowedHosts: h.allowedHosts } : {}), ...(h.allowedOrigins !== undefined ? { allowedOrigins: h.allowedOrigins } : {}) };
  // On its own port, a transport bound beyond loopback accepts any Host, as the MCP listener does.
  const own = (port: number | undefined, host: string | undefined) => {
    if (port === undefined) return {};
    const bind = host ?? c.http.host;
    return { port, host: bind, ...(isLoopback(bind) || c.http.allowedHosts !== undefined ? {} : { allowedHosts: '*' as const }) };
  };
  return {
    websocket: w.enabled ? { path: w.path, maxPayloadBytes: h.maxBodyBytes, maxConnections: w.maxConnections, pingIntervalMs: w.pingIntervalMs, maxBufferedBytes: w.maxBufferedBytes, ...shared, ...own(w.port, w.host) } : false,
    tcp: t.enabled ? { port: t.port, host: t.host, maxConnections: t.maxConnections, maxLineBytes: t.maxLineBytes, maxBufferedBytes: t.maxBufferedBytes, allowUnauthenticated: t.allowUnauthenticated } : false,
    legacySse: l.enabled
      ? { ssePath: l.ssePath, messagesPath: l.messagesPath, maxBodyBytes: h.maxBodyBytes, maxConnections: l.maxConnections, maxBufferedBytes: l.maxBufferedBytes, keepAliveMs: l.keepAliveMs, ...shared, ...own(l.port, l.host) }
      : false,
  };
}

/** The `guardian` section as RuntimeOptions.guardian (false when disabled). */
function guardianOptions(c: AndonConfig): RuntimeOptions['guardian'] {
  const { enabled, ...g } = c.guardian;
  return enabled ? g : false;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
