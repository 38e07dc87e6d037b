/**
 * Rollouts of feature flags (docs/flags.md, "Rollouts"): a plan of phases per flag, persisted in
 * the store (namespace `rollouts`, never pruned), driven by operators (`andon rollout
 * start|status|advance|rollback`, /admin/rollouts) and rolled back automatically when a trigger
 * of ./rollout-monitor.ts fires at an evaluation (every `evaluationIntervalMs` on the injected
 * clock): the flag goes back to the previous phase's value (or off from the first phase), the
 * change is audited in the flag audit (by `rollout`, the reason naming the metric and values) and
 * published on the `rollout` channel (a critical alert "Rollout rolled back: <flag>").
 *
 * Cohorts: every `tools/call` a client makes is counted in the flag-on cohort when the flag is on
 * for that client (the same evaluation as the gate), else in the flag-off cohort; an error is an
 * `isError` result or a -32603 internal error (refusals, e.g. rate limits or a gated tool called
 * from outside the cohort, are not the tool's failures). The `request` channel is subscribed
 * only while some rollout runs.
 */
import { events, subscribeAll, on, type RequestEvent, type BreakerEvent, type AlertDeliveryEvent } from '../events/index.js';
import type { IncomingRequest } from '../server/incoming.js';
import type { McpServer } from '../server/server.js';
import type { Store } from '../store/store.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { FlagRegistry } from './registry.js';
import { RolloutMonitor, DEFAULT_THRESHOLDS, type RolloutThresholds, type RolloutTrigger } from './rollout-monitor.js';
import { advancePlan, flagValueOf, newPlan, parsePlan, rollbackPlan, startPlan, RolloutInputError, type RolloutPhase, type RolloutPlan } from './rollout-model.js';

const NS = 'rollouts';
const INTERNAL_ERROR = -32603;

/** A rollout and its windows, for `status`. */
export interface RolloutStatus extends RolloutPlan {
  window?: ReturnType<RolloutMonitor['stats']>;
  /** The trigger firing now (a running rollout rolls back at the next evaluation). */
  firing?: string;
}

/** A rollout that does not exist. */
export class RolloutNotFound extends Error {}

/** The rollouts of one runtime. */
export class RolloutManager {
  private readonly plans = new Map<string, RolloutPlan>();
  private readonly monitors = new Map<string, RolloutMonitor>();
  private readonly t: RolloutThresholds;
  private timer: Timer | undefined;
  private unsubscribe: (() => void) | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  /** The `request` subscription, only while a rollout runs (no per-request cost otherwise). */
  private requests: ((m: unknown) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly flags: FlagRegistry,
    private readonly server: McpServer,
    private readonly clock: Clock,
    private readonly log: Logger,
    thresholds: Partial<RolloutThresholds> = {},
  ) {
    this.t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  }

  get thresholds(): Readonly<RolloutThresholds> {
    return this.t;
  }

  /** Loads the stored plans (running ones are watched again), subscribes, starts the evaluation timer. */
  async start(): Promise<void> {
    for (const e of await this.store.list<unknown>(NS)) {
      const p = parsePlan(e.value);
      if (p === null) this.log.warn({ key: e.key }, 'ignoring a stored rollout that is not one');
      else {
        this.plans.set(p.flag, p);
        if (p.state === 'running') this.monitors.set(p.flag, new RolloutMonitor(this.t, this.clock));
      }
    }
    this.unsubscribe = subscribeAll([on(events.restart, () => this.each((m) => m.restart())), on(events.breaker, (e) => this.onBreaker(e)), on(events.alert, (e) => this.onAlert(e))]);
    this.watch();
    this.timer = this.clock.setInterval(() => void this.evaluate(), this.t.evaluationIntervalMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.requests) events.request.unsubscribe(this.requests);
    this.requests = undefined;
    await this.writes.catch(() => undefined);
  }

  list(): RolloutStatus[] {
    return [...this.plans.keys()].sort().map((f) => this.status(f));
  }

  status(flag: string): RolloutStatus {
    const p = this.plans.get(flag);
    if (p === undefined) throw new RolloutNotFound(`no rollout of feature flag "${flag}"; start one: andon rollout start ${flag} --phases 10,50,100`);
    const m = this.monitors.get(flag);
    if (m === undefined) return { ...p };
    const firing = m.evaluate();
    return { ...p, window: m.stats(), ...(firing ? { firing: firing.detail } : {}) };
  }

  /** Starts a rollout of `flag` (a new plan replaces a completed or rolled back one). */
  begin(flag: string, phases: RolloutPhase[], by: string): Promise<RolloutPlan> {
    return this.serial(async () => {
      const old = this.plans.get(flag);
      if (old?.state === 'running') throw new RolloutInputError(`a rollout of ${flag} is already running (phase ${old.phase + 1}/${old.phases.length}); roll it back first`);
      const p = newPlan(flag, phases, by, this.clock.now());
      startPlan(p, by, this.clock.now());
      const f = this.flags.get(flag);
      await this.apply(p, by, `rollout started: phase 1/${phases.length}`, f?.kind === 'boolean' || f === undefined ? 'percentage' : undefined);
      this.monitors.set(flag, new RolloutMonitor(this.t, this.clock));
      this.watch();
      this.publish(p, 'start', by);
      return p;
    });
  }

