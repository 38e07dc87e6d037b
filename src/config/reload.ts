/**
 * Live reload of the configuration (SIGHUP, `andon config reload`, POST /admin/config/reload):
 * re-read file + environment, validate, and apply the settings that can change without a restart.
 * A configuration that fails validation — or whose reloadable part cannot be applied (an alert
 * channel whose secret variable is unset) — is rejected whole, and the old one stays in effect.
 * Changes to anything else (ports, stateDir…) are reported as needing a restart, not applied.
 *
 * Later issues make their settings reloadable by adding a prefix to {@link RELOADABLE} and a
 * method to {@link ReloadTarget}.
 */
import type { Logger } from '../util/logger.js';
import { nullLogger } from '../util/logger.js';
import { ConfigError, type LoadedConfig } from './load.js';
import type { AndonConfig, AlertsSection } from './schema.js';

/** Key paths (and their subtrees) applied live. */
export const RELOADABLE = ['alerts', 'logging.level', 'drain.graceMs', 'drain.haltMs', 'rateLimits'] as const;

/** Whether a key path reloads without a restart. */
export function isReloadable(path: string): boolean {
  return RELOADABLE.some((r) => path === r || path.startsWith(`${r}.`));
}

/**
 * What a reload acts on: a few setters the runtime provides. `alerts` prepares the new section
 * (builds its channels, which may throw) and returns the commit, so nothing changes unless every
 * part is ready. A missing member means "not running here": a change to it needs a restart.
 */
export interface ReloadTarget {
  setLogLevel?(level: AndonConfig['logging']['level']): void;
  setDrain?(drain: AndonConfig['drain']): void;
  prepareAlerts?(section: AlertsSection | undefined): () => void;
  setRateLimits?(section: AndonConfig['rateLimits']): void;
}

/** The outcome of one reload. */
export interface ReloadReport {
  ok: boolean;
  /** File re-read, if any. */
  file?: string;
  /** Key paths whose new values are now in effect. */
  applied: string[];
  /** Key paths that changed but take effect only after a restart. */
  needsRestart: string[];
  /** Why the reload was rejected (ok false); the previous configuration stays in effect. */
  errors: string[];
}

/** Leaf key paths whose values differ; lists and the `alerts` section compare whole. */
export function diffConfig(a: unknown, b: unknown, prefix = ''): string[] {
  const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (plain(a) && plain(b) && prefix !== 'alerts') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffConfig(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

/** Options of {@link ConfigReloader}. */
export interface ConfigReloaderOptions {
  /** Re-reads file and environment (the same options as at start). Throws ConfigError. */
  load: () => LoadedConfig;
  /** The configuration in effect now. */
  current: AndonConfig;
  target: ReloadTarget;
  logger?: Logger;
}

/** Re-reads and applies the reloadable settings; one instance per running node. */
export class ConfigReloader {
  private currentConfig: AndonConfig;
  /** The settings the restart-only keys had at start, to report what still differs from them. */
  private readonly started: AndonConfig;
  private readonly log: Logger;

  constructor(private readonly options: ConfigReloaderOptions) {
    this.currentConfig = options.current;
    this.started = options.current;
    this.log = options.logger ?? nullLogger;
  }

  /** The configuration in effect (reloadable keys as last applied). */
  get current(): AndonConfig {
    return this.currentConfig;
  }

  /** Re-reads, validates and applies. Never throws: a failure is `ok: false` with the errors. */
  reload(): ReloadReport {
    let loaded: LoadedConfig;
    try {
      loaded = this.options.load();
    } catch (err) {
      const errors = err instanceof ConfigError ? err.errors : [(err as Error).message];
      this.log.error({ errors }, 'config reload rejected; the previous configuration stays in effect');
      return { ok: false, applied: [], needsRestart: [], errors };
    }
    const next = loaded.config;
    const changed = diffConfig(this.currentConfig, next);
    const t = this.options.target;
    const applied: string[] = [];
    const needsRestart = diffConfig(this.started, next).filter((p) => !isReloadable(p));
    const commits: Array<() => void> = [];
    const touches = (prefix: string) => changed.filter((p) => p === prefix || p.startsWith(`${prefix}.`));
    try {
      const alerts = touches('alerts');
      if (alerts.length) {
        if (t.prepareAlerts) {
          commits.push(t.prepareAlerts(next.alerts));
          applied.push(...alerts);
        } else needsRestart.push(...alerts);
      }
    } catch (err) {
      const errors = [(err as Error).message];
      this.log.error({ errors }, 'config reload rejected; the previous configuration stays in effect');
      return { ok: false, file: loaded.file, applied: [], needsRestart: [], errors };
    }
    if (touches('logging.level').length) {
      if (t.setLogLevel) {
        const level = next.logging.level;
        commits.push(() => t.setLogLevel!(level));
        applied.push('logging.level');
      } else needsRestart.push('logging.level');
    }
    const drain = touches('drain').filter(isReloadable);
    if (drain.length) {
      if (t.setDrain) {
        const d = { ...next.drain };
        commits.push(() => t.setDrain!(d));
        applied.push(...drain);
      } else needsRestart.push(...drain);
    }
    const rates = touches('rateLimits');
    if (rates.length) {
      if (t.setRateLimits) {
        const r = next.rateLimits;
        commits.push(() => t.setRateLimits!(r));
        applied.push(...rates);
      } else needsRestart.push(...rates);
    }
    for (const c of commits) c();
    // Restart-only keys keep their start-time values in `current`: that is what is running.
    const merged = { ...this.started, alerts: next.alerts, logging: { ...this.started.logging, level: next.logging.level }, drain: { ...next.drain }, rateLimits: next.rateLimits } as AndonConfig;
    this.currentConfig = merged;
    this.log.info({ file: loaded.file, applied, needsRestart }, applied.length ? 'configuration reloaded' : 'configuration reloaded: nothing to apply');
    if (needsRestart.length) this.log.warn({ keys: needsRestart }, 'configuration changes that take effect only after a restart');
    return { ok: true, file: loaded.file, applied, needsRestart, errors: [] };
  }
}
