/**
 * Alerts of the resource guardian, by subscription to `andon:guardian`:
 * - "Resource pressure high" (warning) at `guardian.warning`; resolved when pressure falls under `recover`;
 * - "System degraded" (critical) when degradation mode starts; resolved when it ends;
 * - "Emergency shutdown" (critical) at the hard limit (the emergency stop waits briefly for its delivery).
 * Runbooks: docs/runbooks/SYSTEM_DEGRADED.md, docs/runbooks/EMERGENCY_SHUTDOWN.md.
 */
import { events, on, subscribeAll, type GuardianEvent } from '../../events/index.js';
import type { AlertManager } from './manager.js';

const PRESSURE = 'guardian:pressure';
const DEGRADED = 'guardian:degraded';

/** Subscribes `alerts` to the guardian's transitions; returns the function that unsubscribes. */
export function wireGuardianAlerts(alerts: AlertManager): () => void {
  const onGuardian = (e: GuardianEvent): void => {
    const ctx = { resource: e.resource, pressure: e.pressure, reason: e.reason };
    switch (e.action) {
      case 'warning':
        alerts.alert('warning', 'Resource pressure high', ctx, { component: 'node', incident: PRESSURE });
        return;
      case 'warning-cleared':
        alerts.resolve(PRESSURE, { title: 'Resource pressure back to normal', context: ctx });
        return;
      case 'degrade':
        alerts.alert('critical', 'System degraded', { ...ctx, runbook: 'docs/runbooks/SYSTEM_DEGRADED.md' }, { component: 'node', incident: DEGRADED });
        return;
      case 'recover':
        alerts.resolve(DEGRADED, { title: 'System recovered from degradation', context: { ...ctx, durationMs: e.durationMs ?? null } });
        return;
      case 'emergency':
        alerts.alert('critical', 'Emergency shutdown', { ...ctx, pid: process.pid, runbook: 'docs/runbooks/EMERGENCY_SHUTDOWN.md', resume: 'andon resume node' }, { component: 'node', incident: 'guardian:emergency' });
        return;
      case 'restore-step':
        return;
    }
  };
  return subscribeAll([on(events.guardian, onGuardian)]);
}
