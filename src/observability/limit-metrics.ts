/**
 * Metrics of the connection and session limits (`src/transports/http-limits.ts`), from the
 * `andon:connection` and `andon:limit` events: `andon_connections_open`,
 * `andon_connections_refused_total{reason}` and `andon_limit_refused_total{limit}`. Labels are
 * bounded by the event types (a handful of values each).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { events, type ConnectionEvent, type LimitEvent } from '../events/index.js';

/** The limit metrics on `registry`; `start()` subscribes, `stop()` unsubscribes (values are kept). */
export class LimitMetrics {
  private readonly open: Gauge<string>;
  private readonly refusedConnections: Counter<string>;
  private readonly refusedLimits: Counter<string>;
  private started = false;

  constructor(registry: Registry, prefix: string) {
    const registers = [registry];
    this.open = new Gauge({ name: `${prefix}connections_open`, help: 'Open TCP connections to the MCP endpoint.', registers });
    this.refusedConnections = new Counter({ name: `${prefix}connections_refused_total`, help: 'TCP connections refused at once (503), by reason: max, per_client, refuse_new.', labelNames: ['reason'], registers });
    this.refusedLimits = new Counter({
      name: `${prefix}limit_refused_total`,
      help: 'Requests refused by a session limit, by limit: sessions, sessions_per_client, refuse_new, streams, subscriptions, uri_length, target_length, body_budget.',
      labelNames: ['limit'],
      registers,
    });
  }

  private readonly onConnection = (msg: unknown): void => {
    const e = msg as ConnectionEvent;
    if (e.action === 'open') this.open.inc();
    else if (e.action === 'close') this.open.dec();
    else this.refusedConnections.inc({ reason: e.reason ?? 'max' });
  };

  private readonly onLimit = (msg: unknown): void => {
    this.refusedLimits.inc({ limit: (msg as LimitEvent).limit });
  };

  start(): void {
    if (this.started) return;
    this.started = true;
    events.connection.subscribe(this.onConnection);
    events.limit.subscribe(this.onLimit);
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    events.connection.unsubscribe(this.onConnection);
    events.limit.unsubscribe(this.onLimit);
  }
}
