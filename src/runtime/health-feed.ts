/**
 * The runtime's direct calls into health: checks it registers, the drain phase and the halted
 * critical components. Kept in one place so health can subscribe to drain/halt events instead.
 */
import type { Observability } from '../observability/observability.js';
import type { Store } from '../store/store.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import type { HaltRegistry } from './halt.js';
import type { ComponentInfo } from './supervisor.js';

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

/** Tells health which critical components are halted (readiness goes false). */
export function feedHalted(obs: Observability | undefined, components: ComponentInfo[]): void {
  obs?.health.setHaltedCritical(components.filter((c) => c.critical && c.state.startsWith('halted')).map((c) => c.id));
}

/** Tells health whether the node is draining. */
export function feedDraining(obs: Observability | undefined, phase: string): void {
  obs?.health.setDraining(phase !== 'running');
}
