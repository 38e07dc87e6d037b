/**
 * Feature flag alerts, from the `flagChange` channel: every change made on this node is an info
 * alert "Feature flag changed: <name>" naming who and old → new (a change announced by another
 * node alerts there, not again here; flags loaded at start are not changes).
 */
import { events, on, type FlagChangeEvent, type Subscription } from '../../events/index.js';
import type { AlertManager } from './manager.js';

const show = (s: FlagChangeEvent['to']): string => (s === null ? 'absent' : `${s.kind} ${s.enabled ? 'enabled' : 'disabled'}${s.kind === 'percentage' ? ` ${s.percent}%` : ''}${s.rules ? `, ${s.rules} rule(s)` : ''}`);

/** The subscription that turns flag changes into alerts on `alerts`. */
export function flagAlerts(alerts: AlertManager): Subscription {
  return on(events.flagChange, (e: FlagChangeEvent) => {
    if (e.remote || e.loaded) return;
    const title = e.to === null ? `Feature flag deleted: ${e.flag}` : `Feature flag changed: ${e.flag}`;
    alerts.alert('info', title, { flag: e.flag, by: e.by, at: new Date(e.at).toISOString(), from: show(e.from), to: show(e.to) }, { component: `flag:${e.flag}`, incident: `flag:${e.flag}:${e.at}` });
  });
}
