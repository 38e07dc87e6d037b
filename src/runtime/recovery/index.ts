/**
 * The recovery strategist wired to a runtime: its actions read the component table, halt through
 * the runtime (persisted, like an operator's halt) and notify when alerting is configured.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { Store } from '../../store/store.js';
import type { ComponentInfo } from '../supervisor.js';
import type { HaltRecord } from '../halt.js';
import { RecoveryStrategist, type RecoveryOptions } from './strategist.js';

export { RecoveryStrategist, BREAKER_GROUP, type RecoveryOptions, type RecoveryActions, type RecoverySnapshot, type ComponentRecovery, type DegradeContext } from './strategist.js';
export { FailureHistory, errorGroup, trendOf, type FailureRecord, type HistoryStats, type Trend } from './history.js';
export { PLANS, RESOURCE_PATTERN, classify, type ClassifyInput, type RecoveryClass, type RecoveryStep } from './classify.js';

/** What the strategist uses of the runtime. */
export interface RecoveryHost {
  components(): ComponentInfo[];
  halt(id: string, reason: string, by?: string): Promise<HaltRecord>;
  /** Whether alerts are configured (an alert manager exists). */
  canNotify(): boolean;
  /** The state of circuit breaker `name`, undefined when there is none. */
  breakerState?(name: string): string | undefined;
}

/** Creates, loads and starts the strategist; undefined when turned off. */
export async function startRecovery(options: RecoveryOptions | false | undefined, d: { host: RecoveryHost; clock: Clock; log: Logger; store: Store }): Promise<RecoveryStrategist | undefined> {
  if (options === false || options?.enabled === false) return undefined;
  const find = (id: string) => d.host.components().find((c) => c.id === id);
  const s = new RecoveryStrategist(options ?? {}, {
    clock: d.clock,
    log: d.log.child ? d.log.child({ component: 'recovery' }) : d.log,
    store: d.store,
    actions: {
      state: (id) => find(id)?.state,
      critical: (id) => find(id)?.critical ?? false,
      halt: async (id, reason) => void (await d.host.halt(id, reason, 'recovery')),
      canNotify: () => d.host.canNotify(),
      breakerState: (name) => d.host.breakerState?.(name),
    },
  });
  await s.load();
  s.start();
  return s;
}
