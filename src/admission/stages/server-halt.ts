/**
 * Built-in stage of the `halt` phase, installed by the runtime: while the server component
 * (`server:<name>`) is halted, every request is refused with ANDON_HALTED (503 + Retry-After).
 * The runtime's component tree owns the state; the stage reads it through one function.
 */
import { AndonError, Errors } from '../../errors/catalogue.js';
import type { Stage } from '../pipeline.js';

/** The `server-halt` stage for server `name`; `halted()` answers the halt reason or null. */
export function serverHaltStage(name: string, halted: () => string | null, retryAfterMs = 5000): Stage {
  const component = `server:${name}`;
  return {
    name: 'server-halt',
    phase: 'halt',
    admit() {
      const reason = halted();
      if (reason === null) return undefined;
      return new AndonError(Errors.ComponentHalted, `Service Unavailable: server ${name} halted (${reason})`, { retryAfterMs, reason, component });
    },
  };
}
