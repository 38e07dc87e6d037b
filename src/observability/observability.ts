/**
 * One call to set up everything: metrics, tracing, request logging, health and (when configured)
 * alerts with their wiring to runtime events. Every part learns the runtime's state by
 * subscribing to the channels of src/events (drain, halt-state, degraded, component, quarantine…);
 * nothing here is called by the runtime. The runtime keeps the returned object, mounts the routes
 * with `mountObservability(ops, obs)`, and calls `stop()` on shutdown.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { nullLogger } from '../util/logger.js';
import { AndonMetrics, type MetricsOptions } from './metrics.js';
import { HealthMonitor, type HealthMonitorOptions } from './health.js';
import { RequestTracing, type TracingOptions } from './tracing.js';
import { RequestLogging, type RequestLoggingOptions } from './request-log.js';
import { AlertManager, type AlertManagerOptions } from './alerts/manager.js';
import { buildAlertChannels, type AlertsConfig } from './alerts/config.js';
import { wireAlerts, type AlertWiringOptions } from './alerts/wiring.js';

/** Options of {@link createObservability}; every part is on by default except alerts (needs config). */
export interface ObservabilityOptions {
  logger?: Logger;
  /** The server, for the in-flight gauge (read at scrape time instead of counted per request). */
  server?: { inflightRequests(): readonly unknown[] };
  /** `false` turns metrics off. Pass `inflight: () => server.inflightRequests().length` to read in-flight requests from the server. */
  metrics?: MetricsOptions | false;
  /** `false` turns the request scope (trace ids in logs, OTel spans) off. */
  tracing?: TracingOptions | false;
  /** `false` turns request log lines off. */
  requestLogging?: Omit<RequestLoggingOptions, 'logger'> | false;
  health?: HealthMonitorOptions;
  /** The `alerts` config section; alerting is off without it. Secrets are read from `env`. */
  alerts?: AlertsConfig;
  /** Extra manager options (clock, concurrency…) on top of the config. */
  alertManager?: Partial<AlertManagerOptions>;
  alertWiring?: AlertWiringOptions | false;
  /** State directory for the alert history. Default: memory only. */
  stateDir?: string;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Called with each secret read from the environment, e.g. `logger.addSecret`. */
  onSecret?: (value: string) => void;
  /** Require the admin token on GET /metrics (read by `mountObservability`). Default `ANDON_METRICS_AUTH=1`. */
  metricsAuth?: boolean;
  /** Time for health checks and alert dedup/retries (unless `health`/`alertManager` set their own). Default the system clock. */
  clock?: Clock;
}

/** The running observability parts. */
export interface Observability {
  metrics: AndonMetrics | undefined;
  health: HealthMonitor;
  alerts: AlertManager | undefined;
  tracing: RequestTracing | undefined;
  requestLogging: RequestLogging | undefined;
  /** From {@link ObservabilityOptions.metricsAuth}. */
  metricsAuth?: boolean;
  /** Unsubscribes everything, stops health checks, and lets alerts in flight finish (up to 5 s). */
  stop(): Promise<void>;
}

/** Builds and starts the observability parts. Throws AlertConfigError on a bad alerts config. */
export function createObservability(options: ObservabilityOptions = {}): Observability {
  const log = options.logger ?? nullLogger;
  let alerts: AlertManager | undefined;
  let unwire: (() => void) | undefined;
  if (options.alerts) {
    const built = buildAlertChannels(options.alerts, options.env ?? process.env);
    for (const s of built.secrets) options.onSecret?.(s);
    for (const w of built.warnings) log.warn({ warning: w }, 'alert configuration');
    alerts = new AlertManager({
      channels: built.channels,
      routes: built.routes,
      fallbacks: built.fallbacks,
      dedupWindowMs: options.alerts.dedupWindowMs,
      historySize: options.alerts.historySize,
      retry: options.alerts.retry,
      timeoutMs: options.alerts.timeoutMs,
      source: options.alerts.source,
      stateDir: options.stateDir,
      logger: log.child ? log.child({ component: 'alerts' }) : log,
      clock: options.clock,
      ...options.alertManager,
    });
    if (options.alertWiring !== false) unwire = wireAlerts(alerts, options.alertWiring || {});
  }
  const health = new HealthMonitor({ clock: options.clock, ...options.health });
  const server = options.server;
  const inflight = server ? () => server.inflightRequests().length : undefined;
  const metrics = options.metrics === false ? undefined : new AndonMetrics({ ready: () => health.readiness().ready, inflight, ...options.metrics }).start();
  const tracing = options.tracing === false ? undefined : new RequestTracing(options.tracing).start();
  const requestLogging = options.requestLogging === false ? undefined : new RequestLogging({ ...options.requestLogging, logger: log, tracing }).start();
  health.start();
  return {
    metrics,
    health,
    alerts,
    tracing,
    requestLogging,
    metricsAuth: options.metricsAuth,
    async stop() {
      unwire?.();
      metrics?.stop();
      tracing?.stop();
      requestLogging?.stop();
      health.stop();
      await alerts?.close();
    },
  };
}
