/**
 * One circuit breaker: a state machine over a sliding window of call outcomes, on the injected
 * clock. Closed, it counts; when the error rate (default ≥ 50 % of ≥ 20 calls in 60 s) or the p95
 * latency (when `p95Ms` is set) crosses its threshold it opens, and an open breaker refuses at
 * once. After `openMs` it turns half-open and lets `halfOpenProbes` calls through, one by one or
 * together: that many successes close it, one failure opens it again. An operator can force it
 * open or closed; a forced state stays until {@link CircuitBreaker.reset}.
 *
 * The hot path (`acquire` + `settle`) reads a few fields and writes one bucket of typed arrays:
 * no allocation, no timer per call. The only timer is the one that turns an open breaker
 * half-open, set once per opening.
 */
import { AndonError } from '../errors/catalogue.js';
import { BreakerErrors } from '../errors/breakers.js';
import { events, type BreakerStateKind } from '../events/index.js';
import type { Clock, Timer } from '../util/clock.js';

/** Thresholds and timings of one breaker. */
export interface BreakerSettings {
  /** Length of the sliding window, ms (kept in 10 buckets). Default 60,000. */
  windowMs: number;
  /** Calls the window must hold before it can open the breaker. Default 20. */
  minCalls: number;
  /** Failure share (0–1] that opens the breaker. Default 0.5. */
  errorRate: number;
  /** Opens the breaker when the window's p95 latency exceeds this, ms. Default: unset (off). */
  p95Ms?: number | undefined;
  /** How long an open breaker refuses before it lets probes through, ms. Default 30,000. */
  openMs: number;
  /** Probes a half-open breaker lets through; as many successes close it. Default 3. */
  halfOpenProbes: number;
}

/** The defaults of {@link BreakerSettings}. */
export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({ windowMs: 60_000, minCalls: 20, errorRate: 0.5, openMs: 30_000, halfOpenProbes: 3 });

/** The state of a breaker: a tagged union, switched on `kind`. */
export type BreakerState =
  | { readonly kind: 'closed' }
  | { readonly kind: 'open'; readonly since: number; readonly retryAt: number; readonly reason: string }
  | { readonly kind: 'half_open'; probesInFlight: number; successes: number };

/** An operator's forced state. */
export interface ForcedState {
  kind: 'open' | 'closed';
  reason: string;
  since: number;
}

/**
 * How a call ended, for {@link CircuitBreaker.settle}: `Ok`; `Fail` (an `isError` result, a thrown
 * handler error, a failed downstream call); `Skip` (not the guarded code's doing — bad arguments,
 * a cancellation, a refusal further down — not counted at all).
 */
export const Outcome = { Ok: 0, Fail: 1, Skip: 2 } as const;
/** One value of {@link Outcome}. */
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** What {@link CircuitBreaker.acquire} answers when the call is refused. */
export const REFUSED = -1;

/** A breaker as the admin API shows it. */
export interface BreakerSnapshot {
  name: string;
  state: BreakerStateKind;
  /** Open: since when and when probes start; the reason. */
  since?: string;
  retryAt?: string;
  reason?: string;
  /** Half-open: probes running and succeeded so far. */
  probesInFlight?: number;
  successes?: number;
  forced: ForcedState | null;
  window: { calls: number; failures: number; slow: number; errorRate: number };
  settings: BreakerSettings;
}

const BUCKETS = 10;
const CLOSED: BreakerState = Object.freeze({ kind: 'closed' });

/**
 * Counts of the last `windowMs` in {@link BUCKETS} time buckets, with running totals: adding is
 * O(1), expiring a bucket subtracts it once.
 */
class OutcomeWindow {
  private readonly epochs = new Float64Array(BUCKETS).fill(-1);
  private readonly calls = new Uint32Array(BUCKETS);
  private readonly fails = new Uint32Array(BUCKETS);
  private readonly slows = new Uint32Array(BUCKETS);
  /** The oldest epoch that may still hold counts. */
  private head = 0;
  totalCalls = 0;
  totalFails = 0;
  totalSlow = 0;

  constructor(private readonly bucketMs: number) {}

  add(now: number, failed: boolean, slow: boolean): void {
    const e = Math.floor(now / this.bucketMs);
    this.expire(e);
    const i = e % BUCKETS;
    // A slot still holding another epoch here can only be left over from a clock that went back.
    if (this.epochs[i] !== e) {
      this.drop(i);
      this.epochs[i] = e;
    }
    this.calls[i]!++;
    this.totalCalls++;
    if (failed) {
      this.fails[i]!++;
      this.totalFails++;
    }
    if (slow) {
      this.slows[i]!++;
      this.totalSlow++;
    }
  }

  /** Drops the buckets older than the window that ends in epoch `e`. */
  expire(e: number): void {
    const oldest = e - BUCKETS + 1;
    if (this.head >= oldest) return;
    if (oldest - this.head >= BUCKETS) {
      this.clear();
      this.head = oldest;
      return;
    }
    for (; this.head < oldest; this.head++) {
      const i = this.head % BUCKETS;
      if (this.epochs[i] === this.head) this.drop(i);
    }
  }

