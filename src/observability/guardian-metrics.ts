/**
 * Metrics of the resource guardian and degradation mode, by subscription to `andon:resources`,
 * `andon:guardian` and `andon:degradation`:
 *
 * - `andon_resource_pressure{resource}` gauge: ratio of heap, memory, fds, eventLoop to its limit (0-1+)
 * - `andon_degradation_active` gauge: 1 while degraded (or stopped at the hard limit)
 * - `andon_degradation_rate_factor` gauge: rate-limit factor in effect (1 normal, 0.5 degraded, 0.75 restoring)
 * - `andon_degradation_entered_total` counter, `andon_degradation_seconds_total` counter (added when it ends)
 * - `andon_shed_total{kind}` counter: logging, progress, list_changed, resource_updated
 * - `andon_degradation_refused_total{what}` counter: initialize, tools/call
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { events, type DegradationEvent, type GuardianEvent, type ResourcesEvent, type Subscription } from '../events/index.js';

/** A (channel, handler) pair as AndonMetrics subscribes them. */
type Sub = Subscription;

/** Creates the guardian's metrics in `registry`; returns the subscriptions AndonMetrics starts and stops. */
export function guardianMetrics(registry: Registry, prefix: string): Sub[] {
  const registers = [registry];
  const pressure = new Gauge({ name: `${prefix}resource_pressure`, help: 'Ratio of each guarded resource to its limit (heap, memory, fds, eventLoop).', labelNames: ['resource'], registers });
  const active = new Gauge({ name: `${prefix}degradation_active`, help: '1 while the node runs in degradation mode (resource pressure), else 0.', registers });
  const factor = new Gauge({ name: `${prefix}degradation_rate_factor`, help: 'Rate-limit factor set by degradation mode (1 = normal).', registers });
  const entered = new Counter({ name: `${prefix}degradation_entered_total`, help: 'Times the node entered degradation mode.', registers });
  const seconds = new Counter({ name: `${prefix}degradation_seconds_total`, help: 'Seconds spent in degradation mode (added when it ends).', registers });
  const shed = new Counter({ name: `${prefix}shed_total`, help: 'Low-priority messages shed in degradation mode, by kind.', labelNames: ['kind'], registers });
  const refused = new Counter({ name: `${prefix}degradation_refused_total`, help: 'Requests refused by degradation mode (ANDON_DEGRADED), by what.', labelNames: ['what'], registers });
  active.set(0);
  factor.set(1);

  const onResources = (m: unknown): void => {
    const e = m as ResourcesEvent;
    for (const [k, v] of Object.entries(e.ratios)) pressure.set({ resource: k }, v);
  };
  const onGuardian = (m: unknown): void => {
    const e = m as GuardianEvent;
    factor.set(e.factor);
    if (e.action === 'degrade' || e.action === 'emergency') {
      active.set(1);
      if (e.action === 'degrade') entered.inc();
    } else if (e.action === 'recover') {
      active.set(0);
      seconds.inc((e.durationMs ?? 0) / 1000);
    }
  };
  const onDegradation = (m: unknown): void => {
    const e = m as DegradationEvent;
    if (e.kind === 'shed') shed.inc({ kind: e.what });
    else refused.inc({ what: e.what });
  };
  return [
    [events.resources, onResources],
    [events.guardian, onGuardian],
    [events.degradation, onDegradation],
  ];
}
