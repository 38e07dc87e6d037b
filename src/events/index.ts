/**
 * The one channel registry: every event the runtime publishes, with its payload type. A leaf
 * module: it imports nothing from the rest of src/, so anything (store, runtime, server,
 * transports, observability) can publish or subscribe without an upward import or a cycle.
 *
 * Channels are node:diagnostics_channel channels (undici's `lib/core/diagnostics.js` is the
 * model): publishing to a channel nobody listens to costs one branch, and hot-path publishers
 * check `hasSubscribers` before building a payload. Metrics, logs, health, alerts and the
 * dashboard subscribe from outside; publishers never know they exist.
 *
 * Channel names are part of the public contract (`andon:*`); payloads only grow fields.
 */
import { channel, type Channel } from 'node:diagnostics_channel';

/** Protocol era of a request or session (kept here so this module stays a leaf; equals protocol's `Era`). */
export type EventEra = '2025' | '2026';

// ───────────────────────────── request path ─────────────────────────────

/**
 * A request is about to be dispatched: the server's IncomingRequest itself (no copy). Published
 * with `runStores`, so a subscriber that binds an AsyncLocalStorage to this channel (observability
 * binds the request's trace scope) has it active for the whole request, the `request` event included.
 */
export interface RequestStartEvent {
  request: { id: string | number | null; method: string; params?: Record<string, unknown> | undefined };
  era: EventEra;
  session?: { id: string } | undefined;
  peer?: unknown;
  /** HTTP request headers, when the request came over HTTP. */
  headers?: Record<string, string | string[] | undefined> | undefined;
}

/** A request finished (published by McpServer.handleRequest when the channel has subscribers). */
export interface RequestEvent {
  method: string;
  /** Tool name, prompt name or resource URI, when the method has one (bounded by the registry). */
  name: string | undefined;
  era: EventEra;
  outcome: 'ok' | 'error' | 'tool_error' | 'input_required';
  durationMs: number;
  /** The JSON-RPC error code of an `error` outcome (e.g. -32603 internal error). */
  code?: number;
  /** The object published on `requestStart` for this request (correlates the two events). */
  incoming?: RequestStartEvent;
}

/** A session or connection opened or closed. */
export interface SessionEvent {
  action: 'open' | 'close';
  era: EventEra;
  transport: 'http' | 'stdio' | 'sse' | 'websocket' | 'tcp';
}

/**
 * A TCP connection to an MCP endpoint opened, closed, or was refused at once (connection limits,
 * `refuseNew`); `reason` says which limit refused it.
 */
export interface ConnectionEvent {
  action: 'open' | 'close' | 'refused';
  reason?: 'max' | 'per_client' | 'refuse_new';
}

/** A connection or session limit refused something other than a connection (`limit` names it). */
export interface LimitEvent {
  limit: 'sessions' | 'sessions_per_client' | 'refuse_new' | 'streams' | 'subscriptions' | 'uri_length' | 'target_length' | 'body_budget';
}

// ───────────────────────────── runtime ─────────────────────────────

/** A supervised component changed state (published by the halt registry on halt and resume). */
export interface ComponentEvent {
  id: string;
  kind: string;
  from: string;
  to: string;
  reason?: string;
  /**
   * True when the state was restored from the store at start rather than changed now (alerts
   * skip these: the halt was announced when it happened; a corrupt record is announced on
   * `quarantine`).
   */
  restored?: boolean;
}

/** One halted component in a {@link HaltStateEvent}. */
export interface HaltedComponent {
  id: string;
  kind: string;
  state: 'halted_manual' | 'halted_fatal';
  reason: string;
  /** Whether a halt of this component makes the node not ready. */
  critical: boolean;
}

/**
 * The full set of halted components, published whenever it may have changed and once the
 * component tree has started (so halts restored from a previous run reach readiness and the
 * halted-component gauges). Replaces the previous set: a component absent here is not halted.
 */
export interface HaltStateEvent {
  halted: HaltedComponent[];
}

/** A component was restarted by its supervisor (or restart was refused). */
export interface RestartEvent {
  id: string;
  restarts: number;
  /** True when the restart intensity was exceeded and the component was halted instead. */
  intensityExceeded: boolean;
  error?: string;
}

/**
 * A supervised component crashed and its supervisor is acting on it (published by the supervisor
 * before it restarts or halts the component; the recovery strategist keeps the history).
 */
export interface ComponentFailureEvent {
  id: string;
  kind: string;
  error: string;
  /** Epoch ms, from the runtime's clock. */
  time: number;
}

