/**
 * Compatibility path: the runtime's channels now live in the one registry, src/events/index.ts.
 * `channels` keeps its old shape (the same channel objects), so existing publishers and
 * subscribers work unchanged.
 */
import { events } from '../events/index.js';

export type { RequestEvent, RequestStartEvent, SessionEvent, ComponentEvent, HaltStateEvent, HaltedComponent, RestartEvent, DrainEvent, DegradedEvent, StoreEvent, QuarantineEvent } from '../events/index.js';

/** The runtime's channels (a subset of `events` from src/events). */
export const channels = {
  request: events.request,
  requestStart: events.requestStart,
  session: events.session,
  component: events.component,
  haltState: events.haltState,
  restart: events.restart,
  drain: events.drain,
  degraded: events.degraded,
  store: events.store,
  quarantine: events.quarantine,
};
