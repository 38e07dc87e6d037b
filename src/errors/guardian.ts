/** Catalogue section: refusals of degradation mode (src/resilience/degradation.ts). */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Degradation-mode refusals. */
export const GuardianErrors = {
  Degraded: defineError({
    code: 'ANDON_DEGRADED',
    message: 'Service degraded: resource pressure; retry later or on another instance',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the node runs in degradation mode (resource pressure): a new session (`initialize`), a new 2026 `subscriptions/listen` stream, or a `tools/call` beyond `guardian.maxToolCallsWhileDegraded` is refused; `data.reason` names the resource',
  }),
} as const;