/** Failure classes of the recovery strategist. */
export type RecoveryClass = 'transient' | 'persistent' | 'resource_exhaustion' | 'cascade' | 'unknown';
/** Steps of a recovery plan. */
export type RecoveryStep = 'attempt' | 'degrade' | 'notify' | 'manual';

/**
 * One decision of the recovery strategist (src/runtime/recovery/): `plan` when a failure was
 * classified and a plan chosen, `step` for each step executed with its result, `exhausted` when
 * every step failed and the component stays halted for an operator.
 */
export interface RecoveryEvent {
  action: 'plan' | 'step' | 'exhausted';
  seq: number;
  time: number;
  component: string;
  class: RecoveryClass;
  plan: RecoveryStep[];
  step?: RecoveryStep;
  result?: 'succeeded' | 'failed';
  detail: string;
  /** For a cascade: the component whose failure came first. */
  rootCause?: string;
  evidence: {
    error: string;
    group: string;
    failuresInWindow: number;
    sameGroupInWindow: number;
    perMinute: number;
    trend: 'increasing' | 'decreasing' | 'stable';
    dependency?: string;
    rootError?: string;
    pressure?: boolean;
  };
}

/** The drain moved to a new phase. */
export interface DrainEvent {
  phase: 'running' | 'draining' | 'halting' | 'stopped';
  /** Time spent in the previous phase, ms. */
  durationMs: number;
  inflight: number;
  /** Requests that completed during the drain, and those aborted when the grace ran out. */
  drained?: number;
  forced?: number;
}

/** The node runs degraded (a reason) or no longer does (null); readiness fails while degraded. */
/** Published when a resource, prompt or completion handler throws (request logging writes an error line). */
export interface HandlerErrorEvent {
  kind: 'resource' | 'prompt' | 'completion';
  /** Prompt name, or the completion's prompt/template reference. */
  name?: string;
  /** The resource URI read (resource handlers). */
  uri?: string;
  error: Error;
}

export interface DegradedEvent {
  reason: string | null;
  /** Who degraded the node (`guardian` for resource pressure); absent for embedder publishers. */
  source?: string;
  /** The pressure (0-1) and the resource that set it, when the guardian degraded the node. */
  pressure?: number;
  resource?: string;
}

// ───────────────────────────── resource guardian (src/resilience) ─────────────────────────────

/** The resources the guardian weighs; pressure is the highest of their ratios. */
export type GuardedResource = 'heap' | 'memory' | 'fds' | 'eventLoop';

/** One guardian sample (published every `guardian.intervalMs`). */
export interface ResourcesEvent {
  /** Ratio of each resource to its limit (0-1); a resource without a known limit is absent. */
  ratios: Partial<Record<GuardedResource, number>>;
  /** The highest ratio, and its resource. */
  pressure: number;
  resource: GuardedResource;
  heapUsedBytes: number;
  rssBytes: number;
  fds: number | undefined;
  eventLoopDelayMs: number;
  /** Event-loop utilisation over the interval, 0-1. */
  eventLoopUtilization: number;
  /** Predicted ms until the hard limit from the trend of the memory and fd ratios; null when not rising. */
  msToHard: number | null;
  level: 'normal' | 'warning' | 'degraded';
}

/** A guardian transition: warning raised or cleared, degradation entered, a restore step, left, emergency stop. */
export interface GuardianEvent {
  action: 'warning' | 'warning-cleared' | 'degrade' | 'restore-step' | 'recover' | 'emergency';
  pressure: number;
  resource: GuardedResource;
  reason: string;
  /** Rate-limit factor in effect after this transition (1 = normal). */
  factor: number;
  /** ms spent degraded, on `recover`. */
  durationMs?: number;
}

/** Degradation mode shed a low-priority message or refused a request. */
export interface DegradationEvent {
  kind: 'shed' | 'refused';
  /** shed: logging, progress, list_changed, resource_updated; refused: initialize, tools/call, subscriptions/listen. */
  what: string;
}

/** Circuit breaker states (src/resilience/breaker.ts). */
export type BreakerStateKind = 'closed' | 'open' | 'half_open';

/** A circuit breaker (`tool:<name>`, `downstream:<name>`) changed state. */
export interface BreakerEvent {
  name: string;
  from: BreakerStateKind;
  to: BreakerStateKind;
  /** Why: the error rate or latency that opened it, a probe's outcome, an operator's reason. */
  reason: string;
  /** When an open breaker lets the first probe through, ms since the epoch. */
  retryAt?: number;
  /** True when an operator forced this state (it stays until reset). */
  forced?: boolean;
}

