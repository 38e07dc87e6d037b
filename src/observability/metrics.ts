/**
 * Prometheus metrics (prom-client), fed only by subscribing to diagnostics channels: the server,
 * the runtime, the health monitor and the alert manager publish; this module counts. Every name
 * is prefixed `andon_`; every label is bounded (methods from a fixed list, tool names capped,
 * never a session id, URI or argument). Request series are aggregated in plain numbers (see
 * request-stats.ts) so that a request costs a Map lookup and a few additions.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { events, type AlertDeliveryEvent, type ComponentEvent, type DrainEvent, type HaltStateEvent, type HealthEvent, type ReadinessEvent, type RequestEvent, type RestartEvent, type SessionEvent, type StoreEvent, type Subscription } from '../events/index.js';
import { requestStartChannel } from './tracing.js';
import { RequestStats } from './request-stats.js';
import { recoveryMetrics } from './recovery-metrics.js';
import { LimitMetrics } from './limit-metrics.js';
import { breakerMetrics } from './breaker-metrics.js';
import { flagMetrics } from './flag-metrics.js';
import { rateLimitMetrics } from './rate-limit-metrics.js';
import { guardianMetrics } from './guardian-metrics.js';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'andon_';

/** Default request latency buckets, seconds: 0.5 ms to 30 s. */
export const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** MCP methods of both eras; anything else is counted as `_other` (clients choose method names). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
]);

/** Drain phases, in order (from the runtime's DrainEvent). */
const DRAIN_PHASES: DrainEvent['phase'][] = ['running', 'draining', 'halting', 'stopped'];

/** Options of {@link AndonMetrics}. */
export interface MetricsOptions {
  /** Registry to register on. Default: a new one (never prom-client's global registry). */
  registry?: Registry;
  /** Collect Node defaults (event-loop lag, heap, GC, CPU, handles) as `andon_nodejs_*` / `andon_process_*`. Default true. */
  defaultMetrics?: boolean;
  /** Request latency buckets in seconds. Default {@link DEFAULT_BUCKETS}. */
  buckets?: number[];
  /** Most distinct tool names and component ids kept as label values; the rest become `_other`. Default 200. */
  maxLabelValues?: number;
  /** Whether a component state counts as halted. Default: states starting with `halted` (halted_manual, halted_fatal). */
  isHalted?: (state: string) => boolean;
  /**
   * Reads the number of requests in flight at scrape time (e.g. `() => server.inflightRequests().length`).
   * Default: counted from the request start and completion events (which makes the server publish
   * the start event for every request, a little more work per request).
   */
  inflight?: () => number;
  /** Reads readiness at scrape time (e.g. `() => health.readiness().ready`). Default: from `andon:readiness` events. */
  ready?: () => boolean;
}

/** Admits label values up to a cap; past it everything is `_other`, so a bug cannot explode cardinality. */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  has(v: string): boolean {
    return this.seen.has(v);
  }
  admit(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return '_other';
    this.seen.add(v);
    return v;
  }
}

/** The runtime's metrics. `start()` subscribes; `metrics()` renders the exposition text. */
export class AndonMetrics {
  /** The registry holding every metric (serve it with `registry.metrics()`). */
  readonly registry: Registry;
  private readonly requestStats: RequestStats;
  private readonly limitMetrics: LimitMetrics;
  private readonly sessions: Gauge<string>;
  private readonly sessionsOpened: Counter<string>;
  private readonly componentHalted: Gauge<string>;
  private readonly componentTransitions: Counter<string>;
  private readonly restarts: Counter<string>;
  private readonly intensityExceeded: Counter<string>;
  private readonly drainPhase: Gauge<string>;
  private readonly drainPhaseDuration: Histogram<string>;
  private readonly drainRequests: Counter<string>;
  private readonly drainInflight: Gauge<string>;
  private readonly storeDuration: Histogram<string>;
  private readonly storeOps: Counter<string>;
  private readonly alerts: Counter<string>;
  private readonly health: Gauge<string>;
  private readonly ready: Gauge<string>;
  private readonly breakers: ReturnType<typeof breakerMetrics>;
  private readonly tools: BoundedLabel;
  private readonly components: BoundedLabel;
  private readonly isHalted: (state: string) => boolean;
  private inflight = 0;
  private readonly inflightFn: (() => number) | undefined;
  private drain: DrainEvent['phase'] = 'running';
  private started = false;
  private readonly recovery: ReturnType<typeof recoveryMetrics>;
  /** Subscriptions of the metrics kept in their own files (rate limits, …). */
  private readonly extraSubs: Subscription[] = [];

