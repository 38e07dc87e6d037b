/**
 * The resource guardian: samples heap, memory, file descriptors and the event loop every
 * `intervalMs` on the injected clock, keeps a trend, and moves the node between three modes:
 *
 *   normal ──(pressure ≥ degrade)──► degraded ──(pressure < recover for recoverSamples)──► restoring
 *     ▲                                 ▲                                                    │
 *     └──────(last restore step)────────┴────────────(pressure ≥ degrade)────────────────────┘
 *
 * Pressure is the highest ratio of a resource to its limit: heap used / heap limit, RSS /
 * `process.constrainedMemory()`, open fds / soft limit, event-loop delay (p99) / `eventLoopDelayMs`.
 * At `warning` (default 0.85) it only alerts. At `degrade` (0.90) it asks {@link DegradationControl}
 * to refuse new sessions, halve rate limits and shed low-priority messages. At `hard` (0.97) of a
 * resource that can run out (heap, memory, fds — a slow event loop never stops the node) it calls
 * `onHard` once: the runtime's emergency stop. Leaving degradation restores the rate limits in
 * steps (0.5 → 0.75 → 1), each after `recoverSamples` calm samples.
 *
 * Sampling is cheap by design: a few counters and one `readdir` of `/proc/self/fd` per interval;
 * nothing happens between samples. One exception: while the node is degraded or restoring because
 * of the heap and the heap is not under `recover`, each sample asks the sampler for a full
 * collection ({@link Sampler.collect}, at most once a second): heap used counts garbage, and a node
 * whose load has gone allocates too little for V8 to collect it, so without this a node whose live
 * heap is back at its baseline can stay degraded indefinitely (measured by `npm run load --
 * --scenario heap`: 38 MiB used of 96 MB after the clients left, 23 MiB live after one full GC).
 */
import { events, type GuardedResource, type ResourcesEvent } from '../events/index.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import type { ResourceSample, Sampler } from './sampler.js';

/** Thresholds: ratios of a resource to its limit (0-1). Seed defaults in {@link DEFAULT_THRESHOLDS}. */
export interface GuardianThresholds {
  /** Alert, change nothing. Default 0.85. */
  warning: number;
  /** Enter degradation mode. Default 0.90. */
  degrade: number;
  /** Emergency stop (heap, memory, fds only). Default 0.97. */
  hard: number;
  /** Under this for `recoverSamples` samples, degradation is left (and each restore step taken). Default 0.80. */
  recover: number;
  /** Consecutive calm samples per recovery step. Default 3. */
  recoverSamples: number;
  /** Event-loop delay (p99 over an interval) that counts as pressure 1.0, ms. Default 1000. */
  eventLoopDelayMs: number;
}

/** The seed thresholds. */
export const DEFAULT_THRESHOLDS: GuardianThresholds = { warning: 0.85, degrade: 0.9, hard: 0.97, recover: 0.8, recoverSamples: 3, eventLoopDelayMs: 1000 };

/** Rate-limit factor while degraded, then the restore steps back to normal. */
export const DEGRADED_FACTOR = 0.5;
export const RESTORE_STEPS: readonly number[] = [0.75, 1];

/** What the guardian drives (src/resilience/degradation.ts implements it). */
export interface DegradationControl {
  /** Enter degradation mode: refuse new sessions, limit tool calls, shed, scale rate limits by `factor`. */
  enter(reason: string, factor: number): void;
  /** Scale rate limits (a restore step). */
  setFactor(factor: number): void;
  /** Leave degradation mode (admit sessions, stop shedding); rate limits stay at the current factor. */
  exit(): void;
}

