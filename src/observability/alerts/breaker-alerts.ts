/**
 * Circuit breaker alerts, from the `breaker` channel: a breaker opening is a warning ("Circuit
 * breaker open: <name>", incident `breaker:<name>`), turning half-open is info (incident
 * `breaker:<name>:probe`), closing resolves both. Every alert names the breaker as its component.
 */
import { events, on, type BreakerEvent, type Subscription } from '../../events/index.js';
import type { AlertManager } from './manager.js';

/** The subscription that turns breaker transitions into alerts on `alerts`. */
export function breakerAlerts(alerts: AlertManager): Subscription {
  return on(events.breaker, (e: BreakerEvent) => {
    const incident = `breaker:${e.name}`;
    const context = { breaker: e.name, from: e.from, to: e.to, reason: e.reason, forced: e.forced ?? false, ...(e.retryAt !== undefined ? { retryAt: new Date(e.retryAt).toISOString() } : {}) };
    switch (e.to) {
      case 'open':
        alerts.alert('warning', `Circuit breaker open: ${e.name}`, context, { component: e.name, incident });
        break;
      case 'half_open':
        alerts.alert('info', `Circuit breaker half-open: ${e.name}`, context, { component: e.name, incident: `${incident}:probe` });
        break;
      case 'closed':
        alerts.resolve(`${incident}:probe`, { title: `Circuit breaker closed: ${e.name}`, context });
        alerts.resolve(incident, { title: `Circuit breaker closed: ${e.name}`, context });
        break;
      default:
        e.to satisfies never;
    }
  });
}
