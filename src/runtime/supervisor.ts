/**
 * Supervision with Erlang/OTP semantics (supervisor.erl): child specs with a restart type and a
 * shutdown timeout; strategies one_for_one, one_for_all and rest_for_one; restart intensity over
 * a sliding window with exponential backoff; children stopped in reverse start order.
 *
 * Where this departs from OTP, and why: intensity is counted per child as well as per supervisor.
 * A child that exceeds its own intensity is halted (`halted_fatal`) rather than taking its
 * siblings down — one flapping tool must not stop the others. When the supervisor's total
 * exceeds the intensity, it escalates to its parent as OTP does. The supervisor never restarts a
 * halted child: it refuses with an error and logs the denial.
 */
import type { Clock, Timer } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { nullLogger } from '../util/logger.js';
import { channels } from './events.js';
import { events } from '../events/index.js';
import { KeyedSerial } from '../util/keyed-serial.js';
import type { HaltRegistry } from './halt.js';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** What a started child gives back. */
export interface ChildHandle {
  /** Stops the child; the supervisor waits up to `shutdownMs`. */
  stop(reason: string): void | Promise<void>;
}

/** Given to a child so it can report that it died. */
export interface ChildLink {
  /** The child crashed: the supervisor applies its restart strategy. */
  crashed(error: Error): void;
  /** The child ended normally (a transient child is then not restarted). */
  exited(): void;
}

export interface ChildSpec {
  /** Component id, e.g. `tool:echo`, `transport:http`. */
  id: string;
  /** Component kind, e.g. `tool`, `transport`, `store`, `server`, `supervisor`. */
  kind: string;
  start(link: ChildLink): ChildHandle | Promise<ChildHandle>;
  /** Default `permanent`. */
  restart?: RestartType;
  /** Default 5000 ms. */
  shutdownMs?: number;
  /** A halted critical component makes the node not ready. Default false. */
  critical?: boolean;
}

export type ChildState = 'stopped' | 'starting' | 'running' | 'restarting' | 'halted_manual' | 'halted_fatal' | 'failed';

/** What the admin API shows per component. */
export interface ComponentInfo {
  id: string;
  kind: string;
  state: ChildState;
  restarts: number;
  lastError: string | null;
  haltReason: string | null;
  critical: boolean;
  /** Requests in flight in this component (tools: its calls; transports and node: all), when known. */
  inflight?: number;
}

export interface SupervisorOptions {
  id: string;
  strategy?: Strategy;
  /** Default 5 restarts in 60 s. */
  intensity?: { maxRestarts: number; windowMs: number };
  /** Delay before a restart: base·2^(n-1), capped. Default base 100 ms, cap 5 s. */
  backoff?: { baseMs: number; maxMs: number };
  halts: HaltRegistry;
  clock?: Clock;
  logger?: Logger;
  /** Called when the supervisor's own intensity is exceeded (its parent's `crashed`). */
  onEscalate?: (error: Error) => void;
}

interface Child {
  spec: ChildSpec;
  handle: ChildHandle | null;
  state: ChildState;
  restartTimes: number[];
  restarts: number;
  lastError: string | null;
  timer: Timer | null;
  /** Bumped on every start so a late crash report from an old incarnation is ignored. */
  generation: number;
}

/** Thrown when an operation targets a halted component (catalogue: `ANDON_COMPONENT_HALTED`). */
export class HaltedError extends AndonError {
  constructor(
    readonly id: string,
    readonly reason: string,
  ) {
    super(RuntimeErrors.ComponentHalted, `component ${id} is halted: ${reason}`, { component: id, reason });
    this.name = 'HaltedError';
  }
}

export class Supervisor {
  readonly id: string;
  private readonly children: Child[] = [];
  private readonly strategy: Strategy;
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly halts: HaltRegistry;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly totalRestarts: number[] = [];
  private running = false;
  /** Operations on one child run one at a time (admin halts/resumes can race). */
  private readonly queue = new KeyedSerial();
  onEscalate: ((error: Error) => void) | undefined;

  constructor(options: SupervisorOptions) {
    this.id = options.id;
    this.strategy = options.strategy ?? 'one_for_one';
    this.maxRestarts = options.intensity?.maxRestarts ?? 5;
    this.windowMs = options.intensity?.windowMs ?? 60_000;
    this.backoff = options.backoff ?? { baseMs: 100, maxMs: 5000 };
    this.halts = options.halts;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? nullLogger;
    this.onEscalate = options.onEscalate;
  }

