/**
 * Rate limits (issue 10): a stage of the admission pipeline's `rate` phase that refuses requests
 * over a limit with ANDON_RATE_LIMITED (HTTP 429 + Retry-After; over stdio and inside SSE the
 * JSON-RPC error with `data`). Four limits, checked in this order (the first over its limit
 * refuses; limits before it have taken their point):
 *
 *   client             messages (requests) per second per client identity (`clientKey`)
 *   client:tools/call  tools/call per second per client identity
 *   tool:<name>        calls per second to one tool across all clients (only tools configured)
 *   global             messages per second for the whole node
 *
 * A client's own limits come first, so a flooding client is refused before it spends the node's
 * global budget. `setFactor(f)` scales every limit (degradation halves them); `snapshot()` is what
 * the admin API and `andon limits` show. Counts live in a {@link RateLimitStore}: in-process token
 * buckets by default (synchronous: no promise per request), rate-limiter-flexible (Redis-ready)
 * when a store is given.
 */
import { AndonError, Errors } from '../errors/catalogue.js';
import { events } from '../events/index.js';
import type { AdmissionPipeline, Stage } from '../admission/pipeline.js';
import { clientKey, type IncomingRequest } from '../server/incoming.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { memoryStore, type KeyLimiter, type LimitSpec, type RateLimitStore } from './rate-limit-store.js';

export { memoryStore, flexibleStore, TokenBuckets, type RateLimitStore, type KeyLimiter, type LimitSpec, type FlexibleLimiter, type FlexibleLimiterOptions } from './rate-limit-store.js';

/** The configurable limits (the `rateLimits` section of the configuration file). */
export interface RateLimitsConfig {
  /** Default true. False installs no stage (nothing is counted). */
  enabled?: boolean;
  perClient?: { messagesPerSec?: number; toolCallsPerSec?: number };
  global?: { messagesPerSec?: number };
  /** Calls per second to one tool across all clients, by tool name. Default none. */
  tools?: Record<string, { callsPerSec: number }>;
  /** The burst: this many seconds of each limit's rate may arrive at once. Default 1. */
  burstSec?: number;
  /** "Rate limiting active" is raised after refusals in this many consecutive seconds. Default 10. */
  sustainedAlertSec?: number;
}

/** Options of {@link RateLimits}. */
export interface RateLimitsOptions extends RateLimitsConfig {
  clock?: Clock;
  /** Where counts live. Default {@link memoryStore} (in-process token buckets). */
  store?: RateLimitStore;
  logger?: Logger;
}

/** Defaults (the seeds of issue 10). */
export const RATE_LIMIT_DEFAULTS = { clientMessagesPerSec: 100, clientToolCallsPerSec: 50, globalMessagesPerSec: 10_000, burstSec: 1, sustainedAlertSec: 10 } as const;

/** Kinds of limit: the bounded label of `andon_rate_limited_total`. */
export type LimitKind = 'client' | 'tool' | 'global';

/** One limit in the {@link RateLimitsSnapshot}. */
export interface LimitInfo {
  name: string;
  kind: LimitKind;
  /** What is counted: `messages` or `tools/call`. */
  counts: 'messages' | 'tools/call';
  /** Per what: one client, one tool across clients, the node. */
  per: 'client' | 'tool' | 'node';
  /** Configured requests per second. */
  perSec: number;
  /** After the factor. */
  effectivePerSec: number;
  burst: number;
  refusals: number;
  /** Keys (clients) with a live counter, when the store knows. */
  trackedKeys?: number;
}

/** What `GET /admin/rate-limits` and `andon limits` show. */
export interface RateLimitsSnapshot {
  enabled: boolean;
  store: string;
  factor: number;
  burstSec: number;
  limits: LimitInfo[];
  refusals: { client: number; tool: number; global: number; total: number };
  sustained: { active: boolean; seconds: number; thresholdSec: number; since?: string };
  /** Most-refused client identities (up to 10), most first. */
  topThrottled: Array<{ client: string; refusals: number; lastLimit: string; lastAt: string }>;
}

