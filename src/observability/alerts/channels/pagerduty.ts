/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/):
 * `trigger` events carry a `dedup_key` per incident, so a repeated alert updates the open
 * incident instead of paging again, and `resolve` with the same key closes it on recovery.
 */
import type { Alert, AlertChannel, Severity } from '../types.js';
import { post } from '../http.js';
import { cut, headline } from './format.js';

/** The public Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Options of {@link PagerDutyChannel}. */
export interface PagerDutyOptions {
  name?: string;
  /** Integration (routing) key, 32 characters (from the environment: `routingKeyEnv`, default `PAGERDUTY_ROUTING_KEY`). */
  routingKey: string;
  /** Events endpoint. Default {@link PAGERDUTY_EVENTS_URL}. */
  url?: string;
  /**
   * Severities that trigger an incident; others are not sent (and count as delivered, so they do
   * not fall back). Default `['critical']`: PagerDuty pages people.
   */
  triggerOn?: Severity[];
}

const PD_SEVERITY: Record<Severity, string> = { critical: 'critical', warning: 'warning', info: 'info' };

/** Builds the Events API v2 body (exported for tests). */
export function pagerDutyEvent(a: Alert, routingKey: string): Record<string, unknown> {
  // dedup_key is limited to 255 characters.
  const dedup_key = cut(a.incident, 255);
  if (a.action === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key };
  const payload: Record<string, unknown> = {
    summary: cut(headline(a, false), 1024),
    source: a.source,
    severity: PD_SEVERITY[a.severity],
    timestamp: a.time,
    custom_details: { ...a.context, alert_id: a.id, test: a.test },
  };
  if (a.component) payload.component = a.component;
  payload.class = a.test ? 'test' : 'andon-mcp';
  return { routing_key: routingKey, event_action: 'trigger', dedup_key, payload, client: 'andon-mcp' };
}

/** Sends trigger and resolve events to PagerDuty. */
export class PagerDutyChannel implements AlertChannel {
  readonly type = 'pagerduty';
  readonly name: string;
  private readonly url: string;
  private readonly triggerOn: Set<Severity>;

  constructor(private readonly options: PagerDutyOptions) {
    this.name = options.name ?? 'pagerduty';
    this.url = options.url ?? PAGERDUTY_EVENTS_URL;
    this.triggerOn = new Set(options.triggerOn ?? ['critical']);
  }

  async send(alert: Alert, signal: AbortSignal): Promise<void> {
    if (alert.action === 'trigger' && !this.triggerOn.has(alert.severity) && !alert.test) return;
    await post('PagerDuty', this.url, JSON.stringify(pagerDutyEvent(alert, this.options.routingKey)), { 'content-type': 'application/json' }, signal);
  }
}