/** Options of {@link ResourceGuardian}; thresholds default to {@link DEFAULT_THRESHOLDS}. */
export interface GuardianOptions extends Partial<GuardianThresholds> {
  /** What is measured. Required (the runtime passes `processSampler()`; tests their own). */
  sampler: Sampler;
  /** Sample period, ms. Default 5000. */
  intervalMs?: number;
  /** Samples the trend (linear regression) is fitted over. Default 12. */
  trendSamples?: number;
  degradation?: DegradationControl;
  /** Called once when a resource reaches `hard`; without it the node stays degraded. */
  onHard?: (reason: string, resource: GuardedResource, pressure: number) => void;
  clock?: Clock;
  logger?: Logger;
}

/** The guardian's mode, a tagged union. */
export type GuardianMode =
  | { kind: 'normal' }
  | { kind: 'degraded'; since: number; reason: string; calm: number }
  | { kind: 'restoring'; step: number; calm: number }
  | { kind: 'stopped'; reason: string };

/** What `andon status` and GET /admin/guardian show. */
export interface GuardianStatus {
  mode: GuardianMode['kind'];
  reason: string | null;
  /** Since when the node is degraded (ISO), when it is. */
  degradedSince: string | null;
  /** Rate-limit factor in effect (1 = normal). */
  factor: number;
  warning: boolean;
  pressure: number;
  resource: GuardedResource;
  ratios: Partial<Record<GuardedResource, number>>;
  msToHard: number | null;
  sample: ResourceSample | undefined;
  thresholds: GuardianThresholds;
  intervalMs: number;
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const MB = 1024 * 1024;

export class ResourceGuardian {
  readonly thresholds: GuardianThresholds;
  readonly intervalMs: number;
  private readonly sampler: Sampler;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly trendSize: number;
  private readonly trendT: number[] = [];
  private readonly trendV: number[] = [];
  private timer: Timer | undefined;
  private modeState: GuardianMode = { kind: 'normal' };
  private factor = 1;
  private warned = false;
  private last: ResourcesEvent | undefined;
  private lastSample: ResourceSample | undefined;
  private lastCollect = -Infinity;

  constructor(private readonly options: GuardianOptions) {
    const t = { ...DEFAULT_THRESHOLDS };
    for (const k of Object.keys(t) as Array<keyof GuardianThresholds>) if (options[k] !== undefined) t[k] = options[k];
    if (!(t.recover < t.degrade && t.warning <= t.degrade && t.degrade <= t.hard && t.hard <= 1 && t.recover > 0)) {
      throw new TypeError(`guardian thresholds must satisfy 0 < recover < degrade, warning <= degrade <= hard <= 1 (got recover ${t.recover}, warning ${t.warning}, degrade ${t.degrade}, hard ${t.hard})`);
    }
    this.thresholds = t;
    this.intervalMs = Math.max(10, options.intervalMs ?? 5000);
    this.trendSize = Math.max(2, options.trendSamples ?? 12);
    this.sampler = options.sampler;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? nullLogger;
  }

  /** Starts sampling every `intervalMs` (the timer does not keep the process alive). */
  start(): this {
    if (this.timer || this.modeState.kind === 'stopped') return this;
    this.timer = this.clock.setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
    return this;
  }

  /** Stops sampling (drain); the degradation state stays as it is. */
  stop(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.sampler.close?.();
  }

  get mode(): GuardianMode {
    return this.modeState;
  }

  private tick(): void {
    try {
      this.check();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'resource guardian: sampling failed');
    }
  }

