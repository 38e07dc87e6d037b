/**
 * The recovery strategist: for every component failure the supervisor acts on (the
 * `andon:component:failure` event), it records the failure in the component's history, classifies
 * it (classify.ts), chooses the plan of its class and executes the steps in order, stopping at the
 * first that succeeds. A failed step moves on to the next; when the plan ends at `manual`, the
 * component is halted for an operator and the decision `exhausted` is published (the alert
 * wiring turns it into "Recovery exhausted: <component>"). Every decision is published on
 * `andon:recovery` and written to the store's `recovery` namespace (bounded, oldest first out).
 *
 * The steps:
 * - `attempt`: the supervisor's own restart. The strategist never restarts anything itself, so it
 *   can neither fight the restart intensity nor restart a halted component (no loop): the step
 *   succeeds when the supervisor restarts the component, fails when the supervisor halts it
 *   (intensity exceeded), when anyone halts it, or when it is not running after `attemptTimeoutMs`.
 * - `degrade`: `options.degrade` when the runtime gives one (e.g. the resource guardian's
 *   degradation mode). Default: a non-critical component is marked degraded, with its declared
 *   non-critical dependents, and the node keeps serving without it (the supervisor keeps
 *   restarting or halting it under its intensity); the mark clears when it restarts or resumes.
 *   A critical component cannot be served around, so the default degrade fails for it.
 * - `notify`: succeeds when the node has an alert channel (the alert wiring sends the alert on the
 *   `step` decision); fails without one, because a log line pages nobody.
 * - `manual`: halts the component (`halted_manual`, by `recovery`) unless it is halted already,
 *   and declares recovery exhausted: an operator resumes it (`andon resume <component>`).
 *
 * While a plan runs for a component, further failures of it are recorded in its history but do
 * not start a second plan.
 *
 * Circuit breakers (`andon:breaker`): a breaker opening by itself (not forced by an operator) is a
 * failure of the component named like the breaker, `tool:<name>` or `downstream:<name>`, in the
 * same history as that tool's crashes, error group {@link BREAKER_GROUP} whatever the reason (a
 * breaker that keeps opening, including after failed probes, is `persistent`; a `downstream:<name>`
 * declared in `dependencies` is the root cause of the cascade when its dependents fail or open
 * after it). For such a failure, `attempt` waits for the breaker to close (its probes passed):
 * it succeeds then, fails when a probe fails and the breaker opens again, or when it is not
 * closed `attemptTimeoutMs` after its retry time. The degraded mark clears when the breaker
 * closes. `manual` never forces a breaker (that would stop the probes that can close it): the
 * breaker keeps failing fast and probing, and the exhausted decision pages an operator.
 */
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { Store } from '../../store/store.js';
import { events, on, subscribeAll, type BreakerEvent, type ComponentEvent, type ComponentFailureEvent, type RecoveryEvent, type RestartEvent } from '../../events/index.js';
import { FailureHistory, type HistoryStats } from './history.js';
import { PLANS, classify, type RecoveryClass, type RecoveryStep } from './classify.js';

/** What a custom degrade step is told. */
export interface DegradeContext {
  component: string;
  class: RecoveryClass;
  error: string;
  /** Components that declared a dependency on this one. */
  dependents: string[];
}

/** Options of the strategist (RuntimeOptions.recovery; the `recovery` config section). */
export interface RecoveryOptions {
  /** Default true. */
  enabled?: boolean;
  /** Failures kept per component. Default 100. */
  historySize?: number;
  /** Window of rates, trend, prediction and persistence. Default 300,000 ms (5 min). */
  windowMs?: number;
  /** A dependent failing this soon after its dependency is a cascade. Default 10,000 ms. */
  cascadeWindowMs?: number;
  /** component id → the component ids it depends on, e.g. `{ 'tool:report': ['tool:db'] }`. */
  dependencies?: Record<string, string[]>;
  /** Decisions kept in the store (and in memory). Default 500. */
  decisions?: number;
  /** Same-group failures in the window that make a failure persistent. Default 3. */
  persistentAfter?: number;
  /** How long `attempt` waits for the supervisor to bring the component back. Default 30,000 ms. */
  attemptTimeoutMs?: number;
  /** Replaces the default degrade step: resolve true when the node now runs degraded around the component. */
  degrade?: (ctx: DegradeContext) => boolean | Promise<boolean>;
  /** Resource pressure known now (the resource guardian): failures then count as resource exhaustion. */
  pressure?: () => boolean;
}

