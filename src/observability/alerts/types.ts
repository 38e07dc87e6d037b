/** Alert types shared by the manager, its channels and the admin API. */
import { AndonError } from '../../errors/catalogue.js';
import { RuntimeErrors } from '../../errors/runtime.js';

/** Alert severities, most urgent first. Routing is configured per severity. */
export type Severity = 'critical' | 'warning' | 'info';

/** All severities, most urgent first. */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** One alert as handed to a channel. */
export interface Alert {
  /** Unique id of this alert (also the history id). */
  id: string;
  /** `trigger` opens (or repeats) an incident; `resolve` closes it. */
  action: 'trigger' | 'resolve';
  severity: Severity;
  title: string;
  /** Free-form details; shown by every channel, hashed for deduplication. */
  context: Record<string, unknown>;
  /** The component concerned, when there is one. */
  component: string | undefined;
  /**
   * Incident key: alerts with the same key are one incident (PagerDuty `dedup_key`); `resolve`
   * closes it. Defaults to a hash of severity, title and context.
   */
  incident: string;
  /** ISO time the alert was raised. */
  time: string;
  /** Host that raised it. */
  source: string;
  /** True for `andon alerts test` and POST /admin/alerts/test. */
  test: boolean;
}

/** A delivery channel (Slack, PagerDuty, email, webhook, SMS). */
export interface AlertChannel {
  /** Name from configuration (what routes refer to). */
  readonly name: string;
  /** Integration type: slack, pagerduty, email, webhook, twilio. */
  readonly type: string;
  /**
   * Delivers one alert. Rejects with a {@link DeliveryError} (`retryable` false for errors that
   * a retry cannot fix, such as a 400 or a bad credential). Must honour `signal` (timeout).
   */
  send(alert: Alert, signal: AbortSignal): Promise<void>;
  /** Releases connections (SMTP pool). */
  close?(): void;
}

/**
 * A failed delivery: `ANDON_ALERT_DELIVERY_FAILED` when trying again may help (network errors,
 * 5xx, 429), `ANDON_ALERT_DELIVERY_REJECTED` when it cannot; `retryable` follows the entry.
 */
export class DeliveryError extends AndonError {
  constructor(
    message: string,
    /** Whether trying again may help (network errors, 5xx, 429). */
    retryable: boolean,
    /** Server-requested delay before the next attempt (Retry-After), ms. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(retryable ? RuntimeErrors.DeliveryFailed : RuntimeErrors.DeliveryRejected, message, retryAfterMs === undefined ? {} : { retryAfterMs }, options);
    this.name = 'DeliveryError';
  }
}

/** One channel's part in delivering an alert, as kept in the history. */
export interface DeliveryRecord {
  channel: string;
  ok: boolean;
  attempts: number;
  error?: string;
  /** Set when this channel was tried because `fallbackOf` failed. */
  fallbackOf?: string;
  durationMs: number;
}

/** A history entry (what GET /admin/alerts and `andon alerts` show). */
export interface AlertRecord {
  id: string;
  action: 'trigger' | 'resolve';
  severity: Severity;
  title: string;
  component: string | undefined;
  incident: string;
  context: Record<string, unknown>;
  time: string;
  test: boolean;
  /** queued → sending → sent | partial (some routes failed) | failed | dropped (queue full). */
  status: 'queued' | 'sending' | 'sent' | 'partial' | 'failed' | 'dropped';
  /** Identical alerts suppressed within the dedup window after this one. */
  suppressed: number;
  deliveries: DeliveryRecord[];
  /** ISO time delivery finished. */
  finishedAt?: string;
}
