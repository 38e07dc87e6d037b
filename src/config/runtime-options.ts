/**
 * From the validated configuration to the options of the parts it configures: the runtime
 * (`createRuntime`) and the logger (`createLogger`). Kept apart from the schema so the runtime
 * never depends on the file format, and embedders can keep passing options directly.
 */
import type { RuntimeOptions } from '../runtime/runtime.js';
import type { LoggerOptions } from '../util/logger.js';
import type { AlertsConfig } from '../observability/alerts/config.js';
import type { AndonConfig, AlertsSection } from './schema.js';

/** The `alerts` section in the shape src/observability/alerts/config.ts builds channels from. */
export function alertsConfigFromSection(a: AlertsSection): AlertsConfig {
  return a as unknown as AlertsConfig;
}

/** Logger options of a configuration (level, file rotation, redaction keys). */
export function loggerOptionsFromConfig(c: AndonConfig): LoggerOptions {
  return { level: c.logging.level, file: c.logging.file, maxBytes: c.logging.maxBytes, maxFiles: c.logging.maxFiles, redactKeys: c.logging.redactKeys };
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
  };
  // A host may spawn several stdio servers at once, so over stdio the ops listener is opt-in.
  const opsOn = c.ops.enabled ?? !(c.stdio && !h.enabled);
  const o = c.observability;
  return {
    http: h.enabled ? httpOpts : false,
    stdio: c.stdio,
    stateDir: c.stateDir,
    ops: opsOn ? { port: c.ops.port, host: c.ops.host, dashboard: c.dashboard.enabled ? { sessionTtlMs: c.dashboard.sessionTtlMs } : false } : false,
    drain: { graceMs: c.drain.graceMs, haltMs: c.drain.haltMs },
    intensity: c.intensity,
    backoff: c.backoff,
    staleMs: c.staleMs,
    flushMs: c.flushMs,
    signals: c.signals,
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

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
