/**
 * Degradation mode: what the node does while the resource guardian says it is short of memory,
 * file descriptors or event-loop time. One admission stage in the `degrade` phase refuses new
 * sessions (`initialize`) and tool calls beyond a concurrency cap with ANDON_DEGRADED (503 +
 * Retry-After); the server sheds low-priority outgoing messages (logging and progress notifications
 * are dropped; list_changed and resources/updated are held and sent once, coalesced, when the mode
 * ends); a 2026 `subscriptions/listen` (a new long-lived stream) is refused like a new session; and the actuators other parts provide refuse new connections and scale rate limits.
 *
 * Outside degradation none of this costs anything: the stage is registered on entering the mode and
 * removed on leaving it (a pipeline recomposes only then), and the server's `shed` hook is set only
 * while degraded. So the tool-call cap counts the calls admitted while degraded; calls already
 * running when the mode began finish without being counted.
 */
import { AndonError } from '../errors/catalogue.js';
import { GuardianErrors } from '../errors/guardian.js';
import { events } from '../events/index.js';
import type { Stage } from '../admission/pipeline.js';
import type { McpServer } from '../server/server.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { DegradationControl } from './guardian.js';

/**
 * Hooks of other parts that degradation mode drives; the runtime fills in those that exist.
 * - `refuseNewConnections(reason)`: the HTTP endpoint refuses new connections while `reason` is set (null: accept again).
 * - `scaleRateLimits(factor)`: rate limits run at `factor` of their configured values (0.5 degraded, back to 1 in steps).
 */
export interface DegradationActuators {
  refuseNewConnections?(reason: string | null): void;
  scaleRateLimits?(factor: number): void;
}

/** Options of {@link Degradation}. */
export interface DegradationOptions {
  server: McpServer;
  /** Concurrent `tools/call` admitted while degraded; beyond it ANDON_DEGRADED. Default 16. */
  maxToolCalls?: number;
  /** `Retry-After` of the refusals, ms. Default 5000. */
  retryAfterMs?: number;
  actuators?: DegradationActuators;
  clock?: Clock;
}

/** What one shed message is counted as. */
function shedKind(method: string): 'logging' | 'progress' | 'list_changed' | 'resource_updated' | undefined {
  if (method === 'notifications/message') return 'logging';
  if (method === 'notifications/progress') return 'progress';
  if (method === 'notifications/resources/updated') return 'resource_updated';
  if (method.endsWith('/list_changed')) return 'list_changed';
  return undefined;
}

/** Degradation mode of one server: the `degrade` stage, shedding and the actuators. */
export class Degradation implements DegradationControl {
  private activeReason: string | null = null;
  private sinceMs = 0;
  private factorNow = 1;
  private toolCalls = 0;
  private readonly maxToolCalls: number;
  private readonly retryAfterMs: number;
  private readonly clock: Clock;
  /** Counts since start, by kind. */
  readonly shedCounts: Record<string, number> = { logging: 0, progress: 0, list_changed: 0, resource_updated: 0 };
  readonly refusedCounts: Record<string, number> = { initialize: 0, 'tools/call': 0, 'subscriptions/listen': 0 };
  /** Filled in by the runtime at integration (connection limits, rate limits). */
  actuators: DegradationActuators;
  private readonly shedFn = (method: string): boolean => this.shed(method);
  private unregister: (() => void) | undefined;

  constructor(private readonly options: DegradationOptions) {
    this.maxToolCalls = options.maxToolCalls ?? 16;
    this.retryAfterMs = options.retryAfterMs ?? 5000;
    this.clock = options.clock ?? options.server.clock ?? systemClock;
    this.actuators = options.actuators ?? {};
  }

  /** Whether the node is degraded now. */
  get active(): boolean {
    return this.activeReason !== null;
  }

  /** The `degrade` admission stage; {@link enter} registers it and {@link exit} removes it. */
  stage(): Stage {
    return {
      name: 'degradation',
      phase: 'degrade',
      // A 2026 listen stream is the stateless era's long-lived peer: refused like a new session.
      admit: (req) => (req.request.method === 'subscriptions/listen' && this.activeReason !== null ? this.refuse('subscriptions/listen', 'new listen streams are refused') : undefined),
      around: (req, next) => {
        if (req.request.method === 'initialize') {
          if (this.activeReason !== null) return Promise.reject(this.refuse('initialize', 'new sessions are refused'));
          return next(req);
        }
        if (req.request.method !== 'tools/call') return next(req);
        if (this.activeReason !== null && this.toolCalls >= this.maxToolCalls) return Promise.reject(this.refuse('tools/call', `at most ${this.maxToolCalls} concurrent tool calls`));
        this.toolCalls++;
        let p: Promise<Record<string, unknown>>;
        try {
          p = next(req);
        } catch (err) {
          this.toolCalls--;
          throw err;
        }
        return p.finally(() => this.toolCalls--);
      },
    };
  }

  private refuse(what: 'initialize' | 'tools/call' | 'subscriptions/listen', detail: string): AndonError {
    this.refusedCounts[what] = (this.refusedCounts[what] ?? 0) + 1;
    if (events.degradation.hasSubscribers) events.degradation.publish({ kind: 'refused', what });
    const reason = this.activeReason ?? 'degraded';
    return new AndonError(GuardianErrors.Degraded, `Service Unavailable: node degraded (${reason}); ${detail}`, { retryAfterMs: this.retryAfterMs, reason, component: 'node' });
  }

  /** True when `method` is a low-priority notification to shed now (counted). */
  shed(method: string): boolean {
    if (this.activeReason === null) return false;
    const kind = shedKind(method);
    if (kind === undefined) return false;
    this.shedCounts[kind]!++;
    if (events.degradation.hasSubscribers) events.degradation.publish({ kind: 'shed', what: kind });
    return true;
  }

  enter(reason: string, factor: number): void {
    const was = this.activeReason !== null;
    this.activeReason = reason;
    if (!was) this.sinceMs = this.clock.now();
    this.unregister ??= this.options.server.use(this.stage());
    this.options.server.shed = this.shedFn;
    this.actuators.refuseNewConnections?.(`node degraded: ${reason}`);
    this.setFactor(factor);
  }

  setFactor(factor: number): void {
    this.factorNow = factor;
    this.actuators.scaleRateLimits?.(factor);
  }

  exit(): void {
    if (this.activeReason === null) return;
    this.activeReason = null;
    this.unregister?.();
    this.unregister = undefined;
    this.options.server.shed = undefined;
    // What was held back goes out once, coalesced.
    this.options.server.releaseShed();
    this.actuators.refuseNewConnections?.(null);
  }

  /** For the admin API and `andon status`. */
  status(): { active: boolean; reason: string | null; since: string | null; factor: number; toolCalls: number; maxToolCalls: number; shed: Record<string, number>; refused: Record<string, number> } {
    return {
      active: this.active,
      reason: this.activeReason,
      since: this.activeReason !== null ? new Date(this.sinceMs).toISOString() : null,
      factor: this.factorNow,
      toolCalls: this.toolCalls,
      maxToolCalls: this.maxToolCalls,
      shed: { ...this.shedCounts },
      refused: { ...this.refusedCounts },
    };
  }
}