/** One limit: its counter, its configured rate and its refusals. */
interface Limit {
  readonly name: string;
  readonly kind: LimitKind;
  readonly counts: 'messages' | 'tools/call';
  readonly per: 'client' | 'tool' | 'node';
  perSec: number;
  spec: LimitSpec;
  counter: KeyLimiter;
  refusals: number;
}

/** At most this many client identities are remembered for `topThrottled`. */
const MAX_THROTTLED = 1000;
/** A client refused this recently has its limits checked one at a time (see admitAsync). */
const RECENT_REFUSAL_MS = 5_000;

/** The node's rate limits: one stage in the `rate` phase, a factor, a snapshot. */
export class RateLimits {
  private readonly clock: Clock;
  private readonly store: RateLimitStore;
  private readonly log: Logger;
  private factorValue = 1;
  private burstSec: number = RATE_LIMIT_DEFAULTS.burstSec;
  private sustainedSec: number = RATE_LIMIT_DEFAULTS.sustainedAlertSec;
  private enabledValue = true;
  private readonly client: Limit;
  private readonly clientTools: Limit;
  private readonly global: Limit;
  private tools = new Map<string, Limit>();
  private readonly kinds = { client: 0, tool: 0, global: 0 };
  private readonly throttled = new Map<string, { refusals: number; lastLimit: string; lastAt: number }>();
  // Sustained throttling: consecutive whole seconds with at least one refusal.
  private lastSecond = -2;
  private streak = 0;
  private sustainedSince: number | undefined;
  private sustainedTimer: Timer | undefined;
  private pipeline: AdmissionPipeline | undefined;
  private readonly stageObject: Stage;
  /**
   * The client key of each 2025 session, built once: a fresh `session:<uuid>` string per request
   * would be concatenated and hashed again on every counter lookup (measured: +0.4 µs/request).
   */
  private readonly sessionKeys = new WeakMap<object, string>();

  constructor(options: RateLimitsOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? memoryStore();
    this.log = options.logger ?? nullLogger;
    this.client = this.limit('client', 'client', 'messages', 'client', RATE_LIMIT_DEFAULTS.clientMessagesPerSec);
    this.clientTools = this.limit('client:tools/call', 'client', 'tools/call', 'client', RATE_LIMIT_DEFAULTS.clientToolCallsPerSec);
    this.global = this.limit('global', 'global', 'messages', 'node', RATE_LIMIT_DEFAULTS.globalMessagesPerSec);
    this.configure(options);
    this.stageObject = { name: 'rate-limits', phase: 'rate', admit: this.store.sync ? (req) => this.admitSync(req) : (req) => this.admitAsync(req) };
  }

  /** Whether the stage is installed (a disabled RateLimits counts nothing). */
  get enabled(): boolean {
    return this.enabledValue;
  }

  /** The multiplier on every limit (1 normally). */
  get factor(): number {
    return this.factorValue;
  }

  /** The admission stage (`rate` phase). {@link install} registers it while enabled. */
  get stage(): Stage {
    return this.stageObject;
  }

  /** Registers the stage on `pipeline` (and keeps it registered or removed as `enabled` changes). */
  install(pipeline: AdmissionPipeline): this {
    this.pipeline = pipeline;
    if (this.enabledValue) pipeline.use(this.stageObject);
    return this;
  }

