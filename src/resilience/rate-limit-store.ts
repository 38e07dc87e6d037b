/**
 * Where rate-limit counts live. Two stores, one interface ({@link RateLimitStore}):
 *
 * - {@link memoryStore} (the default): a hand-written token bucket per key on the injected Clock.
 *   Synchronous, so the admission stage answers without a promise: it is on every request's path.
 * - {@link flexibleStore}: `rate-limiter-flexible` behind the same interface (a 1 s-style fixed
 *   window of `burst` points per `burstSec`). Its default is RateLimiterMemory; the cluster issue
 *   passes a factory for RateLimiterRedis so every node shares the counts. Its `consume()` returns
 *   a promise, so the stage becomes asynchronous with it (measured in docs/performance.md).
 *
 * Why not RateLimiterMemory on the hot path: its `consume()` allocates a Promise and a
 * RateLimiterRes per call, arms a `setTimeout` per key and window, and reads `Date.now()` (not the
 * injected clock, so tests cannot move its time).
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Clock } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';

/** One limit as a store sees it: `perSec` sustained, up to `burst` at once. */
export interface LimitSpec {
  /** The limit's name: `client`, `client:tools/call`, `tool:<name>`, `global`. */
  readonly id: string;
  /** Sustained rate (after the factor), requests per second; > 0. */
  readonly perSec: number;
  /** Most requests admitted at once from a full bucket (after the factor); ≥ 1. */
  readonly burst: number;
  /** Seconds of `perSec` the burst holds (the window of a fixed-window store). */
  readonly burstSec: number;
}

/** The counter of one limit, per key. */
export interface KeyLimiter {
  /**
   * Takes one point for `key` at time `now` (ms). Answers -1 when admitted, else the ms until a
   * point is available (the request is refused and nothing is taken).
   */
  take(key: string, now: number): number | Promise<number>;
  /** Gives back one point taken for `key` (taken together with a limit that refused). Best effort. */
  give?(key: string): void;
  /** Applies a new rate and burst (a factor change, a reload), keeping the counts. */
  update?(spec: LimitSpec): void;
  /** Keys tracked now (memory stores), for the snapshot. */
  size?(): number;
}

/** A backend for the counters of every limit. */
export interface RateLimitStore {
  /** Shown in the snapshot: `memory`, `flexible`, … */
  readonly kind: string;
  /** True when `take` never returns a promise (the stage then stays synchronous). */
  readonly sync: boolean;
  /** The counter of one limit. */
  limiter(spec: LimitSpec, clock: Clock): KeyLimiter;
}

/** One key's bucket: tokens left at time `at`. */
interface Bucket {
  tokens: number;
  at: number;
}

/** How often idle, full buckets are dropped (ms); a full bucket is the same as no bucket. */
const SWEEP_MS = 10_000;

/** Token buckets of one limit, one per key, refilled lazily on access. */
export class TokenBuckets implements KeyLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Tokens per ms. */
  private rate = 0;
  private burst = 1;
  private nextSweep = 0;

  constructor(
    spec: LimitSpec,
    private readonly maxKeys = 100_000,
  ) {
    this.update(spec);
  }

  update(spec: LimitSpec): void {
    this.rate = spec.perSec / 1000;
    this.burst = Math.max(1, spec.burst);
  }

  size(): number {
    return this.buckets.size;
  }

  take(key: string, now: number): number {
    if (now >= this.nextSweep) this.sweep(now);
    const b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      this.buckets.set(key, { tokens: this.burst - 1, at: now });
      return -1;
    }
    let t = b.tokens + (now - b.at) * this.rate;
    if (t > this.burst) t = this.burst;
    b.at = now;
    if (t >= 1) {
      b.tokens = t - 1;
      return -1;
    }
    b.tokens = t;
    return Math.ceil((1 - t) / this.rate);
  }

  /** Drops every bucket that has refilled completely (it admits exactly like a new one). */
  private sweep(now: number): void {
    this.nextSweep = now + SWEEP_MS;
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.rate >= this.burst) this.buckets.delete(k);
  }

  /** At the key cap: sweep; if every bucket is still in use, forget the oldest key (bounded memory). */
  private evict(now: number): void {
    this.sweep(now);
    if (this.buckets.size < this.maxKeys) return;
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most keys (clients) tracked per limit; past it the oldest is forgotten. Default 100,000. */
  maxKeys?: number;
}

/** The default store: in-process token buckets, synchronous. */
export function memoryStore(options: MemoryStoreOptions = {}): RateLimitStore {
  return { kind: 'memory', sync: true, limiter: (spec) => new TokenBuckets(spec, options.maxKeys) };
}

/** What {@link flexibleStore} needs of a rate-limiter-flexible limiter (RateLimiterMemory, RateLimiterRedis, …). */
export interface FlexibleLimiter {
  consume(key: string | number, points?: number): Promise<unknown>;
  /** Gives points back (rate-limiter-flexible's `reward`). */
  reward?(key: string | number, points?: number): Promise<unknown>;
}

/** Options a limiter factory receives: rate-limiter-flexible's own option names. */
export interface FlexibleLimiterOptions {
  keyPrefix: string;
  /** Points per window: the burst. */
  points: number;
  /** Window, seconds: `burstSec`. */
  duration: number;
}

/**
 * The rate-limiter-flexible store. `factory` builds one limiter per limit, e.g.
 * `(o) => new RateLimiterRedis({ storeClient: redis, ...o })`; default RateLimiterMemory.
 * A store error (Redis down) admits the request and is logged (at most once per 10 s): a broken
 * counter must not take the node down with it.
 */
export function flexibleStore(factory: (o: FlexibleLimiterOptions) => FlexibleLimiter = (o) => new RateLimiterMemory(o), logger: Logger = nullLogger): RateLimitStore {
  let lastLog = -Infinity;
  const failed = (id: string, err: Error, now: number): number => {
    if (now - lastLog >= 10_000) {
      lastLog = now;
      logger.warn({ limit: id, err: err.message }, 'rate-limit store failed; admitting requests unlimited until it answers');
    }
    return -1;
  };
  return {
    kind: 'flexible',
    sync: false,
    limiter(spec: LimitSpec): KeyLimiter {
      let current = spec;
      let lim = factory(optionsOf(spec));
      return {
        take(key: string, now: number): Promise<number> {
          const id = current.id;
          return lim.consume(key, 1).then(
            () => -1,
            (r: unknown) => (r instanceof Error ? failed(id, r, now) : Math.max(1, (r as { msBeforeNext?: number }).msBeforeNext ?? 1000)),
          );
        },
        give(key: string): void {
          lim.reward?.(key, 1).catch((err: unknown) => failed(current.id, err instanceof Error ? err : new Error(String(err)), Date.now()));
        },
        update(next: LimitSpec): void {
          current = next;
          // A new limiter per change: the library's points are fixed per instance (counts restart).
          lim = factory(optionsOf(next));
        },
      };
    },
  };
}

function optionsOf(spec: LimitSpec): FlexibleLimiterOptions {
  return { keyPrefix: `andon-rl:${spec.id}`, points: Math.max(1, Math.round(spec.burst)), duration: spec.burstSec };
}