  /** Empties slot `i`, taking its counts off the totals. */
  private drop(i: number): void {
    this.totalCalls -= this.calls[i]!;
    this.totalFails -= this.fails[i]!;
    this.totalSlow -= this.slows[i]!;
    this.calls[i] = this.fails[i] = this.slows[i] = 0;
    this.epochs[i] = -1;
  }

  expireAt(now: number): void {
    this.expire(Math.floor(now / this.bucketMs));
  }

  clear(): void {
    this.epochs.fill(-1);
    this.calls.fill(0);
    this.fails.fill(0);
    this.slows.fill(0);
    this.totalCalls = this.totalFails = this.totalSlow = 0;
  }
}

/** A circuit breaker named `tool:<name>` or `downstream:<name>` (any name works). */
export class CircuitBreaker {
  private st: BreakerState = CLOSED;
  private forcedState: ForcedState | null = null;
  /** Incremented on every transition: a probe admitted in an earlier half-open phase is stale. */
  private generation = 1;
  private readonly window: OutcomeWindow;
  private timer: Timer | undefined;

  constructor(
    readonly name: string,
    readonly settings: Readonly<BreakerSettings>,
    private readonly clock: Clock,
  ) {
    this.window = new OutcomeWindow(Math.max(1, Math.ceil(settings.windowMs / BUCKETS)));
    this.timed = settings.p95Ms !== undefined;
  }

  /** The current state (an open breaker past its `retryAt` reads half-open). */
  get state(): BreakerState {
    this.due(this.clock.now());
    return this.st;
  }

  /** The operator's forced state, or null. */
  get forced(): ForcedState | null {
    return this.forcedState;
  }

  /**
   * Admission of one call: {@link REFUSED} (-1) when the breaker refuses it (build the answer
   * with {@link refusal}), else a token for {@link settle}: 0 for a normal call, the positive
   * generation for a half-open probe.
   */
  acquire(): number {
    const st = this.st;
    if (st.kind === 'closed') return 0;
    if (st.kind === 'open') {
      if (this.forcedState !== null || this.clock.now() < st.retryAt) return REFUSED;
      this.toHalfOpen();
    }
    const h = this.st as Extract<BreakerState, { kind: 'half_open' }>;
    if (h.probesInFlight + h.successes >= this.settings.halfOpenProbes) return REFUSED;
    h.probesInFlight++;
    return this.generation;
  }

  /**
   * True when latency matters (`p95Ms` is set): callers time the call only then, since a clock
   * read is not free (`Date.now()` costs ~190 ns on some virtual machines).
   */
  readonly timed: boolean;

  /**
   * Records how the call admitted with `token` ended and how long it took (ms; only read when
   * {@link timed}). `now` saves a clock read when the caller has just read it.
   */
  settle(token: number, outcome: Outcome, latencyMs: number, now?: number): void {
    const slow = this.timed && latencyMs > this.settings.p95Ms! && outcome !== Outcome.Skip;
    if (token > 0) return this.settleProbe(token, outcome, slow);
    if (outcome === Outcome.Skip || this.st.kind !== 'closed') return;
    this.window.add(now ?? this.clock.now(), outcome === Outcome.Fail, slow);
    if (this.forcedState === null) this.check();
  }

  private settleProbe(token: number, outcome: Outcome, slow: boolean): void {
    const h = this.st;
    if (token !== this.generation || h.kind !== 'half_open') return;
    h.probesInFlight--;
    if (outcome === Outcome.Skip) return;
    if (outcome === Outcome.Fail || slow) {
      this.toOpen(outcome === Outcome.Fail ? 'a half-open probe failed' : `a half-open probe took longer than ${String(this.settings.p95Ms)} ms`);
      return;
    }
    if (++h.successes >= this.settings.halfOpenProbes) this.transition(CLOSED, `${h.successes} half-open probe(s) succeeded`);
  }

  /** Opens the breaker when the window crossed a threshold (runs on every counted call: builds no string unless it opens). */
  private check(): void {
    const w = this.window;
    const s = this.settings;
    const calls = w.totalCalls;
    if (calls < s.minCalls) return;
    if (w.totalFails / calls >= s.errorRate) {
      this.toOpen(`error rate ${Math.round((100 * w.totalFails) / calls)} % (${w.totalFails} of ${calls} calls in ${this.windowText()}) reached ${Math.round(s.errorRate * 100)} %`);
    } else if (this.timed && w.totalSlow > calls - Math.ceil(0.95 * calls - 1e-9)) {
      // Nearest-rank p95 exceeds p95Ms exactly when more than calls − ⌈0.95·calls⌉ calls were slower.
      this.toOpen(`p95 latency above ${String(s.p95Ms)} ms (${w.totalSlow} of ${calls} calls in ${this.windowText()} slower)`);
    }
  }