  /**
   * Applies a configuration (at start and on reload): rates, the per-tool table, burst, the
   * sustained-alert window, enabled. Counters keep their state where the store allows it.
   */
  configure(c: RateLimitsConfig): void {
    this.burstSec = c.burstSec ?? RATE_LIMIT_DEFAULTS.burstSec;
    this.sustainedSec = c.sustainedAlertSec ?? RATE_LIMIT_DEFAULTS.sustainedAlertSec;
    this.client.perSec = c.perClient?.messagesPerSec ?? RATE_LIMIT_DEFAULTS.clientMessagesPerSec;
    this.clientTools.perSec = c.perClient?.toolCallsPerSec ?? RATE_LIMIT_DEFAULTS.clientToolCallsPerSec;
    this.global.perSec = c.global?.messagesPerSec ?? RATE_LIMIT_DEFAULTS.globalMessagesPerSec;
    const tools = new Map<string, Limit>();
    for (const [name, t] of Object.entries(c.tools ?? {})) {
      const old = this.tools.get(name);
      if (old) {
        old.perSec = t.callsPerSec;
        tools.set(name, old);
      } else tools.set(name, this.limit(`tool:${name}`, 'tool', 'tools/call', 'tool', t.callsPerSec));
    }
    this.tools = tools;
    this.respec();
    const enabled = c.enabled ?? true;
    if (enabled !== this.enabledValue) {
      this.enabledValue = enabled;
      if (this.pipeline) {
        if (enabled) this.pipeline.use(this.stageObject);
        else this.pipeline.remove(this.stageObject.name);
      }
    }
  }

  /**
   * Scales every limit by `f` (> 0): 0.5 halves them (degradation), 1 restores the configuration.
   * Counts are kept; the change is published on `rateLimitState` (the factor gauge).
   */
  setFactor(f: number): void {
    if (!Number.isFinite(f) || f <= 0) throw new RangeError(`rate-limit factor must be a finite number > 0, got ${String(f)}`);
    if (f === this.factorValue) return;
    this.log.info({ from: this.factorValue, to: f }, 'rate-limit factor changed');
    this.factorValue = f;
    this.respec();
    this.publishState();
  }

  /** The limits, the factor, refusals and the most-throttled clients. */
  snapshot(): RateLimitsSnapshot {
    const limits = this.all().map((l) => ({
      name: l.name,
      kind: l.kind,
      counts: l.counts,
      per: l.per,
      perSec: l.perSec,
      effectivePerSec: l.spec.perSec,
      burst: l.spec.burst,
      refusals: l.refusals,
      ...(l.counter.size ? { trackedKeys: l.counter.size() } : {}),
    }));
    const top = [...this.throttled].sort((a, b) => b[1].refusals - a[1].refusals).slice(0, 10);
    const k = this.kinds;
    return {
      enabled: this.enabledValue,
      store: this.store.kind,
      factor: this.factorValue,
      burstSec: this.burstSec,
      limits,
      refusals: { ...k, total: k.client + k.tool + k.global },
      sustained: { active: this.sustainedSince !== undefined, seconds: this.currentStreak(), thresholdSec: this.sustainedSec, ...(this.sustainedSince !== undefined ? { since: new Date(this.sustainedSince).toISOString() } : {}) },
      topThrottled: top.map(([client, t]) => ({ client, refusals: t.refusals, lastLimit: t.lastLimit, lastAt: new Date(t.lastAt).toISOString() })),
    };
  }

  /** Stops the sustained-throttling timer (the node is stopping). */
  stop(): void {
    this.clock.clearInterval(this.sustainedTimer);
    this.sustainedTimer = undefined;
  }

  // ───────────────────────────── the stage ─────────────────────────────

  /** In-memory store: every counter answers synchronously, so admission costs no promise. */
  private admitSync(req: IncomingRequest): AndonError | undefined {
    const now = this.clock.now();
    const key = this.keyOf(req);
    let w = this.client.counter.take(key, now) as number;
    if (w >= 0) return this.refuse(this.client, w, key, req, now);
    if (req.request.method === 'tools/call') {
      w = this.clientTools.counter.take(key, now) as number;
      if (w >= 0) return this.refuse(this.clientTools, w, key, req, now);
      if (this.tools.size > 0) {
        const name = req.request.params?.name;
        const t = typeof name === 'string' ? this.tools.get(name) : undefined;
        if (t !== undefined) {
          w = t.counter.take('', now) as number;
          if (w >= 0) return this.refuse(t, w, key, req, now);
        }
      }
    }
    w = this.global.counter.take('', now) as number;
    if (w >= 0) return this.refuse(this.global, w, key, req, now);
    return undefined;
  }