// ───────────────────────────── rate limits ─────────────────────────────

/** A request was refused by a rate limit (src/resilience/rate-limits.ts); published only when subscribed. */
export interface RateLimitedEvent {
  /** Which kind of limit: bounded, for metric labels. */
  limit: 'client' | 'tool' | 'global';
  /** The limit's name: `client`, `client:tools/call`, `tool:<name>`, `global`. */
  name: string;
  /** The client identity (`clientKey`): for logs and the snapshot, never a metric label. */
  client: string;
  method: string;
  retryAfterMs: number;
}

/** The rate limits' state changed: the factor (degradation) or sustained throttling began or ended. */
export interface RateLimitStateEvent {
  /** Multiplier applied to every configured limit (1 normally; 0.5 under degradation). */
  factor: number;
  /** True while requests have been refused in each of the last `sustainedSec` seconds. */
  sustained: boolean;
  sustainedSec: number;
  /** Refusals per limit kind since the node started. */
  refusals: { client: number; tool: number; global: number };
}

// ───────────────────────────── store ─────────────────────────────

/** A store operation finished. */
export interface StoreEvent {
  op: 'read' | 'write' | 'delete';
  durationMs: number;
  ok: boolean;
}

/**
 * A stored record (or a file or directory where one was expected) could not be used and was
 * moved aside instead of being loaded. Never silent: the runtime logs it and alerts subscribe.
 */
export interface QuarantineEvent {
  /** Namespace, e.g. `halt`, `sessions`; `-` for the state directory layout itself. */
  ns: string;
  /** Key within the namespace (for a halt record: the component id). */
  key: string;
  /** Where it was moved (or its original path when it could not be moved). */
  file: string;
  /** Why: checksum mismatch, invalid JSON, wrong shape, unreadable, a directory where a file belongs… */
  reason: string;
  /** What follows for the node, e.g. "component tool:x stays halted (halted_fatal)". */
  consequence?: string;
}

// ───────────────────────────── observability ─────────────────────────────

/** Health status of a checked component. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** A component's health changed (published by HealthMonitor). */
export interface HealthEvent {
  component: string;
  from: HealthStatus;
  to: HealthStatus;
  /** Whether an unhealthy state of this component makes the node not ready. */
  critical: boolean;
  consecutiveFailures: number;
  error?: string;
}

/** Readiness changed (published by HealthMonitor). */
export interface ReadinessEvent {
  ready: boolean;
  reasons: string[];
}

/** One alert delivery outcome on one channel (published by AlertManager). */
export interface AlertDeliveryEvent {
  /** The channel name from configuration, or `-` for outcomes decided before routing. */
  channel: string;
  severity: 'critical' | 'warning' | 'info';
  outcome: 'sent' | 'failed' | 'suppressed' | 'dropped';
  /** Attempts made on this channel (0 for suppressed and dropped). */
  attempts: number;
  durationMs: number;
}

// ───────────────────────────── the registry ─────────────────────────────

/** A diagnostics channel whose `publish` takes one payload type. */
export type TypedChannel<T> = Omit<Channel, 'publish'> & { publish(e: T): void };

function typed<T>(name: string): TypedChannel<T> {
  return channel(name) as TypedChannel<T>;
}

// ───────────────────────────── feature flags ─────────────────────────────

/** A feature flag was created, changed or deleted (src/flags). `to` is null for a delete. */
export interface FlagChangeEvent {
  flag: string;
  /** Who changed it (the admin API's `by`, `config`, `cli`, or `<by> on <node>` from another node). */
  by: string;
  at: number;
  from: { kind: string; enabled: boolean; percent: number; rules: number } | null;
  to: { kind: string; enabled: boolean; percent: number; rules: number } | null;
  /** True when the change came from another node over the shared store. */
  remote: boolean;
  /** True for a flag loaded from the store at start (not a change: gauges only, no count, no alert). */
  loaded?: boolean;
}

/** A rollout (src/flags/rollouts.ts) started, advanced, completed or was rolled back. */
export interface RolloutEvent {
  flag: string;
  action: 'start' | 'advance' | 'complete' | 'rollback';
  by: string;
  at: number;
  /** The phase after the step (1-based; 0: the flag off) and the number of phases. */
  phase: number;
  phases: number;
  /** The flag's percentage after the step (0 when off). */
  percent: number;
  /** True for an automatic rollback (a trigger fired). */
  automatic?: boolean;
  /** The trigger's metric (`error_rate`, `p99_latency`, `restarts`, `breaker`, `alert_delivery`) or `manual`. */
  metric?: string;
  /** Why: the metric and its values, or the operator's reason. */
  reason?: string;
}

