/**
 * The runtime's health checks, and the one place it tells subscribers about halts. The drain phase
 * reaches health through the drain channel (drain.ts publishes it); health subscribes.
 */
import type { Observability } from '../observability/observability.js';
import type { Store } from '../store/store.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import type { HaltRegistry } from './halt.js';

/**
 * The probe of a shared store: every 1 s, failing after 750 ms, re-checked every 250 ms while
 * failing; with the default threshold of 3 failures a Redis that stops answering is unhealthy
 * (critical alert, not ready) within about 4 s.
 */
export const SHARED_STORE_PROBE = { intervalMs: 1_000, timeoutMs: 750, failingIntervalMs: 250 } as const;

/** Registers the store and HTTP transport readiness checks. */
export function registerHealthChecks(obs: Observability, store: Store, st: { http(): HttpEndpoint | undefined; phase(): string; halts: HaltRegistry }): void {
  obs.health.register(
    'store',
    async () => {
      await store.get('health', 'probe');
    },
    // A shared store (Redis) is probed every second: a stall of a few seconds must alert.
    store.shared ? { critical: true, ...SHARED_STORE_PROBE } : { critical: true },
  );
  obs.health.register('transport:http', () => {
    const http = st.http();
    if (http && !http.handler.isAccepting && st.phase() === 'running' && !st.halts.isHalted('node') && !st.halts.isHalted('transport:http')) {
      throw new Error('HTTP transport is not accepting requests');
    }
  });
}

/**
 * Has the halt registry publish the full halt set: health (readiness fails on a critical halted
 * component) and the metrics subscribe to it, so the runtime only publishes.
 */
export function feedHalted(halts: HaltRegistry): void {
  halts.publishState();
}
