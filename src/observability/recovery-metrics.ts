/**
 * Metrics of the recovery strategist, from `andon:recovery`:
 * `andon_recovery_strategy_selected_total{class}` (a plan chosen for a failure of that class),
 * `andon_recovery_step_total{step,result}` (each step executed: attempt, degrade, notify, manual;
 * succeeded or failed) and `andon_recovery_exhausted_total` (plans whose every step failed).
 */
import { Counter, type Registry } from 'prom-client';
import { events, type RecoveryEvent } from '../events/index.js';

/** The recovery counters on `registry`; `subs()` pairs for the metrics' subscribe/unsubscribe. */
export function recoveryMetrics(registry: Registry, prefix: string): { subs(): Array<[typeof events.recovery, (m: unknown) => void]> } {
  const registers = [registry];
  const selected = new Counter({ name: `${prefix}recovery_strategy_selected_total`, help: 'Recovery plans chosen, by failure class (transient, persistent, resource_exhaustion, cascade, unknown).', labelNames: ['class'], registers });
  const steps = new Counter({ name: `${prefix}recovery_step_total`, help: 'Recovery steps executed, by step (attempt, degrade, notify, manual) and result (succeeded, failed).', labelNames: ['step', 'result'], registers });
  const exhausted = new Counter({ name: `${prefix}recovery_exhausted_total`, help: 'Recovery plans whose every step failed (the component awaits an operator).', registers });
  const onRecovery = (m: unknown): void => {
    const e = m as RecoveryEvent;
    if (e.action === 'plan') selected.inc({ class: e.class });
    else if (e.action === 'step' && e.step && e.result) steps.inc({ step: e.step, result: e.result });
    else if (e.action === 'exhausted') exhausted.inc();
  };
  return { subs: () => [[events.recovery, onRecovery]] };
}
