/**
 * Compatibility path: observability's channels (health transitions, readiness, alert deliveries)
 * now live in the one registry, src/events/index.ts. `obsChannels` keeps its old shape.
 */
import { events } from '../events/index.js';

export type { HealthStatus, HealthEvent, ReadinessEvent, AlertDeliveryEvent } from '../events/index.js';

/** Observability's channels (a subset of `events` from src/events). */
export const obsChannels = {
  health: events.health,
  readiness: events.readiness,
  alert: events.alert,
};
