/**
 * Catalogue section: circuit breakers (src/resilience/breaker.ts). An open breaker answers at
 * once, without calling the tool or the downstream it guards.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Circuit breaker refusals. */
export const BreakerErrors = {
  Open: defineError({
    code: 'ANDON_BREAKER_OPEN',
    message: 'Circuit breaker is open',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the circuit breaker of a tool (`tool:<name>`) or of a downstream a handler calls through `ctx.downstream` (`downstream:<name>`) is open or its half-open probes are all taken; `data.breaker` names it, `data.retryAfterMs` says when it lets a probe through',
  }),
} as const;