  /** Takes one sample now and acts on it (the timer calls this; tests may too). */
  check(): ResourcesEvent {
    const s = this.sampler.sample();
    const now = this.clock.now();
    const t = this.thresholds;
    const ratios: Partial<Record<GuardedResource, number>> = { heap: s.heapUsedBytes / s.heapLimitBytes };
    if (s.memoryLimitBytes) ratios.memory = s.rssBytes / s.memoryLimitBytes;
    if (s.fds !== undefined && s.fdLimit) ratios.fds = s.fds / s.fdLimit;
    ratios.eventLoop = s.eventLoopDelayMs / t.eventLoopDelayMs;
    let resource: GuardedResource = 'heap';
    let hardResource: GuardedResource = 'heap';
    for (const k of Object.keys(ratios) as GuardedResource[]) {
      if (ratios[k]! > ratios[resource]!) resource = k;
      if (k !== 'eventLoop' && ratios[k]! > ratios[hardResource]!) hardResource = k;
    }
    const pressure = ratios[resource]!;
    const hardPressure = ratios[hardResource]!;
    const msToHard = this.trend(now, hardPressure);
    this.lastSample = s;
    const reason = `${resource} at ${Math.round(pressure * 100)}% of its limit${describe(resource, s)}`;

    if (hardPressure >= t.hard && this.modeState.kind !== 'stopped' && this.options.onHard) {
      const why = `${hardResource} at ${Math.round(hardPressure * 100)}% of its limit${describe(hardResource, s)} (hard limit ${Math.round(t.hard * 100)}%)`;
      this.modeState = { kind: 'stopped', reason: why };
      this.stop();
      this.publish('emergency', hardPressure, hardResource, why);
      this.log.error({ resource: hardResource, pressure: round(hardPressure) }, `resource guardian: hard limit reached, emergency stop: ${why}`);
      this.options.onHard(why, hardResource, hardPressure);
    } else if (this.modeState.kind !== 'stopped') {
      this.warn(pressure, resource, reason);
      this.step(now, pressure, resource, reason);
      const k = this.modeState.kind;
      if ((k === 'degraded' || k === 'restoring') && resource === 'heap' && pressure >= t.recover && now - this.lastCollect >= 1000 && this.sampler.collect) {
        this.lastCollect = now;
        this.sampler.collect();
      }
    }

    const level = this.modeState.kind === 'degraded' || this.modeState.kind === 'stopped' ? 'degraded' : this.warned ? 'warning' : 'normal';
    const e: ResourcesEvent = { ratios, pressure, resource, heapUsedBytes: s.heapUsedBytes, rssBytes: s.rssBytes, fds: s.fds, eventLoopDelayMs: s.eventLoopDelayMs, eventLoopUtilization: s.eventLoopUtilization, msToHard, level };
    this.last = e;
    if (events.resources.hasSubscribers) events.resources.publish(e);
    return e;
  }

  private warn(pressure: number, resource: GuardedResource, reason: string): void {
    if (!this.warned && pressure >= this.thresholds.warning) {
      this.warned = true;
      this.log.warn({ resource, pressure: round(pressure) }, `resource pressure high: ${reason}`);
      this.publish('warning', pressure, resource, reason);
    } else if (this.warned && pressure < this.thresholds.recover) {
      this.warned = false;
      this.publish('warning-cleared', pressure, resource, reason);
    }
  }

  /** The mode machine (see the module comment). */
  private step(now: number, pressure: number, resource: GuardedResource, reason: string): void {
    const t = this.thresholds;
    const m = this.modeState;
    const d = this.options.degradation;
    switch (m.kind) {
      case 'normal':
      case 'restoring':
        if (pressure >= t.degrade) {
          this.modeState = { kind: 'degraded', since: now, reason, calm: 0 };
          this.factor = DEGRADED_FACTOR;
          d?.enter(reason, this.factor);
          this.log.error({ resource, pressure: round(pressure) }, `system degraded: ${reason}`);
          this.publish('degrade', pressure, resource, reason);
          events.degraded.publish({ reason, source: 'guardian', pressure: round(pressure), resource });
        } else if (m.kind === 'restoring') {
          m.calm = pressure < t.recover ? m.calm + 1 : 0;
          if (m.calm >= t.recoverSamples) {
            const step = m.step + 1;
            this.factor = RESTORE_STEPS[step] ?? 1;
            d?.setFactor(this.factor);
            this.modeState = step >= RESTORE_STEPS.length - 1 ? { kind: 'normal' } : { kind: 'restoring', step, calm: 0 };
            this.publish('restore-step', pressure, resource, `rate limits restored to ${this.factor * 100}%`);
          }
        }
        return;
      case 'degraded':
        m.calm = pressure < t.recover ? m.calm + 1 : 0;
        if (m.calm >= t.recoverSamples) {
          this.factor = RESTORE_STEPS[0]!;
          d?.exit();
          d?.setFactor(this.factor);
          this.modeState = RESTORE_STEPS.length > 1 ? { kind: 'restoring', step: 0, calm: 0 } : { kind: 'normal' };
          this.log.info({ resource, pressure: round(pressure), durationMs: now - m.since }, 'system recovered from degradation');
          this.publish('recover', pressure, resource, `pressure under ${Math.round(t.recover * 100)}% for ${t.recoverSamples} samples`, now - m.since);
          events.degraded.publish({ reason: null, source: 'guardian', pressure: round(pressure), resource });
        }
        return;
      case 'stopped':
        return;
    }
  }

