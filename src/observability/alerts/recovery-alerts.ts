/**
 * Alerts of the recovery strategist (subscribed to `andon:recovery`):
 * - a `notify` step that succeeded: for a cascade a critical "Cascading failure: <component> (root
 *   cause: <root>)" naming the component whose failure came first (one incident per root cause,
 *   so the dependents of one root are one page); otherwise a warning "Recovery needs attention:
 *   <component> (<class>)";
 * - `exhausted`: critical "Recovery exhausted: <component>" (every step failed; the component is
 *   halted until an operator resumes it). Resolved when the component resumes, or, for a circuit
 *   breaker's component (`tool:<name>`, `downstream:<name>`), when that breaker closes.
 */
import { events, on, subscribeAll, type BreakerEvent, type ComponentEvent, type RecoveryEvent } from '../../events/index.js';
import type { AlertManager } from './manager.js';

/** Subscribes `alerts` to recovery decisions; returns the function that unsubscribes. */
export function wireRecoveryAlerts(alerts: AlertManager): () => void {
  const onRecovery = (e: RecoveryEvent): void => {
    const context = { component: e.component, class: e.class, plan: e.plan.join(' → '), detail: e.detail, error: e.evidence.error, trend: e.evidence.trend, failuresInWindow: e.evidence.failuresInWindow, rootCause: e.rootCause ?? null };
    if (e.action === 'exhausted') {
      alerts.alert('critical', `Recovery exhausted: ${e.component}`, context, { component: e.component, incident: `recovery:${e.component}:exhausted` });
    } else if (e.action === 'step' && e.step === 'notify' && e.result === 'succeeded') {
      if (e.class === 'cascade' && e.rootCause) {
        alerts.alert('critical', `Cascading failure: ${e.component} (root cause: ${e.rootCause})`, { ...context, rootError: e.evidence.rootError ?? null }, { component: e.rootCause, incident: `recovery:cascade:${e.rootCause}` });
      } else {
        alerts.alert('warning', `Recovery needs attention: ${e.component} (${e.class})`, context, { component: e.component, incident: `recovery:${e.component}:${e.class}` });
      }
    }
  };
  const onComponent = (e: ComponentEvent): void => {
    if (e.to === 'normal' && !e.restored) alerts.resolve(`recovery:${e.id}:exhausted`, { title: `Recovery resumed by an operator: ${e.id}`, context: { component: e.id } });
  };
  const onBreaker = (e: BreakerEvent): void => {
    if (e.to === 'closed') alerts.resolve(`recovery:${e.name}:exhausted`, { title: `Recovery exhausted resolved: breaker ${e.name} closed`, context: { component: e.name } });
  };
  return subscribeAll([on(events.recovery, onRecovery), on(events.component, onComponent), on(events.breaker, onBreaker)]);
}
