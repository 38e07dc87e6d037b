/**
 * Rate limits shared by the nodes of a cluster (store `kind: redis`): rate-limiter-flexible's
 * RateLimiterRedis on the store's node-redis client (`useRedisPackage: true`), behind
 * {@link flexibleStore}. The per-client limits and the per-tool limits count in Redis, so a client
 * spreading its requests over several nodes gets its limit once, not once per node. The `global`
 * limit stays per node (it protects this node's capacity), in memory.
 *
 * While Redis cannot be used the counts go to an in-memory insurance limiter of the same size
 * (`insuranceLimiter`): each node then limits on its own (a client hitting N nodes gets up to N×
 * its limit) until Redis answers again. A disconnected client fails over at once
 * (`rejectIfRedisNotReady`); a count Redis has not answered within 250 ms (or the store's
 * command budget, if shorter) is decided by the insurance, and then every limit skips Redis for
 * 1 s (requests arriving in the first 250 ms of a stall wait them; later ones do not).
 */
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { flexibleStore, type FlexibleLimiter, type FlexibleLimiterOptions, type RateLimitStore } from './rate-limit-store.js';

/** How long every limit's insurance decides alone after a count outlived its wait. */
const BYPASS_MS = 1_000;
/** Longest a request waits for its count in Redis (or the store's budget, if shorter): a count is not worth more. */
const MAX_WAIT_MS = 250;

/** What the shared limits need of the store (RedisStore). */
export interface RateLimitRedis {
  /** The node-redis client once the store is open. */
  commandClient(): unknown;
  readonly keyPrefix: string;
  readonly commandBudgetMs: number;
}

/** Counts in Redis with a memory insurance; before the store is open, the insurance alone. */
class SharedLimiter implements FlexibleLimiter {
  private readonly insurance: RateLimiterMemory;
  private redis: RateLimiterRedis | undefined;
  private client: unknown;

  constructor(
    private readonly o: FlexibleLimiterOptions,
    private readonly store: RateLimitRedis,
    private readonly clock: Clock,
    private readonly bypass: { until: number },
  ) {
    this.insurance = new RateLimiterMemory(o);
  }

  consume(key: string | number, points = 1): Promise<unknown> {
    const client = this.store.commandClient();
    if (!client || this.clock.now() < this.bypass.until) return this.insurance.consume(key, points);
    if (client !== this.client) {
      this.client = client;
      this.redis = new RateLimiterRedis({ ...this.o, keyPrefix: `${this.store.keyPrefix}:rl:${this.o.keyPrefix}`, storeClient: client, useRedisPackage: true, rejectIfRedisNotReady: true, insuranceLimiter: this.insurance });
    }
    const budget = Math.min(this.store.commandBudgetMs, MAX_WAIT_MS);
    return new Promise((resolve, reject) => {
      let done = false;
      // A stalled Redis neither answers nor errs: past the budget the insurance decides.
      const t = this.clock.setTimeout(() => {
        if (done) return;
        done = true;
        this.bypass.until = this.clock.now() + BYPASS_MS;
        this.insurance.consume(key, points).then(resolve, reject);
      }, budget);
      t.unref?.();
      this.redis!.consume(key, points).then(
        (r) => {
          if (done) return;
          done = true;
          this.clock.clearTimeout(t);
          resolve(r);
        },
        (r: unknown) => {
          if (done) return;
          done = true;
          this.clock.clearTimeout(t);
          reject(r);
        },
      );
    });
  }

  /** Gives points back where they were most likely taken (Redis, or the insurance while it decides). */
  reward(key: string | number, points = 1): Promise<unknown> {
    if (!this.redis || this.clock.now() < this.bypass.until) return this.insurance.reward(key, points);
    return this.redis.reward(key, points);
  }
}

/** The rate-limit store of a node on a Redis store (`global` stays in memory, per node). */
export function redisRateLimitStore(store: RateLimitRedis, clock: Clock, logger: Logger): RateLimitStore {
  const bypass = { until: 0 };
  const s = flexibleStore((o) => (o.keyPrefix === 'andon-rl:global' ? new RateLimiterMemory(o) : new SharedLimiter(o, store, clock, bypass)), logger);
  return { ...s, kind: 'redis' };
}
