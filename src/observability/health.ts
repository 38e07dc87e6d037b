/**
 * Health: component checks run on an interval, a component turns unhealthy after N consecutive
 * failures (not on the first blip), and a failing component is re-checked sooner so that it
 * recovers (or is declared unhealthy) quickly. Liveness says the process answers; readiness says
 * it should get traffic, which it should not while draining, degraded, with a halted critical
 * component or with an unhealthy critical check.
 *
 * The runtime's state comes in by subscription while the monitor runs: `andon:drain` (draining
 * unless the phase is `running`), `andon:halt-state` (critical halted components) and
 * `andon:degraded`. The {@link RuntimeHealthFeed} setters remain for embedders without a runtime.
 * Transitions go out on the `andon:health` and `andon:readiness` channels (metrics and alerts
 * subscribe) and to `onTransition` listeners.
 */
import { events, on, subscribeAll, type DegradedEvent, type DrainEvent, type HaltStateEvent, type HealthEvent, type HealthStatus } from '../events/index.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';

export type { HealthStatus };

/** A check: resolve (or return true / `{ ok: true }`) when healthy; throw, reject or return false when not. */
export type HealthCheck = (signal: AbortSignal) => unknown;

/** Options of one registered check. */
export interface CheckOptions {
  /** An unhealthy critical component makes the node not ready. Default true. */
  critical?: boolean;
  /** Interval between checks while passing, ms. Default: the monitor's `intervalMs` (30 s). */
  intervalMs?: number;
  /** Interval while failing, ms. Default: the monitor's `failingIntervalMs` (5 s). */
  failingIntervalMs?: number;
  /** A check running longer than this fails, ms. Default: the monitor's `timeoutMs` (5 s). */
  timeoutMs?: number;
}

/** The state of one component, as served by `/health`. */
export interface ComponentHealth {
  status: HealthStatus;
  critical: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  /** ISO time of the last check, null before the first. */
  lastCheck: string | null;
  lastSuccess: string | null;
  /** ISO time of the last status change. */
  since: string;
  /** How long the last check took, ms. */
  lastDurationMs: number | null;
}

/** The whole picture, as served by `/health`. */
export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  live: boolean;
  ready: boolean;
  /** Why the node is not ready (empty when ready). */
  reasons: string[];
  draining: boolean;
  degraded: string | null;
  haltedCritical: string[];
  components: Record<string, ComponentHealth>;
  uptimeSeconds: number;
  time: string;
}

/**
 * The runtime state the health monitor tracks. A running monitor learns it from the `andon:drain`,
 * `andon:halt-state` and `andon:degraded` channels; these setters are for embedders that publish
 * nothing. Each is cheap and idempotent.
 */
export interface RuntimeHealthFeed {
  /** True from the start of a drain until shutdown: readiness fails so load balancers move away. */
  setDraining(draining: boolean): void;
  /** A reason while the node runs degraded (e.g. "store unreachable, serving from memory"); null when not. */
  setDegraded(reason: string | null): void;
  /** The ids of critical components that are halted now (replaces the previous list). */
  setHaltedCritical(ids: readonly string[]): void;
}

/**
 * Timers, injectable for tests.
 * @deprecated Use {@link Clock} (`clock` option); kept so existing `timers` callers compile.
 */
export type HealthTimers = Clock;

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  /** Interval between checks of a passing component, ms. Default 30,000. */
  intervalMs?: number;
  /** Interval while a component is failing, ms. Default 5,000. */
  failingIntervalMs?: number;
  /** Consecutive failures before a component is unhealthy. Default 3. */
  failureThreshold?: number;
  /** Check timeout, ms. Default 5,000. */
  timeoutMs?: number;
  /** Time for intervals, check timeouts and timestamps. Default {@link systemClock} (timers unref'd). */
  clock?: Clock;
  /** @deprecated Alias of `clock`. */
  timers?: Clock;
  /** Follow the drain, halt-state and degraded channels while running. Default true. */
  subscribe?: boolean;
}

/** A listener for transitions. */
export type TransitionListener = (e: HealthEvent) => void;

