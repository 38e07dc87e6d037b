/**
 * Turns runtime and health events into alerts, by subscription: a component halted (critical, or
 * warning for a manual halt; resolved when it resumes; a halt for exceeded restart intensity is
 * this one alert, its reason says so), recovery decisions (recovery-alerts.ts), a health check turning
 * unhealthy (critical for a critical check, else warning; resolved on recovery), a drain whose
 * grace ran out with requests still running (warning), a corrupt or misplaced state file moved to
 * quarantine (critical: state was not loaded; for a halt record the component stays halted). Each
 * alert names its incident, so repeats update one PagerDuty incident and recovery resolves it.
 *
 * Quarantines found while the node was starting happen before alerting is wired; they are held by
 * the event registry and delivered here when the wiring starts.
 */
import { events, on, subscribeAll, takeHeldQuarantines, type ComponentEvent, type DrainEvent, type HealthEvent, type QuarantineEvent } from '../../events/index.js';
import type { AlertManager } from './manager.js';
import { wireRecoveryAlerts } from './recovery-alerts.js';
import { breakerAlerts } from './breaker-alerts.js';
import { flagAlerts } from './flag-alerts.js';
import { rolloutAlerts } from './rollout-alerts.js';
import { rateLimitAlerts } from './rate-limit-alerts.js';
import { wireGuardianAlerts } from './guardian-alerts.js';

/** Options of {@link wireAlerts}. */
export interface AlertWiringOptions {
  /** Whether a component state means halted. Default: states starting with `halted` (halted_manual, halted_fatal). */
  isHalted?: (state: string) => boolean;
  /**
   * Severity of a halt. Default: `warning` for `halted_manual` (an operator pulled the cord on
   * purpose; the team should know, nobody needs paging), `critical` for anything else.
   */
  haltedSeverity?: (e: ComponentEvent) => 'critical' | 'warning';
}

/** Subscribes `alerts` to the runtime's events; returns the function that unsubscribes. */
export function wireAlerts(alerts: AlertManager, options: AlertWiringOptions = {}): () => void {
  const isHalted = options.isHalted ?? ((s: string) => s.startsWith('halted'));
  const haltedSeverity = options.haltedSeverity ?? ((e: ComponentEvent) => (e.to === 'halted_manual' ? 'warning' : 'critical'));

  const onComponent = (m: unknown): void => {
    const e = m as ComponentEvent;
    // A halt restored from the store was alerted when it happened; a corrupt one comes on `quarantine`.
    if (e.restored) return;
    const incident = `component:${e.id}:halted`;
    if (isHalted(e.to) && !isHalted(e.from)) {
      alerts.alert(haltedSeverity(e), `Component halted: ${e.id}`, { component: e.id, kind: e.kind, from: e.from, to: e.to, reason: e.reason ?? null }, { component: e.id, incident });
    } else if (isHalted(e.from) && !isHalted(e.to)) {
      alerts.resolve(incident, { title: `Component resumed: ${e.id}`, context: { component: e.id, kind: e.kind, to: e.to, reason: e.reason ?? null } });
    }
  };

  // Restart intensity exceeded is not an alert of its own: the supervisor halts the component
  // (halted_fatal) at once, and that halt's alert carries the reason ("restart intensity exceeded:
  // …"), so a crash loop pages once, not twice. The metric andon_restart_intensity_exceeded_total counts it.

  const onDrain = (m: unknown): void => {
    const e = m as DrainEvent;
    if (!e.forced) return;
    alerts.alert('warning', 'Drain timed out: requests were aborted', { phase: e.phase, forced: e.forced, drained: e.drained ?? 0, inflight: e.inflight, durationMs: Math.round(e.durationMs) }, { component: 'drain' });
  };

  const onHealth = (m: unknown): void => {
    const e = m as HealthEvent;
    const incident = `health:${e.component}`;
    if (e.to === 'unhealthy') {
      alerts.alert(e.critical ? 'critical' : 'warning', `Health check failing: ${e.component}`, { component: e.component, consecutiveFailures: e.consecutiveFailures, error: e.error ?? null, critical: e.critical }, { component: e.component, incident });
    } else if (e.from === 'unhealthy' && e.to === 'healthy') {
      alerts.resolve(incident, { title: `Health check recovered: ${e.component}`, context: { component: e.component } });
    }
  };

  const onQuarantine = (e: QuarantineEvent): void => {
    const what = e.ns === 'halt' ? `halt record of ${e.key}` : `${e.ns}/${e.key}`;
    const consequence = e.consequence ?? (e.ns === 'halt' ? `component ${e.key} stays halted (halted_fatal) until an operator resumes it` : 'the record was not loaded');
    alerts.alert('critical', `Corrupt state quarantined: ${what}`, { ns: e.ns, key: e.key, file: e.file, reason: e.reason, consequence }, { component: e.ns === 'halt' ? e.key : 'store', incident: `quarantine:${e.ns}:${e.key}` });
  };

  const unsubscribe = subscribeAll([
    on(events.component, onComponent as (e: ComponentEvent) => void),
    on(events.drain, onDrain as (e: DrainEvent) => void),
    on(events.health, onHealth as (e: HealthEvent) => void),
    on(events.quarantine, onQuarantine),
    breakerAlerts(alerts),
    rolloutAlerts(alerts),
    flagAlerts(alerts),
    rateLimitAlerts(alerts),
  ]);
  const unwireRecovery = wireRecoveryAlerts(alerts);
  for (const e of takeHeldQuarantines()) onQuarantine(e);
  const unwireGuardian = wireGuardianAlerts(alerts);
  return () => {
    unsubscribe();
    unwireRecovery();
    unwireGuardian();
  };
}