/** What the strategist needs from the runtime. */
export interface RecoveryActions {
  /** The component's state (`running`, `restarting`, `halted_fatal`…), undefined when unknown. */
  state(id: string): string | undefined;
  /** Whether the node is not ready without the component. */
  critical(id: string): boolean;
  /** Halts the component for an operator. */
  halt(id: string, reason: string): Promise<void>;
  /** Whether an alert channel is configured. */
  canNotify(): boolean;
  /** The state of the circuit breaker `name` (`closed`, `open`, `half_open`), undefined when unknown. */
  breakerState?(name: string): string | undefined;
}

/** The error group of every failure that is a circuit breaker opening. */
export const BREAKER_GROUP = 'circuit breaker open';

/** What failed: a supervised component (crash) or a circuit breaker (it opened). */
type Source = 'component' | 'breaker';

/** One component in {@link RecoverySnapshot}. */
export interface ComponentRecovery extends Omit<HistoryStats, 'total'> {
  id: string;
  failures: number;
  lastError: string | null;
  lastGroup: string | null;
  class: RecoveryClass | null;
  rootCause: string | null;
  dependsOn: string[];
  degraded: string | null;
  recovering: boolean;
}

/** What GET /admin/recovery shows. */
export interface RecoverySnapshot {
  enabled: boolean;
  windowMs: number;
  cascadeWindowMs: number;
  plans: Record<RecoveryClass, readonly RecoveryStep[]>;
  components: ComponentRecovery[];
  decisions: RecoveryEvent[];
}

type Outcome = ['succeeded' | 'failed', string];

interface LastClass {
  class: RecoveryClass;
  rootCause: string | undefined;
  rootTime: number;
  rootError: string;
}

const NS = 'recovery';
const keyOf = (seq: number) => String(seq).padStart(12, '0');

export class RecoveryStrategist {
  readonly enabled: boolean;
  private readonly historySize: number;
  private readonly windowMs: number;
  private readonly cascadeWindowMs: number;
  private readonly deps: Record<string, string[]>;
  private readonly maxDecisions: number;
  private readonly histories = new Map<string, FailureHistory>();
  private readonly classes = new Map<string, LastClass>();
  private readonly active = new Map<string, Promise<void>>();
  private readonly degraded = new Map<string, string>();
  private readonly waiters = new Map<string, { resolve: (o: Outcome) => void; timer: Timer; source: Source }>();
  private readonly decisions: RecoveryEvent[] = [];
  private readonly keys: string[] = [];
  private seq = 0;
  private writes: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  /** Set by {@link stop}: running plans end after their current step (nothing is halted while the node stops). */
  private stopping = false;

  constructor(
    private readonly options: RecoveryOptions,
    private readonly d: { actions: RecoveryActions; clock: Clock; log: Logger; store?: Store },
  ) {
    this.enabled = options.enabled ?? true;
    this.historySize = options.historySize ?? 100;
    this.windowMs = options.windowMs ?? 300_000;
    this.cascadeWindowMs = options.cascadeWindowMs ?? 10_000;
    this.deps = options.dependencies ?? {};
    this.maxDecisions = options.decisions ?? 500;
  }

