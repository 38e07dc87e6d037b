/**
 * "Rate limiting active" (warning): raised when requests were refused by a rate limit in each of
 * `rateLimits.sustainedAlertSec` consecutive seconds (RateLimits publishes that on
 * `rateLimitState`), resolved as one incident when a whole second passes without a refusal.
 * Runbook: docs/runbooks/RATE_LIMITED.md.
 */
import { events, on, type RateLimitStateEvent, type Subscription } from '../../events/index.js';
import type { AlertManager } from './manager.js';

/** The incident id of sustained rate limiting (one per node). */
export const RATE_LIMITED_INCIDENT = 'rate-limits:sustained';

/** The subscription that turns sustained throttling into an alert and its end into a resolution. */
export function rateLimitAlerts(alerts: AlertManager): Subscription {
  let active = false;
  return on(events.rateLimitState, (e: RateLimitStateEvent) => {
    if (e.sustained === active) return;
    active = e.sustained;
    const context = { refusals: e.refusals, factor: e.factor, sustainedSec: e.sustainedSec, runbook: 'docs/runbooks/RATE_LIMITED.md' };
    if (active) alerts.alert('warning', 'Rate limiting active', context, { component: 'rate-limits', incident: RATE_LIMITED_INCIDENT });
    else alerts.resolve(RATE_LIMITED_INCIDENT, { title: 'Rate limiting no longer active', context });
  });
}
