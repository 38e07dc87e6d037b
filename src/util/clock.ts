/**
 * Time, injected. Breakers, supervisors, drains, TTLs, sweepers, keep-alives, alert retries,
 * health checks and client timeouts take a Clock so tests can move time instead of sleeping (the
 * habit of Effect's TestClock and undici's fake timers). This is the one clock shape of the code
 * base: do not add another `now()`/`setTimeout` interface next to it.
 */
export interface Timer {
  /** Lets the process exit while the timer is pending (real timers only; a no-op elsewhere). */
  unref?(): unknown;
}

/** Wall-clock milliseconds and timers. */
export interface Clock {
  /** Milliseconds since the epoch (like `Date.now()`). */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(t: Timer | undefined): void;
  /** Calls `fn` every `ms` (at least 1 ms) until cleared. */
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(t: Timer | undefined): void;
}

/** The real clock: `Date.now` and Node's timers (not unref'd; call `unref?.()` where wanted). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t as NodeJS.Timeout | undefined),
};

/**
 * Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). `unref`
 * (default false) lets the process exit while waiting.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, unref = false): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = clock.setTimeout(done, ms);
    if (unref) t.unref?.();
    function done() {
      signal?.removeEventListener('abort', done);
      clock.clearTimeout(t);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface Pending {
  at: number;
  fn: () => void;
  /** Repeat period for intervals; undefined for timeouts. */
  every?: number;
}

/** A test timer handle: `unref` exists so code that unrefs real timers runs unchanged. */
class TestTimer implements Timer {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
}

/** Yields one macrotask turn, so I/O callbacks and queued promise work run. */
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A manual clock for tests: time stands still and timers fire only when `advance` (or
 * `runUntil`) moves time past them, in due order; an interval fires once per period crossed.
 */
export class TestClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Pending>();
  /** The delay of every timeout and interval ever set, in order: what a test asserts backoff on. */
  readonly scheduled: number[] = [];

  /** `start` is the initial `now()`, ms since the epoch. Default 1,000,000. */
  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, undefined);
  }

  clearTimeout(t: Timer | undefined): void {
    if (t instanceof TestTimer) this.timers.delete(t.id);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearInterval(t: Timer | undefined): void {
    this.clearTimeout(t);
  }

  private add(fn: () => void, ms: number, every: number | undefined): Timer {
    const id = ++this.seq;
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    this.scheduled.push(delay);
    this.timers.set(id, { at: this.t + (every ?? delay), fn, every });
    return new TestTimer(id);
  }

  /** The earliest pending timer due at or before `end`. */
  private next(end: number): [number, Pending] | undefined {
    let next: [number, Pending] | undefined;
    for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
    return next;
  }

  /** Fires one timer: moves time to it, reschedules an interval. */
  private fire([id, p]: [number, Pending]): void {
    this.t = p.at;
    if (p.every === undefined) this.timers.delete(id);
    else p.at += p.every;
    p.fn();
  }

  /** Moves time forward by `ms`, firing due timers in order (awaiting queued work between them). */
  async advance(ms: number): Promise<void> {
    // Let work already queued (which may set timers relative to now) run before time moves.
    await turn();
    const end = this.t + ms;
    for (;;) {
      const next = this.next(end);
      if (!next) break;
      this.fire(next);
      await turn();
    }
    this.t = end;
    await turn();
  }

  /**
   * Waits for `p`, jumping time to the next pending timer whenever the code under test is
   * waiting on the clock only. Real I/O still takes real time: each step first yields a few
   * macrotask turns so sockets make progress. Fails after `realMs` of real time (default 10,000);
   * timers due more than `maxMs` (default one day) after the start are not fired.
   * Use it where only clock waits (backoff, TTLs) are pending; a pending timeout that races real
   * I/O would fire early here, so drive such code with `advance` instead.
   */
  async runUntil<T>(p: Promise<T>, opts: { realMs?: number; maxMs?: number } = {}): Promise<T> {
    let settled = false;
    const watched = p.finally(() => (settled = true));
    watched.catch(() => undefined);
    const realEnd = Date.now() + (opts.realMs ?? 10_000);
    const limit = this.t + (opts.maxMs ?? 86_400_000);
    while (!settled) {
      if (Date.now() > realEnd) throw new Error(`TestClock.runUntil: not settled within ${opts.realMs ?? 10_000} ms of real time`);
      for (let i = 0; i < 5 && !settled; i++) await turn();
      if (settled) break;
      const next = this.next(limit);
      if (next) this.fire(next);
      // Nothing due on the clock: the code waits on real I/O.
      else await new Promise((r) => setTimeout(r, 1));
    }
    return watched;
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.timers.size;
  }
}
