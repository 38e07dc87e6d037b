/**
 * Rate-limit metrics, fed by the `rateLimited` and `rateLimitState` channels:
 * `andon_rate_limited_total{limit}` (limit = client | tool | global: bounded, never the client
 * identity or the tool name) and `andon_rate_limit_factor` (1 normally, 0.5 under degradation).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { events, on, type RateLimitedEvent, type RateLimitStateEvent, type Subscription } from '../events/index.js';

/** Registers the rate-limit metrics on `registry`; returns the subscriptions that feed them. */
export function rateLimitMetrics(registry: Registry, prefix: string): Subscription[] {
  const registers = [registry];
  const refused = new Counter({ name: `${prefix}rate_limited_total`, help: 'Requests refused by a rate limit, by limit kind (client, tool, global).', labelNames: ['limit'], registers });
  for (const limit of ['client', 'tool', 'global']) refused.inc({ limit }, 0);
  const factor = new Gauge({ name: `${prefix}rate_limit_factor`, help: 'Multiplier applied to every rate limit (1 normally; below 1 while degraded).', registers });
  factor.set(1);
  return [on(events.rateLimited, (e: RateLimitedEvent) => refused.inc({ limit: e.limit })), on(events.rateLimitState, (e: RateLimitStateEvent) => factor.set(e.factor))];
}