  /** The next phase (or completed after the last); `force` skips the minimum duration and the gates. */
  advance(flag: string, by: string, force = false): Promise<RolloutPlan> {
    return this.serial(async () => {
      const p = this.get(flag);
      const firing = this.monitors.get(flag)?.evaluate();
      const next = structuredClone(p);
      advancePlan(next, by, this.clock.now(), { force, gateFailure: firing?.detail });
      if (next.state === 'running') await this.apply(next, by, `rollout advanced: phase ${next.phase + 1}/${next.phases.length}`);
      else await this.save(next);
      this.plans.set(flag, next);
      if (next.state === 'completed') this.monitors.delete(flag);
      else this.monitors.get(flag)?.reset();
      this.watch();
      this.publish(next, next.state === 'completed' ? 'complete' : 'advance', by);
      return next;
    });
  }

  /** An operator's rollback: the flag off (`toPrevious`: the previous phase, off from the first). */
  rollback(flag: string, by: string, reason: string, toPrevious = false): Promise<RolloutPlan> {
    return this.serial(() => this.doRollback(flag, by, reason, toPrevious, undefined));
  }

  /** One evaluation: every running rollout whose trigger fires is rolled back to its previous phase. */
  async evaluate(): Promise<void> {
    for (const [flag, m] of this.monitors) {
      const trigger = m.evaluate();
      if (trigger === undefined) continue;
      await this.serial(async () => {
        if (this.plans.get(flag)?.state !== 'running') return;
        await this.doRollback(flag, 'rollout', `automatic rollback: ${trigger.detail}`, true, trigger);
      }).catch((err: unknown) => this.log.error({ flag, err: String(err) }, 'automatic rollback failed; roll back by hand: andon rollout rollback'));
    }
  }

  private async doRollback(flag: string, by: string, reason: string, toPrevious: boolean, trigger: RolloutTrigger | undefined): Promise<RolloutPlan> {
    const next = structuredClone(this.get(flag));
    rollbackPlan(next, by, this.clock.now(), reason, toPrevious);
    await this.apply(next, by, reason);
    this.plans.set(flag, next);
    this.monitors.delete(flag);
    this.watch();
    const level = trigger ? 'error' : 'warn';
    this.log[level]({ flag, by, metric: trigger?.metric ?? 'manual', values: trigger?.values, phase: next.phase + 1 }, 'rollout rolled back');
    this.publish(next, 'rollback', by, reason, trigger);
    return next;
  }

  private get(flag: string): RolloutPlan {
    const p = this.plans.get(flag);
    if (p === undefined) throw new RolloutNotFound(`no rollout of feature flag "${flag}"`);
    return p;
  }

  /** Persists `p` and sets the flag to its value (audited with `reason`). */
  private async apply(p: RolloutPlan, by: string, reason: string, kind?: 'percentage'): Promise<void> {
    await this.save(p);
    this.plans.set(p.flag, p);
    const v = flagValueOf(p);
    await this.flags.set(p.flag, { ...(kind ? { kind } : {}), enabled: v.enabled, percent: v.percent }, by, reason);
  }

  private async save(p: RolloutPlan): Promise<void> {
    await this.store.set(NS, p.flag, p);
  }

  private publish(p: RolloutPlan, action: 'start' | 'advance' | 'complete' | 'rollback', by: string, reason?: string, trigger?: RolloutTrigger): void {
    if (!events.rollout.hasSubscribers) return;
    events.rollout.publish({
      flag: p.flag,
      action,
      by,
      at: this.clock.now(),
      phase: p.phase + 1,
      phases: p.phases.length,
      percent: flagValueOf(p).percent,
      ...(action === 'rollback' ? { automatic: trigger !== undefined, metric: trigger?.metric ?? 'manual', reason } : {}),
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.writes.then(fn, fn);
    this.writes = p.catch(() => undefined);
    return p;
  }

  /** Subscribes to `request` while some rollout runs, unsubscribes when none does. */
  private watch(): void {
    if (this.unsubscribe === undefined) return;
    if (this.monitors.size > 0 && this.requests === undefined) {
      this.requests = (m) => this.onRequest(m as RequestEvent);
      events.request.subscribe(this.requests);
    } else if (this.monitors.size === 0 && this.requests !== undefined) {
      events.request.unsubscribe(this.requests);
      this.requests = undefined;
    }
  }

  private each(fn: (m: RolloutMonitor) => void): void {
    for (const m of this.monitors.values()) fn(m);
  }

  private onRequest(e: RequestEvent): void {
    if (this.monitors.size === 0 || e.method !== 'tools/call' || e.incoming === undefined) return;
    const subject = this.flags.subjectOf(e.incoming as unknown as IncomingRequest);
    if (subject === undefined) return;
    const error = e.outcome === 'tool_error' || (e.outcome === 'error' && e.code === INTERNAL_ERROR);
    // A refusal (rate limit, gate, malformed) is not a call of the tool: not counted.
    if (e.outcome === 'error' && !error) return;
    for (const [flag, m] of this.monitors) m.call(this.flags.isEnabled(flag, subject), error, e.durationMs);
  }

  private onBreaker(e: BreakerEvent): void {
    if (e.to !== 'open' || !e.name.startsWith('tool:')) return;
    const gate = this.server.lists.tools.get(e.name.slice(5))?.options.flag;
    if (gate !== undefined) this.monitors.get(gate)?.breakerOpen(e.name);
  }

  private onAlert(e: AlertDeliveryEvent): void {
    if (e.outcome === 'suppressed') return;
    this.each((m) => m.delivery(e.outcome === 'sent'));
  }
}