  private publish(action: 'warning' | 'warning-cleared' | 'degrade' | 'restore-step' | 'recover' | 'emergency', pressure: number, resource: GuardedResource, reason: string, durationMs?: number): void {
    events.guardian.publish({ action, pressure: round(pressure), resource, reason, factor: this.factor, ...(durationMs !== undefined ? { durationMs } : {}) });
  }

  /**
   * Adds a point to the trend and predicts the ms until `hard`: a least-squares line through the
   * last `trendSamples` points; null while it is not rising (or too few points).
   */
  private trend(now: number, v: number): number | null {
    this.trendT.push(now);
    this.trendV.push(v);
    if (this.trendT.length > this.trendSize) {
      this.trendT.shift();
      this.trendV.shift();
    }
    const slope = slopeOf(this.trendT, this.trendV);
    if (v >= this.thresholds.hard) return 0;
    if (slope === undefined || slope <= 0) return null;
    return Math.round((this.thresholds.hard - v) / slope);
  }

  /** The current state, for the admin API and `andon status`. */
  status(): GuardianStatus {
    const m = this.modeState;
    const e = this.last;
    return {
      mode: m.kind,
      reason: m.kind === 'degraded' || m.kind === 'stopped' ? m.reason : null,
      degradedSince: m.kind === 'degraded' ? new Date(m.since).toISOString() : null,
      factor: this.factor,
      warning: this.warned,
      pressure: e ? round(e.pressure) : 0,
      resource: e?.resource ?? 'heap',
      ratios: e ? Object.fromEntries(Object.entries(e.ratios).map(([k, v]) => [k, round(v)])) : {},
      msToHard: e?.msToHard ?? null,
      sample: this.lastSample,
      thresholds: this.thresholds,
      intervalMs: this.intervalMs,
    };
  }
}

/** Slope (per ms) of the least-squares line through (t, v); undefined with fewer than 2 points. */
export function slopeOf(t: readonly number[], v: readonly number[]): number | undefined {
  const n = t.length;
  if (n < 2) return undefined;
  const t0 = t[0]!;
  let st = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    st += t[i]! - t0;
    sv += v[i]!;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - t0 - mt;
    num += dt * (v[i]! - mv);
    den += dt * dt;
  }
  return den === 0 ? undefined : num / den;
}

function describe(r: GuardedResource, s: ResourceSample): string {
  switch (r) {
    case 'heap':
      return ` (${Math.round(s.heapUsedBytes / MB)} of ${Math.round(s.heapLimitBytes / MB)} MB)`;
    case 'memory':
      return ` (RSS ${Math.round(s.rssBytes / MB)} of ${Math.round((s.memoryLimitBytes ?? 0) / MB)} MB)`;
    case 'fds':
      return ` (${s.fds ?? 0} of ${s.fdLimit ?? 0} file descriptors)`;
    case 'eventLoop':
      return ` (event-loop delay p99 ${Math.round(s.eventLoopDelayMs)} ms)`;
  }
}
