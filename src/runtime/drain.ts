/**
 * The three-phase drain: DRAINING (refuse new work, let in-flight requests finish within the
 * grace), HALTING (abort what is left with notifications/cancelled, close streams and listeners,
 * save state, within the halting budget), STOPPED. Timers and phase timestamps use the injected clock.
 */
import type { McpServer } from '../server/server.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { channels, type DrainEvent } from './events.js';
import type { DrainResult } from './exit.js';

/** Drain phase. */
export type DrainPhase = DrainEvent['phase'];

/** What the drain drives. */
export interface DrainSteps {
  server: McpServer;
  clock: Clock;
  log: Logger;
  graceMs(): number;
  haltMs(): number;
  /** Stop accepting new requests (503/-32001 with `reason`). */
  stopAccepting(reason: string): void;
  /** The phase changed (health readiness). */
  onPhase?(phase: DrainPhase): void;
  /** HALTING: save state, close transports, stop the tree, close the store. */
  halting(): Promise<void>;
  /** After STOPPED: observability, ops listener, logger flush. */
  finish(): Promise<void>;
}

/** Resolves true when `p` settled within `ms` on `clock`, false when the time ran out. */
function within(p: Promise<unknown>, clock: Clock, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const t = clock.setTimeout(() => {
      if (done) return;
      done = true;
      resolve(false);
    }, ms);
    t.unref?.();
    const settle = () => {
      if (!done) {
        done = true;
        clock.clearTimeout(t);
        resolve(true);
      }
    };
    p.then(settle, settle);
  });
}

/** The node's drain state machine. */
export class Drainer {
  private current: DrainPhase = 'running';
  private since: number;
  private promise: Promise<DrainResult> | undefined;

  constructor(private readonly steps: DrainSteps) {
    this.since = steps.clock.now();
  }

  /** Current phase. */
  get phase(): DrainPhase {
    return this.current;
  }

  /** Starts the drain (idempotent: a second call returns the same drain). */
  drain(reason = 'shutdown'): Promise<DrainResult> {
    this.promise ??= this.run(reason);
    return this.promise;
  }

  private setPhase(phase: DrainPhase, extra: Partial<DrainEvent> = {}): void {
    const now = this.steps.clock.now();
    const durationMs = now - this.since;
    this.current = phase;
    this.since = now;
    this.steps.onPhase?.(phase);
    channels.drain.publish({ phase, durationMs, inflight: this.steps.server.inflightRequests().length, ...extra });
    this.steps.log.info({ phase, previousPhaseMs: durationMs, ...extra }, `drain: ${phase}`);
  }

  private async run(reason: string): Promise<DrainResult> {
    const { server, clock, log } = this.steps;
    const started = clock.now();
    const graceMs = this.steps.graceMs();
    const haltMs = this.steps.haltMs();
    const before = server.inflightRequests().length;
    this.steps.stopAccepting(`Service Unavailable: draining (${reason})`);
    this.setPhase('draining', { drained: 0, forced: 0 });
    // whenIdle times out on the server's clock, which the runtime sets to its own.
    const idle = await server.whenIdle(graceMs);
    const left = server.inflightRequests().length;
    const drained = Math.max(0, before - left);
    this.setPhase('halting', { drained, forced: left });
    let forced = 0;
    if (!idle) {
      forced = server.abortInflight(`server shutting down: drain grace of ${graceMs} ms ran out`);
      await server.whenIdle(Math.min(haltMs, 2000));
    }
    const halting = this.steps.halting().catch((err: unknown) => log.error({ err: String(err) }, 'halting phase failed; stopping anyway'));
    if (!(await within(halting, clock, haltMs))) log.error({ haltMs }, 'halting phase ran out of time; stopping anyway');
    this.setPhase('stopped', { drained, forced });
    // Observability goes last: the stopped phase is logged and alerts in flight get to finish.
    await this.steps.finish();
    return { graceExpired: !idle, drained, forced, durationMs: clock.now() - started };
  }
}