interface Entry {
  name: string;
  check: HealthCheck;
  opts: Required<CheckOptions>;
  state: ComponentHealth;
  timer: Timer | undefined;
  running: boolean;
}

/** Runs component checks and answers liveness, readiness and the health report. */
export class HealthMonitor implements RuntimeHealthFeed {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<TransitionListener>();
  private readonly intervalMs: number;
  private readonly failingIntervalMs: number;
  private readonly threshold: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private running = false;
  private draining = false;
  private degraded: string | null = null;
  private haltedCritical: string[] = [];
  private lastReady: boolean | undefined;
  private readonly follow: boolean;
  private unsubscribe: (() => void) | undefined;

  /** See {@link HealthMonitorOptions} for defaults. */
  constructor(options: HealthMonitorOptions = {}) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.failingIntervalMs = options.failingIntervalMs ?? 5_000;
    this.threshold = options.failureThreshold ?? 3;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.clock = options.clock ?? options.timers ?? systemClock;
    this.startedAt = this.clock.now();
    this.follow = options.subscribe ?? true;
  }

  // The runtime publishes; the monitor listens. Arrow fields keep one identity for unsubscribe.
  private readonly onDrain = (e: DrainEvent): void => this.setDraining(e.phase !== 'running');
  private readonly onHaltState = (e: HaltStateEvent): void => this.setHaltedCritical(e.halted.filter((h) => h.critical).map((h) => h.id));
  private readonly onDegraded = (e: DegradedEvent): void => this.setDegraded(e.reason);

  /** Registers (or replaces) a component check. Checked at once if the monitor is running. */
  register(name: string, check: HealthCheck, options: CheckOptions = {}): this {
    this.unregister(name);
    const e: Entry = {
      name,
      check,
      opts: {
        critical: options.critical ?? true,
        intervalMs: options.intervalMs ?? this.intervalMs,
        failingIntervalMs: options.failingIntervalMs ?? this.failingIntervalMs,
        timeoutMs: options.timeoutMs ?? this.timeoutMs,
      },
      state: { status: 'unknown', critical: options.critical ?? true, consecutiveFailures: 0, lastError: null, lastCheck: null, lastSuccess: null, since: new Date(this.clock.now()).toISOString(), lastDurationMs: null },
      timer: undefined,
      running: false,
    };
    this.entries.set(name, e);
    if (this.running) this.schedule(e, 0);
    return this;
  }

  /** Removes a check; returns whether it existed. */
  unregister(name: string): boolean {
    const e = this.entries.get(name);
    if (!e) return false;
    if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    this.entries.delete(name);
    this.publishReadiness();
    return true;
  }

  /** Listens for status transitions (also published on the `andon:health` channel). Returns an unsubscribe function. */
  onTransition(fn: TransitionListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts checking every registered component (the first check runs at once). */
  start(): this {
    if (this.running) return this;
    this.running = true;
    if (this.follow) this.unsubscribe ??= subscribeAll([on(events.drain, this.onDrain), on(events.haltState, this.onHaltState), on(events.degraded, this.onDegraded)]);
    for (const e of this.entries.values()) this.schedule(e, 0);
    this.publishReadiness();
    return this;
  }

  /** Stops all timers (checks in progress finish, but reschedule nothing). */
  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const e of this.entries.values()) {
      if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  private schedule(e: Entry, ms: number): void {
    if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    e.timer = this.clock.setTimeout(() => {
      e.timer = undefined;
      void this.run(e).then(() => {
        if (this.running && this.entries.get(e.name) === e) this.schedule(e, e.state.consecutiveFailures > 0 ? e.opts.failingIntervalMs : e.opts.intervalMs);
      });
    }, ms);
    // Health checks must never keep a process alive on their own.
    e.timer.unref?.();
  }

  /** Runs one component's check now (or all of them) and resolves with the report. */
  async checkNow(name?: string): Promise<HealthReport> {
    const list = name === undefined ? [...this.entries.values()] : [this.entries.get(name)].filter((e): e is Entry => e !== undefined);
    if (name !== undefined && list.length === 0) throw new Error(`no health check named "${name}"`);
    await Promise.all(list.map((e) => this.run(e)));
    return this.report();
  }

  private async run(e: Entry): Promise<void> {
    if (e.running) return;
    e.running = true;
    const t0 = performance.now();
    const ac = new AbortController();
    let timer: Timer | undefined;
    let error: string | null = null;
    try {
      // Not unref'd: a check in progress is bounded by this timeout and must get its verdict.
      const timeout = new Promise<never>((_, reject) => {
        timer = this.clock.setTimeout(() => {
          ac.abort();
          reject(new Error(`check timed out after ${e.opts.timeoutMs} ms`));
        }, e.opts.timeoutMs);
      });
      const r = await Promise.race([Promise.resolve().then(() => e.check(ac.signal)), timeout]);
      if (r === false) error = 'check returned false';
      else if (r && typeof r === 'object' && 'ok' in r && (r as { ok: unknown }).ok === false) {
        const d = (r as { detail?: unknown }).detail;
        error = typeof d === 'string' ? d : 'check reported not ok';
      }
    } catch (err) {
      error = err instanceof Error ? err.message || err.name : String(err);
    } finally {
      this.clock.clearTimeout(timer);
      e.running = false;
    }
    if (this.entries.get(e.name) !== e) return;
    const now = new Date(this.clock.now()).toISOString();
    const s = e.state;
    s.lastCheck = now;
    s.lastDurationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const from = s.status;
    if (error === null) {
      s.consecutiveFailures = 0;
      s.lastSuccess = now;
      s.status = 'healthy';
    } else {
      s.consecutiveFailures++;
      s.lastError = error;
      if (s.consecutiveFailures >= this.threshold) s.status = 'unhealthy';
    }
    if (s.status !== from) {
      s.since = now;
      const ev: HealthEvent = { component: e.name, from, to: s.status, critical: e.opts.critical, consecutiveFailures: s.consecutiveFailures };
      if (error !== null) ev.error = error;
      events.health.publish(ev);
      for (const fn of this.listeners) {
        try {
          fn(ev);
        } catch {
          // A listener's bug must not stop health checking.
        }
      }
      this.publishReadiness();
    }
  }

  setDraining(draining: boolean): void {
    this.draining = draining;
    this.publishReadiness();
  }

  setDegraded(reason: string | null): void {
    this.degraded = reason;
    this.publishReadiness();
  }

  setHaltedCritical(ids: readonly string[]): void {
    this.haltedCritical = [...ids];
    this.publishReadiness();
  }

  /** Liveness: the process runs and its event loop answers. */
  live(): { live: true; uptimeSeconds: number } {
    return { live: true, uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000) };
  }

  /** Readiness and the reasons it fails. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.draining) reasons.push('draining');
    if (this.degraded !== null) reasons.push(`degraded: ${this.degraded}`);
    for (const id of this.haltedCritical) reasons.push(`critical component halted: ${id}`);
    for (const e of this.entries.values()) {
      if (e.opts.critical && e.state.status === 'unhealthy') reasons.push(`critical check unhealthy: ${e.name} (${e.state.lastError ?? 'failed'})`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  private publishReadiness(): void {
    const r = this.readiness();
    if (r.ready === this.lastReady) return;
    this.lastReady = r.ready;
    events.readiness.publish(r);
  }

  /** The full report served by `/health`. */
  report(): HealthReport {
    const { ready, reasons } = this.readiness();
    const components: Record<string, ComponentHealth> = {};
    let anyUnhealthy = false;
    for (const e of this.entries.values()) {
      components[e.name] = { ...e.state };
      if (e.state.status === 'unhealthy') anyUnhealthy = true;
    }
    return {
      status: !ready ? 'unhealthy' : anyUnhealthy ? 'degraded' : 'healthy',
      live: true,
      ready,
      reasons,
      draining: this.draining,
      degraded: this.degraded,
      haltedCritical: [...this.haltedCritical],
      components,
      uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
      time: new Date(this.clock.now()).toISOString(),
    };
  }
}
