/**
 * The resource guardian inside the runtime: the guardian samples, degradation mode is an
 * admission stage of the server, and the emergency stop at the hard limit is the runtime's:
 *
 * 1. persist `node` as `halted_fatal` with the reason (awaited: the restarted node must answer 503),
 * 2. save critical state (session buckets),
 * 3. give the "Emergency shutdown" alert (raised on `andon:guardian`) a bounded time to go out,
 * 4. close the listeners, and exit with {@link EXIT.emergencyStop} (75) so an init system restarts it.
 *
 * No drain: the node is out of memory or descriptors, and waiting for in-flight work could take
 * the process down with nothing saved. Every step is bounded in real time.
 */
import type { McpServer } from '../server/server.js';
import { ResourceGuardian, type GuardianThresholds } from '../resilience/guardian.js';
import { Degradation, type DegradationActuators } from '../resilience/degradation.js';
import { processSampler, type Sampler } from '../resilience/sampler.js';
import { sleep, systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { EXIT } from './exit.js';
import type { HaltRegistry } from './halt.js';

/** `RuntimeOptions.guardian`: thresholds default to the seeds (0.85 / 0.90 / 0.97, recover 0.80 × 3 samples). */
export interface RuntimeGuardianOptions extends Partial<GuardianThresholds> {
  /** Sample period, ms. Default 5000. */
  intervalMs?: number;
  /** Concurrent tool calls admitted while degraded. Default 16. */
  maxToolCallsWhileDegraded?: number;
  /** Stop the node at the hard limit. Default true; false keeps it degraded. */
  emergencyStop?: boolean;
  /** How long the emergency stop waits for its alert to be delivered, ms. Default 2000. */
  alertWaitMs?: number;
  /** Hooks of the connection and rate limits (filled at integration). */
  actuators?: DegradationActuators;
  /** What is measured. Default this process ({@link processSampler}). */
  sampler?: Sampler;
}

/** What the emergency stop acts on (the runtime). */
export interface GuardedNode {
  server: McpServer;
  halts: HaltRegistry;
  clock: Clock;
  log: Logger;
  flush(): Promise<void>;
  closeListeners(): Promise<void> | void;
  /** Resolves when alerts in flight are delivered (undefined without alerting). */
  alertsIdle(): Promise<void> | undefined;
  exit(code: number): void;
}

/** The guardian parts of a running node (`runtime.guardian`). */
export interface RuntimeGuardian {
  readonly guardian: ResourceGuardian;
  readonly degradation: Degradation;
  /** What GET /admin/guardian and `andon status` show. */
  status(): Record<string, unknown>;
  stop(): void;
}

/** Creates the guardian and degradation mode of `node` and starts sampling (the `degrade` stage is registered while degraded). */
export function startGuardian(node: GuardedNode, o: RuntimeGuardianOptions): RuntimeGuardian {
  const log = node.log.child ? node.log.child({ component: 'guardian' }) : node.log;
  const degradation = new Degradation({ server: node.server, maxToolCalls: o.maxToolCallsWhileDegraded, actuators: o.actuators, clock: node.clock });
  let stopping: Promise<void> | undefined;
  const guardian = new ResourceGuardian({
    ...o,
    sampler: o.sampler ?? processSampler(),
    degradation,
    clock: node.clock,
    logger: log,
    onHard: o.emergencyStop === false ? undefined : (reason) => void (stopping ??= emergencyStop(node, reason, o.alertWaitMs ?? 2000, log)),
  }).start();
  return {
    guardian,
    degradation,
    status: () => ({ enabled: true, ...guardian.status(), degradation: degradation.status() }),
    stop: () => guardian.stop(),
  };
}

/** Waits for `p` at most `ms` of real time (a stuck store or network must not hold the stop). */
async function bounded(what: string, p: Promise<unknown> | unknown, ms: number, log: Logger): Promise<void> {
  const wait = new AbortController();
  try {
    // Real time: this bounds real I/O, and a test clock standing still must not hold the process.
    const done = await Promise.race([Promise.resolve(p).then(() => true), sleep(systemClock, ms, wait.signal, true).then(() => false)]);
    if (!done) log.error({ step: what, ms }, 'emergency stop: step timed out, going on');
  } catch (err) {
    log.error({ step: what, err: (err as Error).message }, 'emergency stop: step failed, going on');
  } finally {
    wait.abort();
  }
}

/** The emergency stop (see the module comment). */
async function emergencyStop(node: GuardedNode, reason: string, alertWaitMs: number, log: Logger): Promise<void> {
  log.error({ reason }, 'EMERGENCY STOP: resource hard limit reached; halting the node (halted_fatal) and exiting without a drain');
  await bounded('persist node halt', node.halts.set('node', 'halted_fatal', `emergency stop: ${reason}`, 'guardian'), 5000, log);
  await bounded('save state', node.flush(), 2000, log);
  const idle = node.alertsIdle();
  if (idle) await bounded('deliver alert', idle, alertWaitMs, log);
  await bounded('close listeners', node.closeListeners(), 1000, log);
  const flushable = log as { flush?: (cb: () => void) => void };
  if (flushable.flush) await bounded('flush log', new Promise<void>((r) => flushable.flush!(() => r())), 500, log);
  node.exit(EXIT.emergencyStop);
}
