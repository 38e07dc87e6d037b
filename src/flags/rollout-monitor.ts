/**
 * The signals of automatic rollback (docs/flags.md, "Rollouts"), over sliding windows on the
 * injected clock:
 *
 * - `error_rate`: the flag-on cohort's tools/call error rate (an `isError` result or a -32603
 *   internal error) above `errorRate` while the flag-off cohort's is below it, each cohort with
 *   at least `minCalls` calls in the window;
 * - `p99_latency`: the on-cohort's p99 above the off-cohort's p99 × `latencyFactor` (same minimum);
 * - `restarts`: more than `maxRestartsPerMinute` component restarts in the last minute;
 * - `breaker`: the breaker of a tool gated by the flag opened (since the phase began);
 * - `alert_delivery`: alert delivery success below `minAlertDeliveryRate` over the window, with at
 *   least `minAlertDeliveries` deliveries.
 *
 * Bounded: at most `maxSamples` calls kept per cohort (the oldest go first).
 */
import type { Clock } from '../util/clock.js';

/** Thresholds of the triggers (the `rollouts` config section). */
export interface RolloutThresholds {
  evaluationIntervalMs: number;
  windowMs: number;
  errorRate: number;
  minCalls: number;
  latencyFactor: number;
  maxRestartsPerMinute: number;
  minAlertDeliveryRate: number;
  minAlertDeliveries: number;
  rollbackOnBreakerOpen: boolean;
}

export const DEFAULT_THRESHOLDS: RolloutThresholds = {
  evaluationIntervalMs: 5000,
  windowMs: 60_000,
  errorRate: 0.05,
  minCalls: 20,
  latencyFactor: 2,
  maxRestartsPerMinute: 10,
  minAlertDeliveryRate: 0.95,
  minAlertDeliveries: 5,
  rollbackOnBreakerOpen: true,
};

/** A trigger that fired: the metric and its values. */
export interface RolloutTrigger {
  metric: 'error_rate' | 'p99_latency' | 'restarts' | 'breaker' | 'alert_delivery';
  /** One line naming the metric and the values, e.g. "error_rate on 31.0 % (62/200) > 5 % while off 0.0 % (0/180)". */
  detail: string;
  values: Record<string, number | string>;
}

/** Per-cohort numbers of the current window (status). */
export interface CohortStats {
  calls: number;
  errors: number;
  errorRate: number;
  p99Ms: number;
}

interface Sample {
  at: number;
  error: boolean;
  ms: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

function p99(s: Sample[]): number {
  if (s.length === 0) return 0;
  const ms = s.map((x) => x.ms).sort((a, b) => a - b);
  return ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.99) - 1)]!;
}

/** The sliding windows of one running rollout. */
export class RolloutMonitor {
  private on: Sample[] = [];
  private off: Sample[] = [];
  private restarts: number[] = [];
  private deliveries: Array<{ at: number; ok: boolean }> = [];
  private breakerOpened: string | undefined;

  constructor(
    private readonly t: RolloutThresholds,
    private readonly clock: Clock,
    private readonly maxSamples = 20_000,
  ) {}

  /** Forget everything (a new phase starts clean). */
  reset(): void {
    this.on = [];
    this.off = [];
    this.restarts = [];
    this.deliveries = [];
    this.breakerOpened = undefined;
  }

  call(onCohort: boolean, error: boolean, ms: number): void {
    const a = onCohort ? this.on : this.off;
    a.push({ at: this.clock.now(), error, ms });
    if (a.length > this.maxSamples) a.splice(0, a.length - this.maxSamples);
  }

  restart(): void {
    this.restarts.push(this.clock.now());
    if (this.restarts.length > 10_000) this.restarts.shift();
  }

  delivery(ok: boolean): void {
    this.deliveries.push({ at: this.clock.now(), ok });
    if (this.deliveries.length > 10_000) this.deliveries.shift();
  }

  breakerOpen(name: string): void {
    this.breakerOpened ??= name;
  }

  private prune(): void {
    const from = this.clock.now() - this.t.windowMs;
    const cut = <T extends { at: number }>(a: T[]): T[] => {
      let i = 0;
      while (i < a.length && a[i]!.at < from) i++;
      return i === 0 ? a : a.slice(i);
    };
    this.on = cut(this.on);
    this.off = cut(this.off);
    this.deliveries = cut(this.deliveries);
    const minute = this.clock.now() - 60_000;
    while (this.restarts.length > 0 && this.restarts[0]! < minute) this.restarts.shift();
  }

  /** The cohorts' numbers over the window. */
  stats(): { on: CohortStats; off: CohortStats; restartsLastMinute: number; alertDeliveries: number; alertDeliveryRate: number } {
    this.prune();
    const c = (s: Sample[]): CohortStats => {
      const errors = s.reduce((n, x) => n + (x.error ? 1 : 0), 0);
      return { calls: s.length, errors, errorRate: s.length ? errors / s.length : 0, p99Ms: p99(s) };
    };
    const ok = this.deliveries.reduce((n, d) => n + (d.ok ? 1 : 0), 0);
    return { on: c(this.on), off: c(this.off), restartsLastMinute: this.restarts.length, alertDeliveries: this.deliveries.length, alertDeliveryRate: this.deliveries.length ? ok / this.deliveries.length : 1 };
  }

  /** The first trigger firing now, or undefined. */
  evaluate(): RolloutTrigger | undefined {
    const t = this.t;
    const s = this.stats();
    const enough = s.on.calls >= t.minCalls && s.off.calls >= t.minCalls;
    if (enough && s.on.errorRate > t.errorRate && s.off.errorRate <= t.errorRate) {
      return {
        metric: 'error_rate',
        detail: `error_rate on-cohort ${pct(s.on.errorRate)} (${s.on.errors}/${s.on.calls}) > ${pct(t.errorRate)} while off-cohort ${pct(s.off.errorRate)} (${s.off.errors}/${s.off.calls})`,
        values: { on: s.on.errorRate, off: s.off.errorRate, onCalls: s.on.calls, offCalls: s.off.calls, threshold: t.errorRate },
      };
    }
    if (enough && s.off.p99Ms > 0 && s.on.p99Ms > s.off.p99Ms * t.latencyFactor) {
      return {
        metric: 'p99_latency',
        detail: `p99_latency on-cohort ${s.on.p99Ms.toFixed(1)} ms > off-cohort ${s.off.p99Ms.toFixed(1)} ms × ${t.latencyFactor}`,
        values: { on: s.on.p99Ms, off: s.off.p99Ms, factor: t.latencyFactor },
      };
    }
    if (s.restartsLastMinute > t.maxRestartsPerMinute) {
      return { metric: 'restarts', detail: `restarts ${s.restartsLastMinute} in the last minute > ${t.maxRestartsPerMinute}/min`, values: { restarts: s.restartsLastMinute, threshold: t.maxRestartsPerMinute } };
    }
    if (t.rollbackOnBreakerOpen && this.breakerOpened !== undefined) {
      return { metric: 'breaker', detail: `breaker ${this.breakerOpened} of a gated tool opened`, values: { breaker: this.breakerOpened } };
    }
    if (s.alertDeliveries >= t.minAlertDeliveries && s.alertDeliveryRate < t.minAlertDeliveryRate) {
      return {
        metric: 'alert_delivery',
        detail: `alert_delivery success ${pct(s.alertDeliveryRate)} of ${s.alertDeliveries} < ${pct(t.minAlertDeliveryRate)}`,
        values: { rate: s.alertDeliveryRate, deliveries: s.alertDeliveries, threshold: t.minAlertDeliveryRate },
      };
    }
    return undefined;
  }
}