  /** Reads the decisions kept in the store (call once, before {@link start}). */
  async load(): Promise<void> {
    if (!this.d.store) return;
    try {
      const entries = await this.d.store.list<RecoveryEvent>(NS);
      entries.sort((a, b) => (a.key < b.key ? -1 : 1));
      for (const e of entries) {
        this.keys.push(e.key);
        this.seq = Math.max(this.seq, Number(e.key) || 0, e.value.seq ?? 0);
      }
      for (const e of entries.slice(-this.maxDecisions)) this.decisions.push(e.value);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'recovery decisions could not be read; starting with none');
    }
  }

  /** Subscribes to component failures, restarts and state changes. */
  start(): void {
    if (!this.enabled || this.unsubscribe) return;
    this.unsubscribe = subscribeAll([on(events.failure, (e) => this.onFailure(e)), on(events.restart, (e) => this.onRestart(e)), on(events.component, (e) => this.onComponent(e)), on(events.breaker, (e) => this.onBreaker(e))]);
  }

  /** Unsubscribes, ends pending attempts, and waits for decisions being written. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stopping = true;
    for (const [id] of this.waiters) this.settle(id, ['failed', 'the node is stopping']);
    await this.settled();
  }

  /** Resolves when every running plan has ended and every decision is written. */
  async settled(): Promise<void> {
    while (this.active.size) await Promise.all([...this.active.values()]);
    await this.writes;
  }

  private history(id: string): FailureHistory {
    let h = this.histories.get(id);
    if (!h) this.histories.set(id, (h = new FailureHistory(this.historySize, this.windowMs)));
    return h;
  }

  private dependents(id: string): string[] {
    return Object.entries(this.deps)
      .filter(([, on]) => on.includes(id))
      .map(([c]) => c);
  }

  /** The first failure of the chain when a dependency failed within the cascade window, else undefined. */
  private cascadeRoot(id: string, now: number): { id: string; time: number; error: string; via: string } | undefined {
    let root: { id: string; time: number; error: string; via: string } | undefined;
    for (const dep of this.deps[id] ?? []) {
      const last = this.histories.get(dep)?.last();
      if (!last || last.time > now || now - last.time > this.cascadeWindowMs) continue;
      const c = this.classes.get(dep);
      const r = c?.class === 'cascade' && c.rootCause ? { id: c.rootCause, time: c.rootTime, error: c.rootError, via: dep } : { id: dep, time: last.time, error: last.error, via: dep };
      if (!root || r.time < root.time) root = r;
    }
    return root;
  }

  /** A component failed (the supervisor is restarting or halting it). */
  onFailure(e: ComponentFailureEvent): void {
    this.failed(e, 'component');
  }

  /** A circuit breaker changed state: opening is a failure of its component, closing ends the attempt. */
  onBreaker(e: BreakerEvent): void {
    if (!this.enabled || this.stopping) return;
    if (e.to === 'open') {
      if (e.forced) return this.settle(e.name, ['failed', `forced open by an operator: ${e.reason}`]);
      // Settled before the failure is recorded: a probe that failed ends the running attempt.
      this.settle(e.name, ['failed', `the breaker opened again: ${e.reason}`], 'breaker');
      const now = this.d.clock.now();
      this.failed({ id: e.name, kind: 'breaker', error: `${BREAKER_GROUP}: ${e.reason}`, time: now }, 'breaker', e.retryAt);
    } else if (e.to === 'closed') {
      this.settle(e.name, ['succeeded', `the breaker closed: ${e.reason}`], 'breaker');
      this.clearDegraded(e.name);
    }
  }

  private failed(e: ComponentFailureEvent, source: Source, retryAt?: number): void {
    if (!this.enabled || this.stopping) return;
    const h = this.history(e.id);
    const rec = h.record(e.time, e.error, source === 'breaker' ? BREAKER_GROUP : undefined);
    const stats = h.stats(e.time);
    const same = stats.groups.find((g) => g.group === rec.group)?.count ?? 1;
    const root = this.cascadeRoot(e.id, e.time);
    const pressure = this.options.pressure?.() ?? false;
    const cls = classify({ group: rec.group, failuresInWindow: stats.failuresInWindow, sameGroupInWindow: same, pressure, cascadeRoot: root?.id, persistentAfter: this.options.persistentAfter });
    this.classes.set(e.id, { class: cls, rootCause: root?.id, rootTime: root?.time ?? e.time, rootError: root?.error ?? e.error });
    if (this.active.has(e.id)) {
      this.d.log.debug({ component: e.id, class: cls }, 'failure recorded; a recovery plan is already running for this component');
      return;
    }
    const plan = PLANS[cls];
    const evidence: RecoveryEvent['evidence'] = {
      error: rec.error,
      group: rec.group,
      failuresInWindow: stats.failuresInWindow,
      sameGroupInWindow: same,
      perMinute: stats.perMinute,
      trend: stats.trend,
      ...(root ? { dependency: root.via, rootError: root.error } : {}),
      ...(pressure ? { pressure } : {}),
    };
    // Registered now, before the supervisor publishes its restart or halt for this failure.
    const outcome = plan.includes('attempt') ? this.watch(e.id, source, retryAt) : undefined;
    const run = this.run(e.id, cls, plan, evidence, root?.id, outcome, source).finally(() => this.active.delete(e.id));
    this.active.set(e.id, run);
  }

  private async run(id: string, cls: RecoveryClass, plan: readonly RecoveryStep[], evidence: RecoveryEvent['evidence'], rootCause: string | undefined, outcome: Promise<Outcome> | undefined, source: Source): Promise<void> {
    const base = { component: id, class: cls, plan: [...plan], evidence, ...(rootCause ? { rootCause } : {}) };
    this.decide({ ...base, action: 'plan', detail: `${cls} failure${rootCause ? ` (root cause: ${rootCause})` : ''}: plan ${plan.join(' → ')}` });
    for (const step of plan) {
      let o: Outcome;
      try {
        o = await this.execute(step, id, cls, evidence, outcome, source);
      } catch (err) {
        o = ['failed', `step threw: ${(err as Error).message}`];
      }
      this.decide({ ...base, action: 'step', step, result: o[0], detail: o[1] });
      if (this.stopping) return;
      if (step === 'manual') {
        this.decide({ ...base, action: 'exhausted', step, result: o[0], detail: `every step failed (${plan.join(' → ')}); ${o[1]}` });
        return;
      }
      if (o[0] === 'succeeded') return;
    }
  }

  private async execute(step: RecoveryStep, id: string, cls: RecoveryClass, evidence: RecoveryEvent['evidence'], outcome: Promise<Outcome> | undefined, source: Source): Promise<Outcome> {
    const a = this.d.actions;
    switch (step) {
      case 'attempt': {
        const st = a.state(id);
        if (st?.startsWith('halted')) {
          this.settle(id, ['failed', 'halted']);
          return ['failed', `component is ${st}; the strategist never restarts a halted component`];
        }
        return outcome ?? ['failed', 'no restart to wait for'];
      }
      case 'degrade': {
        const dependents = this.dependents(id);
        if (this.options.degrade) {
          const ok = await this.options.degrade({ component: id, class: cls, error: evidence.error, dependents });
          if (ok) this.degraded.set(id, `${cls}: ${evidence.group}`);
          return ok ? ['succeeded', 'degraded by the runtime'] : ['failed', 'the runtime could not degrade around it'];
        }
        if (a.critical(id)) return ['failed', `${id} is critical: the node is not ready without it, so it cannot be served around`];
        const marked = [id, ...dependents.filter((x) => !a.critical(x))];
        for (const m of marked) this.degraded.set(m, m === id ? `${cls}: ${evidence.group}` : `depends on ${id}`);
        return ['succeeded', `the node serves without ${id} (non-critical); marked degraded: ${marked.join(', ')}`];
      }
      case 'notify':
        return a.canNotify() ? ['succeeded', 'operators alerted'] : ['failed', 'no alert channel is configured'];
      case 'manual': {
        if (source === 'breaker') return ['succeeded', `left to its breaker (failing fast, probing): not forced, awaiting an operator (andon breakers)`];
        const st = a.state(id);
        if (st?.startsWith('halted')) return ['succeeded', `stays ${st}, awaiting an operator`];
        await a.halt(id, `recovery exhausted (${cls}): ${evidence.error}`.slice(0, 500));
        return ['succeeded', 'halted (halted_manual), awaiting an operator'];
      }
    }
  }

  /**
   * A promise of the next verdict on `id`: for a crash the supervisor's (restarted, halted, or
   * neither in time); for a breaker its own (closed, opened again, or not closed
   * `attemptTimeoutMs` after its retry time).
   */
  private watch(id: string, source: Source, retryAt?: number): Promise<Outcome> {
    this.settle(id, ['failed', 'superseded by a newer failure']);
    const attempt = this.options.attemptTimeoutMs ?? 30_000;
    const ms = attempt + (retryAt === undefined ? 0 : Math.max(0, retryAt - this.d.clock.now()));
    return new Promise<Outcome>((resolve) => {
      const timer = this.d.clock.setTimeout(() => {
        if (source === 'breaker') {
          const st = this.d.actions.breakerState?.(id);
          this.settle(id, st === 'closed' ? ['succeeded', 'the breaker is closed'] : ['failed', `the breaker is not closed ${ms} ms after it opened (state ${st ?? 'unknown'})`]);
          return;
        }
        const st = this.d.actions.state(id);
        this.settle(id, st === 'running' ? ['succeeded', 'running again'] : ['failed', `not running ${ms} ms after the failure (state ${st ?? 'unknown'})`]);
      }, ms);
      timer.unref?.();
      this.waiters.set(id, { resolve, timer, source });
    });
  }

  /** Ends the attempt waiting on `id` (only one waiting on that source, when given). */
  private settle(id: string, o: Outcome, source?: Source): void {
    const w = this.waiters.get(id);
    if (!w || (source !== undefined && w.source !== source)) return;
    this.waiters.delete(id);
    this.d.clock.clearTimeout(w.timer);
    w.resolve(o);
  }

  /** The supervisor restarted a component, or halted it past its restart intensity. */
  onRestart(e: RestartEvent): void {
    if (e.intensityExceeded) return this.settle(e.id, ['failed', `restart intensity exceeded: halted by its supervisor after ${e.restarts} restarts`]);
    this.settle(e.id, ['succeeded', `restarted by its supervisor (restart ${e.restarts})`], 'component');
    this.clearDegraded(e.id);
  }

  /** A component was halted or resumed. */
  onComponent(e: ComponentEvent): void {
    if (e.to.startsWith('halted')) this.settle(e.id, ['failed', `halted (${e.to}): ${e.reason ?? ''}`]);
    else if (e.to === 'normal') this.clearDegraded(e.id);
  }

  private clearDegraded(id: string): void {
    if (!this.degraded.delete(id)) return;
    for (const d of this.dependents(id)) if (this.degraded.get(d) === `depends on ${id}`) this.degraded.delete(d);
  }

  private decide(d: Omit<RecoveryEvent, 'seq' | 'time'>): void {
    const ev: RecoveryEvent = { ...d, seq: ++this.seq, time: this.d.clock.now() };
    this.decisions.push(ev);
    if (this.decisions.length > this.maxDecisions) this.decisions.splice(0, this.decisions.length - this.maxDecisions);
    const line = { component: ev.component, class: ev.class, step: ev.step, result: ev.result, rootCause: ev.rootCause, detail: ev.detail };
    if (ev.action === 'exhausted') this.d.log.error(line, 'recovery exhausted: awaiting an operator');
    else if (ev.action === 'plan') this.d.log.warn({ ...line, plan: ev.plan, evidence: ev.evidence }, 'recovery plan chosen');
    else this.d.log.info(line, 'recovery step');
    events.recovery.publish(ev);
    const store = this.d.store;
    if (!store) return;
    this.writes = this.writes
      .then(async () => {
        const key = keyOf(ev.seq);
        await store.set(NS, key, ev);
        this.keys.push(key);
        while (this.keys.length > this.maxDecisions) await store.delete(NS, this.keys.shift()!);
      })
      .catch((err: unknown) => this.d.log.warn({ err: (err as Error).message }, 'recovery decision not written to the store'));
  }

  /** Per component history, class, trend, prediction; the last `limit` decisions, newest last. */
  snapshot(limit = 50): RecoverySnapshot {
    const now = this.d.clock.now();
    const ids = new Set([...this.histories.keys(), ...Object.keys(this.deps), ...Object.values(this.deps).flat()]);
    const components = [...ids].sort().map((id): ComponentRecovery => {
      const h = this.histories.get(id);
      const s = h?.stats(now);
      const c = this.classes.get(id);
      const last = h?.last();
      return {
        id,
        failures: s?.total ?? 0,
        failuresInWindow: s?.failuresInWindow ?? 0,
        perMinute: s?.perMinute ?? 0,
        trend: s?.trend ?? 'stable',
        lastAt: s?.lastAt ?? null,
        meanIntervalMs: s?.meanIntervalMs ?? null,
        predictedNextAt: s?.predictedNextAt ?? null,
        groups: s?.groups ?? [],
        lastError: last?.error ?? null,
        lastGroup: last?.group ?? null,
        class: c?.class ?? null,
        rootCause: c?.rootCause ?? null,
        dependsOn: this.deps[id] ?? [],
        degraded: this.degraded.get(id) ?? null,
        recovering: this.active.has(id),
      };
    });
    return { enabled: this.enabled, windowMs: this.windowMs, cascadeWindowMs: this.cascadeWindowMs, plans: { ...PLANS }, components, decisions: this.decisions.slice(-Math.max(0, limit)) };
  }
}
