/**
 * Feature flag metrics, from the `flagChange` channel: `andon_flag_changes_total{flag}` (changes
 * made here or announced by another node), `andon_flag_enabled{flag}` (1 enabled, 0 disabled)
 * and `andon_flag_percent{flag}` (the cohort's percentage; 100 for a boolean flag). A deleted
 * flag's gauges are removed. Flag names are operator-defined and bounded by the store.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { events, on, type FlagChangeEvent, type Subscription } from '../events/index.js';

/** Registers the flag metrics on `registry`; returns the subscription that feeds them. */
export function flagMetrics(registry: Registry, prefix: string): Subscription[] {
  const registers = [registry];
  const changes = new Counter({ name: `${prefix}flag_changes_total`, help: 'Feature flag changes (set, enable, disable, delete), by flag.', labelNames: ['flag'], registers });
  const enabled = new Gauge({ name: `${prefix}flag_enabled`, help: 'Feature flag state: 1 enabled, 0 disabled.', labelNames: ['flag'], registers });
  const percent = new Gauge({ name: `${prefix}flag_percent`, help: 'Feature flag cohort percentage (100 for a boolean flag).', labelNames: ['flag'], registers });
  return [
    on(events.flagChange, (e: FlagChangeEvent) => {
      if (!e.loaded) changes.inc({ flag: e.flag });
      if (e.to === null) {
        enabled.remove({ flag: e.flag });
        percent.remove({ flag: e.flag });
        return;
      }
      enabled.set({ flag: e.flag }, e.to.enabled ? 1 : 0);
      percent.set({ flag: e.flag }, e.to.percent);
    }),
  ];
}
