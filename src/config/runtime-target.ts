/**
 * The {@link ReloadTarget} of a running runtime: the few setters a reload needs. Built by whoever
 * created the runtime (the CLI), so the runtime itself only holds `reloader` and answers SIGHUP.
 */
import type { Runtime, RuntimeOptions } from '../runtime/runtime.js';
import type { Logger } from '../util/logger.js';
import { buildAlertChannels } from '../observability/alerts/config.js';
import type { ReloadTarget } from './reload.js';
import { alertsConfigFromSection } from './runtime-options.js';

/** What {@link runtimeReloadTarget} needs besides the runtime. */
export interface RuntimeReloadParts {
  /** The options object passed to createRuntime: drain budgets are read from it at drain time. */
  options: RuntimeOptions;
  /** The node's logger; a pino logger's `level` is set on reload. */
  logger?: Logger;
  /** Where alert channel secrets are read. Default process.env. */
  env?: Record<string, string | undefined>;
}

/** Setters for log level, drain budgets and (when alerting runs) the alert manager. */
export function runtimeReloadTarget(rt: Runtime, parts: RuntimeReloadParts): ReloadTarget {
  const target: ReloadTarget = {
    setDrain: (d) => {
      parts.options.drain = { graceMs: d.graceMs, haltMs: d.haltMs };
    },
  };
  if (rt.rateLimits) target.setRateLimits = (r) => rt.rateLimits!.configure(r);
  const log = parts.logger as (Logger & { level?: string; setLevel?: (level: string) => void }) | undefined;
  if (log?.setLevel) target.setLogLevel = (level) => log.setLevel!(level);
  else if (log && typeof log.level === 'string') {
    target.setLogLevel = (level) => {
      log.level = level;
    };
  }
  const alerts = rt.obs?.alerts;
  if (alerts) {
    target.prepareAlerts = (section) => {
      // Built before anything changes: an unset secret variable rejects the whole reload.
      const cfg = section ? alertsConfigFromSection(section) : {};
      const built = buildAlertChannels(cfg, parts.env ?? process.env);
      return () => {
        for (const s of built.secrets) (log as { addSecret?: (v: string) => void } | undefined)?.addSecret?.(s);
        for (const w of built.warnings) log?.warn({ warning: w }, 'alert configuration');
        alerts.reconfigure({ channels: built.channels, routes: built.routes, fallbacks: built.fallbacks, dedupWindowMs: cfg.dedupWindowMs, retry: cfg.retry, timeoutMs: cfg.timeoutMs, source: cfg.source });
      };
    };
  }
  return target;
}
