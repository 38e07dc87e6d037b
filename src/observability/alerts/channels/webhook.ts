/**
 * Generic webhook: a JSON body signed with HMAC-SHA256 over `<timestamp>.<body>`, sent as
 * `X-Andon-Signature: sha256=<hex>` with `X-Andon-Timestamp: <unix seconds>`. Signing the
 * timestamp with the body lets the receiver reject replays (see {@link verifyWebhookSignature}).
 */
import { systemClock, type Clock } from '../../../util/clock.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert, AlertChannel } from '../types.js';
import { post } from '../http.js';

/** Options of {@link WebhookChannel}. */
export interface WebhookOptions {
  name?: string;
  url: string;
  /** HMAC key (from the environment: `secretEnv`, default `ANDON_WEBHOOK_SECRET`). */
  secret: string;
  /** Extra headers (no secrets: the config file may not hold any). */
  headers?: Record<string, string>;
  /** Clock for the signature timestamp. Default the system clock. */
  clock?: Clock;
}

/** Signature header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Verifies a received webhook: the signature matches and the timestamp is within `toleranceSec`
 * of now (default 300). For receivers; constant-time comparison.
 */
export function verifyWebhookSignature(secret: string, timestamp: string | undefined, body: string, signature: string | undefined, toleranceSec = 300, nowMs = Date.now()): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSec) return false;
  const want = Buffer.from(signWebhook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The JSON body (exported for tests and receivers' documentation). */
export function webhookBody(a: Alert): Record<string, unknown> {
  return { id: a.id, action: a.action, severity: a.severity, title: a.title, component: a.component ?? null, incident: a.incident, context: a.context, time: a.time, source: a.source, test: a.test, sender: 'andon-mcp' };
}

/** POSTs signed JSON alerts to a URL. */
export class WebhookChannel implements AlertChannel {
  readonly type = 'webhook';
  readonly name: string;

  constructor(private readonly options: WebhookOptions) {
    this.name = options.name ?? 'webhook';
  }

  async send(alert: Alert, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(webhookBody(alert));
    const ts = String(Math.floor((this.options.clock ?? systemClock).now() / 1000));
    await post(
      `webhook ${this.name}`,
      this.options.url,
      body,
      { ...this.options.headers, 'content-type': 'application/json', 'x-andon-timestamp': ts, 'x-andon-signature': signWebhook(this.options.secret, ts, body), 'x-andon-event-id': alert.id },
      signal,
    );
  }
}
