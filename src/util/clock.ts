/**
 * Time, injected. Breakers, supervisors, drains and TTLs take a Clock so tests can move time
 * instead of sleeping (the habit of Effect's TestClock and undici's fake timers).
 */
export interface Timer {
  unref?(): unknown;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(t: Timer): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** A manual clock for tests: timers fire only when `advance` moves time past them. */
export class TestClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { id } as Timer;
  }

  clearTimeout(t: Timer): void {
    this.timers.delete((t as { id: number }).id);
  }

  /** Moves time forward, firing due timers in order (awaiting microtasks between them). */
  async advance(ms: number): Promise<void> {
    // Let work already queued (which may set timers relative to now) run before time moves.
    await new Promise((r) => setImmediate(r));
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.timers.size;
  }
}