  /** Adds a child; it starts at once if the supervisor is running. */
  async add(spec: ChildSpec): Promise<void> {
    if (this.children.some((c) => c.spec.id === spec.id)) throw new Error(`duplicate child id ${spec.id}`);
    const child: Child = { spec, handle: null, state: 'stopped', restartTimes: [], restarts: 0, lastError: null, timer: null, generation: 0 };
    this.children.push(child);
    this.halts.describe(spec.id, spec.kind, spec.critical ?? false);
    if (this.running) await this.startChild(child);
  }

  /** Starts children in order. Halted children stay down and the log says which and why. */
  async start(): Promise<void> {
    this.running = true;
    for (const c of this.children) await this.startChild(c);
  }

  private async startChild(c: Child): Promise<void> {
    const halt = this.halts.get(c.spec.id);
    if (halt) {
      c.state = halt.state as ChildState;
      this.log.warn({ component: c.spec.id, state: halt.state, reason: halt.reason, since: new Date(halt.since).toISOString() }, 'component is halted; not starting it');
      return;
    }
    const gen = ++c.generation;
    c.state = 'starting';
    const link: ChildLink = {
      crashed: (error) => {
        if (c.generation === gen) void this.onCrash(c, error);
      },
      exited: () => {
        if (c.generation === gen) void this.onExit(c);
      },
    };
    try {
      c.handle = await c.spec.start(link);
      if (c.generation === gen && c.state === 'starting') c.state = 'running';
    } catch (err) {
      c.handle = null;
      await this.onCrash(c, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async stopChild(c: Child, reason: string): Promise<void> {
    c.generation++;
    if (c.timer) {
      this.clock.clearTimeout(c.timer);
      c.timer = null;
    }
    const h = c.handle;
    c.handle = null;
    if (!h) return;
    const ms = c.spec.shutdownMs ?? 5000;
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = this.clock.setTimeout(() => r('timeout'), ms)));
    try {
      const r = await Promise.race([Promise.resolve(h.stop(reason)).then(() => 'ok' as const), timeout]);
      if (r === 'timeout') this.log.error({ component: c.spec.id, shutdownMs: ms }, 'component did not stop within its shutdown timeout; abandoning it');
    } catch (err) {
      this.log.error({ component: c.spec.id, err }, 'component failed while stopping');
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
  }

  private async onExit(c: Child): Promise<void> {
    c.handle = null;
    if ((c.spec.restart ?? 'permanent') === 'permanent') return this.onCrash(c, new Error('permanent child exited'));
    c.state = 'stopped';
  }

  private async onCrash(c: Child, error: Error): Promise<void> {
    c.lastError = error.message;
    if (!this.running || this.halts.isHalted(c.spec.id)) return;
    if (events.failure.hasSubscribers) events.failure.publish({ id: c.spec.id, kind: c.spec.kind, error: error.message, time: this.clock.now() });
    if ((c.spec.restart ?? 'permanent') === 'temporary') {
      await this.stopChild(c, `crashed: ${error.message}`);
      c.state = 'failed';
      this.log.warn({ component: c.spec.id, err: error.message }, 'temporary component crashed; not restarting it');
      return;
    }
    const now = this.clock.now();
    c.restartTimes = c.restartTimes.filter((t) => now - t < this.windowMs);
    c.restartTimes.push(now);
    if (c.restartTimes.length > this.maxRestarts) {
      const reason = `restart intensity exceeded: ${c.restartTimes.length - 1} restarts in ${this.windowMs / 1000}s; last error: ${error.message}`;
      c.state = 'halted_fatal';
      channels.restart.publish({ id: c.spec.id, restarts: c.restarts, intensityExceeded: true, error: error.message });
      this.log.error({ component: c.spec.id, restarts: c.restarts, err: error.message }, 'restart intensity exceeded; halting component (halted_fatal)');
      await this.halts.set(c.spec.id, 'halted_fatal', reason, `supervisor:${this.id}`);
      await this.stopChild(c, reason);
      c.state = 'halted_fatal';
      return;
    }
    this.totalRestarts.push(now);
    while (this.totalRestarts.length && now - this.totalRestarts[0]! >= this.windowMs) this.totalRestarts.shift();
    if (this.totalRestarts.length > this.maxRestarts * Math.max(1, this.children.length)) {
      this.log.error({ supervisor: this.id }, 'supervisor restart intensity exceeded; escalating to parent');
      this.onEscalate?.(new Error(`supervisor ${this.id}: restart intensity exceeded (last: ${c.spec.id}: ${error.message})`));
      return;
    }
    const n = c.restartTimes.length;
    const delay = Math.min(this.backoff.baseMs * 2 ** (n - 1), this.backoff.maxMs);
    // A crashed component may still hold resources (a listener, a half-open connection), and a
    // tool must stop taking calls: tell it to stop before the backoff.
    await this.stopChild(c, `crashed: ${error.message}`);
    const gen = c.generation;
    c.state = 'restarting';
    this.log.warn({ component: c.spec.id, err: error.message, attempt: n, delayMs: delay }, 'component crashed; restarting after backoff');
    await this.affected(c, 'crash of sibling');
    c.timer = this.clock.setTimeout(() => {
      c.timer = null;
      void this.queue.run(c.spec.id, async () => {
        if (c.state !== 'restarting' || c.generation !== gen || this.halts.isHalted(c.spec.id)) return;
        c.restarts++;
        channels.restart.publish({ id: c.spec.id, restarts: c.restarts, intensityExceeded: false, error: error.message });
        // The crashed child and the siblings its strategy stopped come back in start order.
        for (const g of this.group(c)) if (g.state === 'restarting') await this.startChild(g);
      });
    }, delay);
  }

  /** Children restarted together with `c` under the strategy, in start order. */
  private group(c: Child): Child[] {
    if (this.strategy === 'one_for_one') return [c];
    if (this.strategy === 'one_for_all') return this.children.slice();
    return this.children.slice(this.children.indexOf(c));
  }

  /** Stops the siblings the strategy restarts together with `c`, in reverse start order. */
  private async affected(c: Child, reason: string): Promise<void> {
    const group = this.group(c).filter((g) => g !== c);
    for (const g of group.reverse()) {
      if (!g.handle) continue;
      await this.stopChild(g, reason);
      g.state = 'restarting';
    }
  }

  /** Halts a component: stops it and records the halt durably. Unknown ids throw. */
  halt(id: string, reason: string, kind: 'halted_manual' | 'halted_fatal' = 'halted_manual', by = 'operator'): Promise<void> {
    const c = this.find(id);
    return this.queue.run(id, async () => {
      await this.halts.set(id, kind, reason, by);
      await this.stopChild(c, reason);
      c.state = kind;
    });
  }

  /** Resumes a halted component: clears the halt and starts it again. */
  resume(id: string, by = 'operator'): Promise<void> {
    const c = this.find(id);
    return this.queue.run(id, async () => {
      await this.halts.clear(id, by);
      c.restartTimes = [];
      if (c.state === 'running' || c.state === 'starting') return;
      if (this.running) await this.startChild(c);
      else c.state = 'stopped';
    });
  }

  /** Restarts a running component by hand; refused for a halted one. */
  restart(id: string): Promise<void> {
    const c = this.find(id);
    return this.queue.run(id, async () => {
      const h = this.halts.get(id);
      if (h) {
        this.log.warn({ component: id, reason: h.reason }, 'restart denied: component is halted');
        throw new HaltedError(id, h.reason);
      }
      await this.stopChild(c, 'manual restart');
      await this.startChild(c);
    });
  }

  /** Stops every child in reverse start order. */
  async stop(reason = 'shutdown'): Promise<void> {
    this.running = false;
    for (const c of [...this.children].reverse()) {
      await this.stopChild(c, reason);
      if (!this.halts.isHalted(c.spec.id)) c.state = 'stopped';
    }
  }

  has(id: string): boolean {
    return this.children.some((c) => c.spec.id === id);
  }

  private find(id: string): Child {
    const c = this.children.find((x) => x.spec.id === id);
    if (!c) throw new UnknownComponentError(id);
    return c;
  }

  /** Component table for the admin API. */
  list(): ComponentInfo[] {
    return this.children.map((c) => {
      const h = this.halts.get(c.spec.id);
      return {
        id: c.spec.id,
        kind: c.spec.kind,
        state: h ? (h.state as ChildState) : c.state,
        restarts: c.restarts,
        lastError: c.lastError,
        haltReason: h?.reason ?? null,
        critical: c.spec.critical ?? false,
      };
    });
  }

  /** Wraps this supervisor as a child of another (nesting). */
  asChild(kind = 'supervisor'): ChildSpec {
    return {
      id: this.id,
      kind,
      shutdownMs: 30_000,
      start: async (link) => {
        this.onEscalate = (e) => link.crashed(e);
        await this.start();
        return { stop: (reason) => this.stop(reason) };
      },
    };
  }
}

/** Thrown for a component id that is not in the tree (catalogue: `ANDON_UNKNOWN_COMPONENT`). */
export class UnknownComponentError extends AndonError {
  constructor(readonly id: string) {
    super(RuntimeErrors.UnknownComponent, `unknown component: ${id}`, { component: id });
    this.name = 'UnknownComponentError';
  }
}