  /** See {@link MetricsOptions} for defaults. */
  constructor(options: MetricsOptions = {}) {
    const registers = [(this.registry = options.registry ?? new Registry())];
    const p = METRIC_PREFIX;
    const max = options.maxLabelValues ?? 200;
    this.tools = new BoundedLabel(max);
    this.components = new BoundedLabel(max);
    this.isHalted = options.isHalted ?? ((st) => st.startsWith('halted'));
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: p });
      // prom-client's defaults include gauges named `nodejs_active_{handles,requests,resources}_total`,
      // which `promtool check metrics` rejects (only counters may end in `_total`). The same counts,
      // by type, are in `nodejs_active_handles` etc.: `sum()` of those is the total.
      for (const m of this.registry.getMetricsAsArray()) {
        if (m.name.endsWith('_total') && (m as { type?: unknown }).type !== 'counter') this.registry.removeSingleMetric(m.name);
      }
    }

    this.requestStats = new RequestStats(this.registry, p, options.buckets ?? DEFAULT_BUCKETS);
    this.recovery = recoveryMetrics(this.registry, p);
    this.limitMetrics = new LimitMetrics(this.registry, p);
    this.breakers = breakerMetrics(this.registry, p);
    this.extraSubs.push(...rateLimitMetrics(this.registry, p));
    this.extraSubs.push(...guardianMetrics(this.registry, p));
    this.extraSubs.push(...flagMetrics(this.registry, p));
    // collect() runs with `this` bound to the gauge, so read our state through closures.
    this.inflightFn = options.inflight;
    const inflight = options.inflight ?? (() => this.inflight);
    const haltedGauge = () => this.componentHalted;
    new Gauge({
      name: `${p}requests_in_flight`,
      help: 'MCP requests being served now.',
      registers,
      collect() {
        this.set(Math.max(0, inflight()));
      },
    });
    this.sessions = new Gauge({ name: `${p}sessions_active`, help: 'Open sessions and long-lived connections, by transport and era.', labelNames: ['transport', 'era'], registers });
    this.sessionsOpened = new Counter({ name: `${p}sessions_opened_total`, help: 'Sessions and long-lived connections opened, by transport and era.', labelNames: ['transport', 'era'], registers });
    this.componentHalted = new Gauge({ name: `${p}component_halted`, help: '1 while a supervised component is halted, else 0.', labelNames: ['component', 'kind'], registers });
    new Gauge({
      name: `${p}components_halted`,
      help: 'Number of supervised components halted now.',
      registers,
      async collect() {
        const m = await haltedGauge().get();
        this.set(m.values.reduce((n, v) => n + (v.value > 0 ? 1 : 0), 0));
      },
    });
    this.componentTransitions = new Counter({ name: `${p}component_transitions_total`, help: 'Component state changes, by kind and new state.', labelNames: ['kind', 'to'], registers });
    this.restarts = new Counter({ name: `${p}restarts_total`, help: 'Component restarts by the supervisor.', labelNames: ['component'], registers });
    this.intensityExceeded = new Counter({ name: `${p}restart_intensity_exceeded_total`, help: 'Times a component exceeded its restart intensity and was halted instead of restarted.', labelNames: ['component'], registers });
    this.drainPhase = new Gauge({ name: `${p}drain_phase`, help: '1 for the current drain phase (running, draining, halting, stopped), 0 for the others.', labelNames: ['phase'], registers });
    for (const ph of DRAIN_PHASES) this.drainPhase.set({ phase: ph }, ph === 'running' ? 1 : 0);
    this.drainPhaseDuration = new Histogram({ name: `${p}drain_phase_duration_seconds`, help: 'Time spent in a drain phase before moving on, seconds.', labelNames: ['phase'], buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600], registers });
    this.drainRequests = new Counter({ name: `${p}drain_requests_total`, help: 'Requests in flight at drain: completed in the grace period (drained) or aborted when it ran out (forced).', labelNames: ['result'], registers });
    this.drainInflight = new Gauge({ name: `${p}drain_inflight`, help: 'Requests in flight at the last drain phase change.', registers });
    this.storeDuration = new Histogram({ name: `${p}store_operation_duration_seconds`, help: 'State store operation latency, seconds, by operation (read, write, delete).', labelNames: ['op'], buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers });
    this.storeOps = new Counter({ name: `${p}store_operations_total`, help: 'State store operations, by operation and result (ok, error).', labelNames: ['op', 'result'], registers });
    this.alerts = new Counter({ name: `${p}alerts_total`, help: 'Alert deliveries by channel, severity and outcome (sent, failed, suppressed, dropped).', labelNames: ['channel', 'severity', 'outcome'], registers });
    this.health = new Gauge({ name: `${p}health_status`, help: 'Component health check: 1 healthy, 0 unhealthy, -1 not yet checked.', labelNames: ['component'], registers });
    const readyFn = options.ready;
    this.ready = new Gauge({
      name: `${p}ready`,
      help: '1 when /health/ready answers 200, else 0.',
      registers,
      collect() {
        if (readyFn) this.set(readyFn() ? 1 : 0);
      },
    });
  }

  private readonly onStart = (): void => {
    this.inflight++;
  };

  private readonly onRequest = (msg: unknown): void => {
    const e = msg as RequestEvent;
    this.inflight--;
    this.requestStats.record(e.method, e.name, e.era, e.outcome, e.durationMs / 1000, () => this.labelsOf(e));
  };

  private labelsOf(e: RequestEvent): { method: string; tool: string; era: string; outcome: string } {
    const method = KNOWN_METHODS.has(e.method) ? e.method : '_other';
    let tool = '';
    if (method === 'tools/call' && e.name !== undefined) {
      // A name is admitted only once a call to it did not fail at protocol level (unknown tool
      // names fail with -32602), so clients cannot mint label values.
      tool = e.outcome === 'error' && !this.tools.has(e.name) ? '_unknown' : this.tools.admit(e.name);
    }
    return { method, tool, era: e.era, outcome: e.outcome };
  }

  private readonly onSession = (msg: unknown): void => {
    const e = msg as SessionEvent;
    if (e.action === 'open') {
      this.sessions.inc({ transport: e.transport, era: e.era });
      this.sessionsOpened.inc({ transport: e.transport, era: e.era });
    } else this.sessions.dec({ transport: e.transport, era: e.era });
  };

  private readonly onComponent = (msg: unknown): void => {
    const e = msg as ComponentEvent;
    const id = this.components.admit(e.id);
    this.componentHalted.set({ component: id, kind: e.kind }, this.isHalted(e.to) ? 1 : 0);
    this.componentTransitions.inc({ kind: e.kind, to: e.to });
  };

  /** Halted component ids (label values) as of the last halt-state snapshot, to zero those resumed. */
  private haltedIds = new Map<string, string>();

  /** The full halt set (also published once at start, so halts restored from a previous run show). */
  private readonly onHaltState = (msg: unknown): void => {
    const e = msg as HaltStateEvent;
    const next = new Map<string, string>();
    for (const h of e.halted) {
      const id = this.components.admit(h.id);
      next.set(id, h.kind);
      this.componentHalted.set({ component: id, kind: h.kind }, 1);
    }
    for (const [id, kind] of this.haltedIds) if (!next.has(id)) this.componentHalted.set({ component: id, kind }, 0);
    this.haltedIds = next;
  };

  private readonly onRestart = (msg: unknown): void => {
    const e = msg as RestartEvent;
    const id = this.components.admit(e.id);
    if (e.intensityExceeded) this.intensityExceeded.inc({ component: id });
    else this.restarts.inc({ component: id });
  };

  private readonly onDrain = (msg: unknown): void => {
    const e = msg as DrainEvent;
    // durationMs is the time spent in the phase being left, which we know as the last one seen.
    if (e.phase !== this.drain) this.drainPhaseDuration.observe({ phase: this.drain }, e.durationMs / 1000);
    this.drain = e.phase;
    for (const ph of DRAIN_PHASES) this.drainPhase.set({ phase: ph }, ph === e.phase ? 1 : 0);
    this.drainInflight.set(e.inflight);
    if (e.drained) this.drainRequests.inc({ result: 'drained' }, e.drained);
    if (e.forced) this.drainRequests.inc({ result: 'forced' }, e.forced);
  };

  private readonly onStore = (msg: unknown): void => {
    const e = msg as StoreEvent;
    this.storeDuration.observe({ op: e.op }, e.durationMs / 1000);
    this.storeOps.inc({ op: e.op, result: e.ok ? 'ok' : 'error' });
  };

  private readonly onAlert = (msg: unknown): void => {
    const e = msg as AlertDeliveryEvent;
    this.alerts.inc({ channel: e.channel, severity: e.severity, outcome: e.outcome });
  };

  private readonly onHealth = (msg: unknown): void => {
    const e = msg as HealthEvent;
    this.health.set({ component: this.components.admit(e.component) }, e.to === 'healthy' ? 1 : e.to === 'unhealthy' ? 0 : -1);
  };

  private readonly onReadiness = (msg: unknown): void => {
    this.ready.set((msg as ReadinessEvent).ready ? 1 : 0);
  };

  private subs(): Subscription[] {
    return [
      [events.request, this.onRequest],
      [events.session, this.onSession],
      [events.component, this.onComponent],
      [events.haltState, this.onHaltState],
      [events.restart, this.onRestart],
      [events.drain, this.onDrain],
      [events.store, this.onStore],
      [events.alert, this.onAlert],
      [events.health, this.onHealth],
      [events.readiness, this.onReadiness],
      ...this.recovery.subs(),
      this.breakers,
      ...this.extraSubs,
    ];
  }

  /** Subscribes to every channel (the request start channel only when `inflight` is not given). Idempotent. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    for (const [ch, fn] of this.subs()) ch.subscribe(fn);
    this.limitMetrics.start();
    if (!this.inflightFn) requestStartChannel.subscribe(this.onStart);
    return this;
  }

  /** Unsubscribes (the metrics keep their values). */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const [ch, fn] of this.subs()) ch.unsubscribe(fn);
    this.limitMetrics.stop();
    if (!this.inflightFn) requestStartChannel.unsubscribe(this.onStart);
  }

  /** Sets the readiness gauge directly (HealthMonitor publishes it; this is for embedders without one). */
  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content type of {@link metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
