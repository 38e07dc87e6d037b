/** Reconnect timing shared by the HTTP transports and 2026 listen streams. */

/** Bounded exponential backoff with jitter. */
export interface ReconnectOptions {
  /** Attempts after the first failure before giving up. Default 4. */
  maxAttempts?: number;
  /** Delay before the first retry, ms. Default 250. */
  initialDelayMs?: number;
  /** Upper bound of one delay, ms. Default 5000. */
  maxDelayMs?: number;
  /** Random extra delay as a fraction of the delay (0 to 1). Default 0.3. */
  jitter?: number;
}

/** {@link ReconnectOptions} with every default filled in. */
export type ReconnectPolicy = Required<ReconnectOptions>;

/** Fills the defaults of {@link ReconnectOptions}. */
export function reconnectPolicy(o: ReconnectOptions = {}): ReconnectPolicy {
  return {
    maxAttempts: o.maxAttempts ?? 4,
    initialDelayMs: o.initialDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 5000,
    jitter: Math.min(Math.max(o.jitter ?? 0.3, 0), 1),
  };
}

/**
 * The delay before retry number `attempt` (1-based). `floorMs` is a server's SSE `retry` value:
 * the spec says a client MUST wait at least that long, so jitter is only ever added on top of it.
 */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, floorMs = 0): number {
  const exp = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  const base = Math.max(exp, floorMs);
  return Math.round(base + base * policy.jitter * Math.random());
}
