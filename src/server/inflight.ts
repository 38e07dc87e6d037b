/**
 * Requests in flight on one server: what drain waits for (`whenIdle`), aborts (`abortInflight`)
 * and what the runtime counts per component.
 */
import type { IncomingRequest } from './incoming.js';
import { systemClock, type Clock } from '../util/clock.js';

/** The in-flight set of one server. */
export class Inflight {
  readonly set = new Set<IncomingRequest>();
  private idleWaiters: Array<() => void> = [];

  add(inc: IncomingRequest): void {
    this.set.add(inc);
  }

  delete(inc: IncomingRequest): void {
    this.set.delete(inc);
    if (this.set.size === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves true when no request is in flight, or false after `timeoutMs` on `clock` (default the system clock). */
  whenIdle(timeoutMs: number, clock: Clock = systemClock): Promise<boolean> {
    if (this.set.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = clock.setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((f) => f !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clock.clearTimeout(t);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /**
   * Aborts every in-flight request: the client is sent notifications/cancelled on the request's
   * channel, then the handler's signal is aborted. Returns how many were aborted.
   */
  abortAll(reason: string): number {
    let n = 0;
    for (const inc of this.set) {
      if (inc.signal.aborted) continue;
      n++;
      try {
        inc.exchange.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: inc.request.id, reason } });
      } catch {
        // The channel may already be gone; aborting the handler is what matters.
      }
      inc.abort?.(new Error(reason));
    }
    return n;
  }
}