  /**
   * A store with promises (rate-limiter-flexible, Redis). A client refused in the last few seconds
   * is checked in order, one round trip at a time, stopping at the first refusal (a flood costs
   * the store one count per request). Any other request takes its limits at once (one round trip
   * of latency instead of two or three); when one refuses, the points the later limits took are
   * given back, so a refused request never spends the global or a tool's budget.
   */
  private admitAsync(req: IncomingRequest): Promise<AndonError | undefined> {
    const now = this.clock.now();
    const key = this.keyOf(req);
    const limits = this.limitsOf(req, key);
    const t = this.throttled.get(key);
    if (t !== undefined && now - t.lastAt < RECENT_REFUSAL_MS) return this.admitInOrder(limits, key, req, now);
    return Promise.all(limits.map(([l, k]) => l.counter.take(k, now))).then((waits) => {
      const i = waits.findIndex((w) => w >= 0);
      if (i < 0) return undefined;
      for (let j = i + 1; j < limits.length; j++) if (waits[j]! < 0) limits[j]![0].counter.give?.(limits[j]![1]);
      return this.refuse(limits[i]![0], waits[i]!, key, req, now);
    });
  }

  /** The limits a request counts against, in checking order, each with its counter key. */
  private limitsOf(req: IncomingRequest, key: string): Array<[Limit, string]> {
    const limits: Array<[Limit, string]> = [[this.client, key]];
    if (req.request.method === 'tools/call') {
      limits.push([this.clientTools, key]);
      const name = req.request.params?.name;
      const tool = typeof name === 'string' ? this.tools.get(name) : undefined;
      if (tool !== undefined) limits.push([tool, '']);
    }
    limits.push([this.global, '']);
    return limits;
  }

  /** The same checks awaited in order, stopping at the first refusal (a client refused recently). */
  private async admitInOrder(limits: Array<[Limit, string]>, key: string, req: IncomingRequest, now: number): Promise<AndonError | undefined> {
    for (const [l, k] of limits) {
      const w = await l.counter.take(k, now);
      if (w >= 0) return this.refuse(l, w, key, req, now);
    }
    return undefined;
  }

  /** `clientKey(req)`, cached per session (the same identity while the request has no subject). */
  private keyOf(req: IncomingRequest): string {
    const s = req.session;
    if (s === undefined || req.subject !== undefined) return clientKey(req);
    let k = this.sessionKeys.get(s);
    if (k === undefined) {
      k = clientKey(req);
      this.sessionKeys.set(s, k);
    }
    return k;
  }

  private refuse(l: Limit, waitMs: number, client: string, req: IncomingRequest, now: number): AndonError {
    l.refusals++;
    this.kinds[l.kind]++;
    const retryAfterMs = Math.max(1, Math.ceil(waitMs));
    this.noteClient(client, l.name, now);
    this.noteSecond(now);
    const method = req.request.method;
    if (events.rateLimited.hasSubscribers) events.rateLimited.publish({ limit: l.kind, name: l.name, client, method, retryAfterMs });
    const rate = round(l.spec.perSec);
    const what = l.per === 'client' ? `${rate} ${l.counts} per second from one client` : l.per === 'tool' ? `${rate} calls per second to tool "${l.name.slice(5)}" across clients` : `${rate} messages per second for the whole node`;
    const secs = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new AndonError(Errors.RateLimited, `Rate limit exceeded (${l.name}): more than ${what}; retry in ${secs} s`, {
      retryAfterMs,
      limit: l.name,
      limitPerSec: rate,
      reason: `over the ${l.name} limit of ${what}`,
      component: 'rate-limits',
    });
  }

