/**
 * Rollout alerts, from the `rollout` channel (src/flags/rollouts.ts): a rollback is a critical
 * alert "Rollout rolled back: <flag>" naming the metric and its values (automatic) or the
 * operator's reason (manual). Starts and advances change the flag: its own info alert
 * ("Feature flag changed", flag-alerts.ts) tells of them.
 */
import { events, on, type RolloutEvent, type Subscription } from '../../events/index.js';
import type { AlertManager } from './manager.js';

/** The subscription that turns rollout steps into alerts on `alerts`. */
export function rolloutAlerts(alerts: AlertManager): Subscription {
  return on(events.rollout, (e: RolloutEvent) => {
    const context = { flag: e.flag, by: e.by, at: new Date(e.at).toISOString(), phase: `${e.phase}/${e.phases}`, percent: e.percent };
    const opts = { component: `flag:${e.flag}`, incident: `rollout:${e.flag}:${e.at}` };
    if (e.action !== 'rollback') return;
    alerts.alert('critical', `Rollout rolled back: ${e.flag}`, { ...context, automatic: e.automatic ?? false, metric: e.metric ?? 'manual', reason: e.reason ?? null }, opts);
  });
}