/** Every channel and its payload type, by name. */
export interface EventMap {
  request: RequestEvent;
  requestStart: RequestStartEvent;
  session: SessionEvent;
  component: ComponentEvent;
  haltState: HaltStateEvent;
  restart: RestartEvent;
  failure: ComponentFailureEvent;
  recovery: RecoveryEvent;
  drain: DrainEvent;
  degraded: DegradedEvent;
  store: StoreEvent;
  quarantine: QuarantineEvent;
  health: HealthEvent;
  readiness: ReadinessEvent;
  alert: AlertDeliveryEvent;
  handlerError: HandlerErrorEvent;
  connection: ConnectionEvent;
  limit: LimitEvent;
  breaker: BreakerEvent;
  rateLimited: RateLimitedEvent;
  rateLimitState: RateLimitStateEvent;
  resources: ResourcesEvent;
  guardian: GuardianEvent;
  degradation: DegradationEvent;
  flagChange: FlagChangeEvent;
  rollout: RolloutEvent;
}

/** The channels, typed. Subscribe with `events.drain.subscribe((m) => …)`. */
export const events: { readonly [K in keyof EventMap]: TypedChannel<EventMap[K]> } = {
  request: typed('andon:request'),
  requestStart: typed('andon:request:start'),
  session: typed('andon:session'),
  component: typed('andon:component'),
  haltState: typed('andon:halt-state'),
  restart: typed('andon:restart'),
  failure: typed('andon:component:failure'),
  recovery: typed('andon:recovery'),
  drain: typed('andon:drain'),
  degraded: typed('andon:degraded'),
  store: typed('andon:store'),
  quarantine: typed('andon:quarantine'),
  health: typed('andon:health'),
  readiness: typed('andon:readiness'),
  alert: typed('andon:alert'),
  handlerError: typed('andon:handler:error'),
  connection: typed('andon:connection'),
  limit: typed('andon:limit'),
  breaker: typed('andon:breaker'),
  rateLimited: typed('andon:rate-limited'),
  rateLimitState: typed('andon:rate-limit-state'),
  resources: typed('andon:resources'),
  guardian: typed('andon:guardian'),
  degradation: typed('andon:degradation'),
  flagChange: typed('andon:flag-change'),
  rollout: typed('andon:rollout'),
};

/** A (channel, handler) pair, for subscribing and unsubscribing a group at once. */
export type Subscription = readonly [{ subscribe(f: (m: unknown, name: string | symbol) => void): void; unsubscribe(f: (m: unknown, name: string | symbol) => void): unknown }, (m: unknown) => void];

/**
 * Subscribes each handler to its channel; returns the function that unsubscribes them all.
 * Handlers are typed by channel: `subscribeAll([on(events.drain, (e) => …)])`.
 */
export function subscribeAll(subs: readonly Subscription[]): () => void {
  for (const [c, f] of subs) c.subscribe(f);
  return () => {
    for (const [c, f] of subs) c.unsubscribe(f);
  };
}

/** Pairs a channel with a handler typed by its payload (for {@link subscribeAll}). */
export function on<T>(ch: TypedChannel<T>, handler: (e: T) => void): Subscription {
  return [ch, handler as (m: unknown) => void];
}

// ───────────────────────────── held quarantine reports ─────────────────────────────

/** At most this many quarantine reports are held while nobody listens (the oldest go first). */
export const HELD_QUARANTINE_LIMIT = 64;
const heldQuarantines: QuarantineEvent[] = [];

/**
 * Publishes a quarantine report; when nobody subscribes yet (the store is read at start, before
 * alerting is wired) it is held, bounded, for {@link takeHeldQuarantines}. A corrupt state file
 * must reach an operator, not vanish because it was found early.
 */
export function publishQuarantine(e: QuarantineEvent): void {
  if (events.quarantine.hasSubscribers) {
    events.quarantine.publish(e);
    return;
  }
  heldQuarantines.push(e);
  if (heldQuarantines.length > HELD_QUARANTINE_LIMIT) heldQuarantines.shift();
}

/** Returns and forgets the quarantine reports published while nobody subscribed. */
export function takeHeldQuarantines(): QuarantineEvent[] {
  return heldQuarantines.splice(0, heldQuarantines.length);
}
