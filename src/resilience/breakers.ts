/**
 * The node's circuit breakers by name: `tool:<name>` for each tool (the admission stage of phase
 * `breaker` guards `tools/call`) and `downstream:<name>` for each downstream a handler calls
 * through `ctx.downstream(name, fn)` (this registry is the server's {@link DownstreamRunner}).
 * Settings come from the defaults, overridden per tool and per downstream.
 *
 * A tool's breaker is made the first time a call to it is counted, so a client sending unknown
 * tool names (-32602, not counted) cannot mint breakers; downstream names come from handler code
 * and are capped at {@link MAX_BREAKERS} all told.
 */
import type { DownstreamRunner } from '../server/context.js';
import type { Clock } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { CircuitBreaker, DEFAULT_BREAKER_SETTINGS, Outcome, REFUSED, type BreakerSettings, type BreakerSnapshot } from './breaker.js';
import { isError } from '../errors/catalogue.js';
import { BreakerErrors } from '../errors/breakers.js';

/** Options of {@link BreakerRegistry}: the defaults and per-name overrides. Every field is optional. */
export interface BreakersOptions extends Partial<BreakerSettings> {
  /** Breakers on at all. Default true; false leaves tools and `ctx.downstream` unguarded. */
  enabled?: boolean;
  /** Overrides for `tool:<name>`, by tool name. */
  tools?: Record<string, Partial<BreakerSettings>>;
  /** Overrides for `downstream:<name>`, by downstream name. */
  downstreams?: Record<string, Partial<BreakerSettings>>;
}

/** At most this many breakers exist; past it, new downstream names run unguarded (logged once). */
export const MAX_BREAKERS = 10_000;

function settingsOf(base: Partial<BreakerSettings>, over: Partial<BreakerSettings> | undefined): BreakerSettings {
  return { ...DEFAULT_BREAKER_SETTINGS, ...strip(base), ...strip(over ?? {}) };
}

/** Only the settings keys, without undefined values (so they do not hide a default). */
function strip(o: Partial<BreakerSettings> & Record<string, unknown>): Partial<BreakerSettings> {
  const out: Partial<BreakerSettings> = {};
  for (const k of ['windowMs', 'minCalls', 'errorRate', 'p95Ms', 'openMs', 'halfOpenProbes'] as const) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  return out;
}

/** The breakers of one node. */
export class BreakerRegistry implements DownstreamRunner {
  /** Tool breakers by tool name (no prefix: the hot path builds no string). */
  private readonly tools = new Map<string, CircuitBreaker>();
  private readonly downstreams = new Map<string, CircuitBreaker>();
  private readonly base: Partial<BreakerSettings>;
  private warnedFull = false;
  readonly enabled: boolean;

  constructor(
    private readonly options: BreakersOptions,
    readonly clock: Clock,
    private readonly log: Logger = nullLogger,
  ) {
    this.enabled = options.enabled ?? true;
    this.base = strip(options as Record<string, unknown>);
  }

  /** The breaker of tool `name`, if a call to it was counted (or it was named by an operator). */
  tool(name: string): CircuitBreaker | undefined {
    return this.tools.get(name);
  }

  /** The breaker of tool `name`, made on first use. */
  toolBreaker(name: string): CircuitBreaker | undefined {
    return this.tools.get(name) ?? this.make(this.tools, 'tool', name, this.options.tools?.[name]);
  }

  /** The breaker of downstream `name`, made on first use (undefined past {@link MAX_BREAKERS}). */
  downstreamBreaker(name: string): CircuitBreaker | undefined {
    return this.downstreams.get(name) ?? this.make(this.downstreams, 'downstream', name, this.options.downstreams?.[name]);
  }

  private make(map: Map<string, CircuitBreaker>, kind: string, name: string, over: Partial<BreakerSettings> | undefined): CircuitBreaker | undefined {
    if (this.tools.size + this.downstreams.size >= MAX_BREAKERS) {
      if (!this.warnedFull) this.log.warn({ limit: MAX_BREAKERS, name: `${kind}:${name}` }, 'circuit breaker limit reached: further names run without a breaker');
      this.warnedFull = true;
      return undefined;
    }
    const b = new CircuitBreaker(`${kind}:${name}`, settingsOf(this.base, over), this.clock);
    map.set(name, b);
    return b;
  }

  /**
   * The breaker named `tool:<name>` or `downstream:<name>`. With `create`, a breaker of a known
   * tool or a configured downstream that has not been used yet is made (so an operator can force
   * it open before the first call).
   */
  get(fullName: string, create?: { tools: readonly string[] }): CircuitBreaker | undefined {
    const i = fullName.indexOf(':');
    if (i < 0) return undefined;
    const kind = fullName.slice(0, i);
    const name = fullName.slice(i + 1);
    if (kind === 'tool') return this.tools.get(name) ?? (create?.tools.includes(name) ? this.toolBreaker(name) : undefined);
    if (kind === 'downstream') return this.downstreams.get(name) ?? (create && this.options.downstreams?.[name] ? this.downstreamBreaker(name) : undefined);
    return undefined;
  }

  /** Every breaker, tools first, by name. */
  list(): CircuitBreaker[] {
    const by = (a: CircuitBreaker, b: CircuitBreaker) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return [...[...this.tools.values()].sort(by), ...[...this.downstreams.values()].sort(by)];
  }

  /** Snapshots of every breaker. */
  snapshots(): BreakerSnapshot[] {
    return this.list().map((b) => b.snapshot());
  }

  /** `ctx.downstream(name, fn)`: runs `fn` under `downstream:<name>`. */
  async run<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const b = this.enabled ? this.downstreamBreaker(name) : undefined;
    if (b === undefined) return fn();
    const token = b.acquire();
    if (token === REFUSED) throw b.refusal();
    const t0 = this.clock.now();
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      const now = this.clock.now();
      // A nested breaker's refusal is that breaker's business, not a failure of this downstream.
      b.settle(token, isError(err, BreakerErrors.Open) ? Outcome.Skip : Outcome.Fail, now - t0, now);
      throw err;
    }
    const now = this.clock.now();
    b.settle(token, Outcome.Ok, now - t0, now);
    return value;
  }

  /** Stops every breaker's timer (the runtime's shutdown). */
  dispose(): void {
    for (const b of this.tools.values()) b.dispose();
    for (const b of this.downstreams.values()) b.dispose();
  }
}
