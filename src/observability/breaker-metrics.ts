/**
 * Circuit breaker metrics, from the `breaker` channel: `andon_breaker_state{breaker}` (0 closed,
 * 1 half-open, 2 open; a breaker appears with its first transition) and
 * `andon_breaker_transitions_total{breaker,to}`. Breaker names are bounded: tools are registered
 * by the server, downstream names come from handler code (the registry caps them).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { events, type BreakerEvent, type TypedChannel } from '../events/index.js';

const LEVEL = { closed: 0, half_open: 1, open: 2 } as const;

/** Creates the breaker metrics in `registry`; returns the subscription that feeds them. */
export function breakerMetrics(registry: Registry, prefix: string): [TypedChannel<BreakerEvent>, (m: unknown) => void] {
  const registers = [registry];
  const state = new Gauge({ name: `${prefix}breaker_state`, help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.', labelNames: ['breaker'], registers });
  const transitions = new Counter({ name: `${prefix}breaker_transitions_total`, help: 'Circuit breaker state changes, by breaker and new state.', labelNames: ['breaker', 'to'], registers });
  const onBreaker = (m: unknown): void => {
    const e = m as BreakerEvent;
    state.set({ breaker: e.name }, LEVEL[e.to]);
    transitions.inc({ breaker: e.name, to: e.to });
  };
  return [events.breaker, onBreaker];
}