  // ───────────────────────────── bookkeeping ─────────────────────────────

  private limit(name: string, kind: LimitKind, counts: Limit['counts'], per: Limit['per'], perSec: number): Limit {
    const spec = this.specOf(name, perSec);
    return { name, kind, counts, per, perSec, spec, counter: this.store.limiter(spec, this.clock), refusals: 0 };
  }

  private specOf(id: string, perSec: number): LimitSpec {
    const eff = perSec * this.factorValue;
    return { id, perSec: eff, burst: Math.max(1, eff * this.burstSec), burstSec: this.burstSec };
  }

  /** Recomputes every limit's effective rate (configuration or factor changed). */
  private respec(): void {
    for (const l of this.all()) {
      const spec = this.specOf(l.name, l.perSec);
      if (spec.perSec === l.spec.perSec && spec.burst === l.spec.burst) continue;
      l.spec = spec;
      if (l.counter.update) l.counter.update(spec);
      else l.counter = this.store.limiter(spec, this.clock);
    }
  }

  private all(): Limit[] {
    return [this.client, this.clientTools, ...this.tools.values(), this.global];
  }

  private noteClient(client: string, limit: string, now: number): void {
    const t = this.throttled.get(client);
    if (t) {
      t.refusals++;
      t.lastLimit = limit;
      t.lastAt = now;
      return;
    }
    if (this.throttled.size >= MAX_THROTTLED) {
      // Forget the client with the fewest refusals (rare: only past 1000 distinct throttled clients).
      let min: string | undefined;
      let n = Infinity;
      for (const [k, v] of this.throttled) if (v.refusals < n) [min, n] = [k, v.refusals];
      if (min !== undefined) this.throttled.delete(min);
    }
    this.throttled.set(client, { refusals: 1, lastLimit: limit, lastAt: now });
  }

  /** Counts consecutive seconds with refusals; raises "sustained" at `sustainedSec`. */
  private noteSecond(now: number): void {
    const s = Math.floor(now / 1000);
    if (s === this.lastSecond) return;
    this.streak = s === this.lastSecond + 1 ? this.streak + 1 : 1;
    this.lastSecond = s;
    if (this.streak >= this.sustainedSec && this.sustainedSince === undefined) {
      this.sustainedSince = now;
      this.log.warn({ seconds: this.streak, refusals: this.kinds }, 'rate limiting active: requests refused in every second of the window');
      this.publishState();
      // Checks once a second whether a whole second passed without a refusal (then it has stopped).
      this.sustainedTimer = this.clock.setInterval(() => this.checkSustained(), 1000);
      this.sustainedTimer.unref?.();
    }
  }

  private checkSustained(): void {
    if (this.currentStreak() > 0) return;
    this.clock.clearInterval(this.sustainedTimer);
    this.sustainedTimer = undefined;
    const since = this.sustainedSince ?? this.clock.now();
    this.sustainedSince = undefined;
    this.log.info({ durationMs: this.clock.now() - since, refusals: this.kinds }, 'rate limiting no longer active');
    this.publishState();
  }

  /** Consecutive seconds with refusals up to now (0 once a whole second passed without one). */
  private currentStreak(): number {
    return Math.floor(this.clock.now() / 1000) - this.lastSecond <= 1 ? this.streak : 0;
  }

  private publishState(): void {
    if (!events.rateLimitState.hasSubscribers) return;
    events.rateLimitState.publish({ factor: this.factorValue, sustained: this.sustainedSince !== undefined, sustainedSec: this.sustainedSec, refusals: { ...this.kinds } });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Creates the node's rate limits (not installed: call `install(server.admission)`). */
export function createRateLimits(options: RateLimitsOptions = {}): RateLimits {
  return new RateLimits(options);
}