  private windowText(): string {
    return `${Math.round(this.settings.windowMs / 1000)} s`;
  }

  /** The refusal of a call while open (or half-open with every probe taken). */
  refusal(): AndonError {
    const st = this.st;
    const now = this.clock.now();
    if (st.kind === 'open') {
      const forced = this.forcedState !== null;
      const retryAfterMs = forced ? this.settings.openMs : Math.max(0, st.retryAt - now);
      const when = forced ? 'it stays open until an operator closes or resets it' : `it lets a probe through at ${new Date(st.retryAt).toISOString()} (in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s)`;
      return new AndonError(BreakerErrors.Open, `Service Unavailable: circuit breaker ${this.name} is open (${st.reason}); ${when}`, {
        retryAfterMs,
        reason: st.reason,
        component: this.name,
        breaker: this.name,
        state: 'open',
        ...(forced ? { forced: true } : { retryAt: new Date(st.retryAt).toISOString() }),
      });
    }
    const retryAfterMs = Math.min(1000, this.settings.openMs);
    return new AndonError(BreakerErrors.Open, `Service Unavailable: circuit breaker ${this.name} is half-open and its ${this.settings.halfOpenProbes} probe(s) are taken; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      retryAfterMs,
      reason: 'half-open: probes in flight',
      component: this.name,
      breaker: this.name,
      state: 'half_open',
    });
  }

  /** Forces the breaker open until {@link reset}: every call is refused. */
  forceOpen(reason: string): void {
    const now = this.clock.now();
    this.forcedState = { kind: 'open', reason, since: now };
    this.transition({ kind: 'open', since: now, retryAt: now + this.settings.openMs, reason: `forced open by an operator: ${reason}` }, `forced open by an operator: ${reason}`, true);
  }

  /** Forces the breaker closed until {@link reset}: every call goes through, none opens it. */
  forceClose(reason: string): void {
    this.forcedState = { kind: 'closed', reason, since: this.clock.now() };
    this.transition(CLOSED, `forced closed by an operator: ${reason}`, true);
  }

  /** Clears a forced state and the window: the breaker starts over, closed. */
  reset(reason = 'reset by an operator'): void {
    const wasForced = this.forcedState !== null;
    this.forcedState = null;
    this.window.clear();
    this.transition(CLOSED, reason, false, wasForced);
  }

  /** What the admin API shows. */
  snapshot(): BreakerSnapshot {
    const now = this.clock.now();
    const st = this.state;
    this.window.expireAt(now);
    const w = this.window;
    const snap: BreakerSnapshot = {
      name: this.name,
      state: st.kind,
      forced: this.forcedState,
      window: { calls: w.totalCalls, failures: w.totalFails, slow: w.totalSlow, errorRate: w.totalCalls === 0 ? 0 : w.totalFails / w.totalCalls },
      settings: { ...this.settings },
    };
    switch (st.kind) {
      case 'open':
        snap.since = new Date(st.since).toISOString();
        snap.retryAt = new Date(st.retryAt).toISOString();
        snap.reason = st.reason;
        break;
      case 'half_open':
        snap.probesInFlight = st.probesInFlight;
        snap.successes = st.successes;
        break;
      case 'closed':
        break;
      default:
        st satisfies never;
    }
    return snap;
  }

  /** Stops the half-open timer (the runtime's shutdown). */
  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Turns an open breaker past its retry time half-open (reads and the timer call this). */
  private due(now: number): void {
    const st = this.st;
    if (st.kind === 'open' && this.forcedState === null && now >= st.retryAt) this.toHalfOpen();
  }

  private toOpen(reason: string): void {
    const now = this.clock.now();
    this.transition({ kind: 'open', since: now, retryAt: now + this.settings.openMs, reason }, reason);
  }

  private toHalfOpen(): void {
    this.transition({ kind: 'half_open', probesInFlight: 0, successes: 0 }, `open for ${this.settings.openMs} ms: letting ${this.settings.halfOpenProbes} probe(s) through`);
  }

  /** Moves to `to`; publishes when the kind changes (or `announce`: an operator's action). */
  private transition(to: BreakerState, reason: string, forced = false, announce = forced): void {
    const from = this.st.kind;
    this.st = to;
    this.generation++;
    this.dispose();
    if (to.kind === 'open' && !forced) {
      // One timer per opening (never per call), so the half-open state shows without traffic.
      const gen = this.generation;
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        if (this.generation === gen) this.due(this.clock.now());
      }, this.settings.openMs);
      this.timer.unref?.();
    }
    if (to.kind === 'closed') this.window.clear();
    if (from === to.kind && !announce) return;
    if (events.breaker.hasSubscribers) {
      events.breaker.publish({ name: this.name, from, to: to.kind, reason, ...(to.kind === 'open' ? { retryAt: to.retryAt } : {}), ...(forced ? { forced: true } : {}) });
    }
  }
}
