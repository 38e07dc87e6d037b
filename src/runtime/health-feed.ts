/**
 * The runtime's health checks, and the one place it tells subscribers about halts. The drain phase
 * reaches health through the drain channel (drain.ts publishes it); health subscribes.
 */
import type { Observability } from '../observability/observability.js';
import type { Store } from '../store/store.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import type { HaltRegistry } from './halt.js';

/** Registers the store and HTTP transport readiness checks. */
export function registerHealthChecks(obs: Observability, store: Store, st: { http(): HttpEndpoint | undefined; phase(): string; halts: HaltRegistry }): void {
  obs.health.register(
    'store',
    async () => {
      await store.get('health', 'probe');
    },
    { critical: true },
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
