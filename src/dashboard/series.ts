/**
 * The dashboard's charts: an in-process ring buffer of the last 15 minutes in 5-second slots,
 * fed by the event channels (`andon:request`, `andon:session`) and a resource sample per slot.
 * Per slot: requests, errors (protocol errors and tool error results), open sessions, heap and
 * RSS, and latency p50/p95/p99 for all requests and per tool. Fixed memory: 180 slots, at most
 * {@link MAX_KEYS} latency keys and {@link MAX_SAMPLES} durations per key in the open slot
 * (reservoir-sampled beyond that).
 */
import { events, on, subscribeAll, type RequestEvent, type SessionEvent } from '../events/index.js';
import type { Clock } from '../util/clock.js';

/** Slot length, ms. */
export const SLOT_MS = 5_000;
/** Slots kept: 15 minutes. */
export const SLOTS = 180;
/** Latency keys per slot: `*` (all requests) and tool names. */
export const MAX_KEYS = 64;
/** Durations kept per key in the open slot for its percentiles. */
export const MAX_SAMPLES = 1_000;

/** Latency of one key in one slot: [count, p50, p95, p99] (ms, rounded to 0.1). */
export type LatencyStat = [number, number, number, number];

/** One closed (or the open) slot as sent to the page. */
export interface Slot {
  /** Slot start, epoch ms. */
  t: number;
  req: number;
  err: number;
  sessions: number;
  heap: number;
  rss: number;
  /** `*` for all requests, else a tool name. */
  lat: Record<string, LatencyStat>;
}

interface OpenSlot {
  t: number;
  req: number;
  err: number;
  samples: Map<string, { n: number; d: number[] }>;
}

/** `q`-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The ring buffer. Call {@link start} to subscribe and {@link stop} to let go. */
export class Series {
  private readonly closed: Slot[] = [];
  private open: OpenSlot;
  private sessions = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    /** Current heap used and RSS, bytes (sampled when a slot closes). */
    private readonly memory: () => { heap: number; rss: number } = () => {
      const m = process.memoryUsage();
      return { heap: m.heapUsed, rss: m.rss };
    },
  ) {
    this.open = this.fresh(this.slotStart(clock.now()));
  }

  /** Subscribes to the request and session channels. */
  start(): this {
    this.unsubscribe ??= subscribeAll([on(events.request, (e) => this.record(e)), on(events.session, (e) => this.session(e))]);
    return this;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Open sessions and long-lived connections counted from `andon:session`. */
  get openSessions(): number {
    return this.sessions;
  }

  /** Records one finished request. */
  record(e: Pick<RequestEvent, 'method' | 'name' | 'outcome' | 'durationMs'>): void {
    this.roll();
    const s = this.open;
    s.req++;
    if (e.outcome === 'error' || e.outcome === 'tool_error') s.err++;
    this.sample(s, '*', e.durationMs);
    // Only a string names a tool (a client's params.name may be anything; an object whose toString
    // is not callable threw here, from a channel subscriber: an uncaught exception, the node exited).
    // A name longer than MCP allows (128) is no tool's: not kept as a key (180 slots of 64 keys).
    if (e.method === 'tools/call' && typeof e.name === 'string' && e.name && e.name.length <= 128) this.sample(s, e.name, e.durationMs);
  }

  session(e: Pick<SessionEvent, 'action'>): void {
    this.roll();
    this.sessions = Math.max(0, this.sessions + (e.action === 'open' ? 1 : -1));
  }

  /** Closes every slot that ended before now (call on a timer so quiet periods still get points). */
  roll(): void {
    const now = this.slotStart(this.clock.now());
    if (now === this.open.t) return;
    const mem = this.memory();
    // The slot that ended, then empty slots for the gap (bounded by the ring's size).
    this.push(this.close(this.open, mem));
    const gap = Math.min(SLOTS, (now - this.open.t) / SLOT_MS - 1);
    for (let i = gap; i >= 1; i--) this.push({ t: now - i * SLOT_MS, req: 0, err: 0, sessions: this.sessions, heap: mem.heap, rss: mem.rss, lat: {} });
    this.open = this.fresh(now);
  }

  /** The last 15 minutes, oldest first, the open slot last. */
  slots(): Slot[] {
    this.roll();
    return [...this.closed, this.close(this.open, this.memory())];
  }

  /** The open slot alone (what the page updates every second). */
  current(): Slot {
    this.roll();
    return this.close(this.open, this.memory());
  }

  private push(s: Slot): void {
    this.closed.push(s);
    if (this.closed.length > SLOTS - 1) this.closed.splice(0, this.closed.length - (SLOTS - 1));
  }

  private slotStart(t: number): number {
    return Math.floor(t / SLOT_MS) * SLOT_MS;
  }

  private fresh(t: number): OpenSlot {
    return { t, req: 0, err: 0, samples: new Map() };
  }

  private sample(s: OpenSlot, key: string, ms: number): void {
    let k = s.samples.get(key);
    if (!k) {
      if (s.samples.size >= MAX_KEYS) return;
      k = { n: 0, d: [] };
      s.samples.set(key, k);
    }
    k.n++;
    if (k.d.length < MAX_SAMPLES) k.d.push(ms);
    else {
      // Reservoir sampling keeps a uniform sample of the slot's durations.
      const j = Math.floor(Math.random() * k.n);
      if (j < MAX_SAMPLES) k.d[j] = ms;
    }
  }

  private close(s: OpenSlot, mem: { heap: number; rss: number }): Slot {
    // No prototype: a tool named "__proto__" is a key like any other.
    const lat = Object.create(null) as Record<string, LatencyStat>;
    for (const [key, k] of s.samples) {
      const d = [...k.d].sort((a, b) => a - b);
      lat[key] = [k.n, r1(quantile(d, 0.5)), r1(quantile(d, 0.95)), r1(quantile(d, 0.99))];
    }
    return { t: s.t, req: s.req, err: s.err, sessions: this.sessions, heap: mem.heap, rss: mem.rss, lat };
  }
}
