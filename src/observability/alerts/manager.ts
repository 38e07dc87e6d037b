/**
 * The alert manager. `alert()` returns at once: the alert is recorded and queued, and workers
 * deliver it in the background, so a slow or dead receiver never blocks the runtime that raised
 * it. Each routed channel gets the alert with retries (exponential backoff with jitter, honouring
 * Retry-After); when a channel's attempts are exhausted, its configured fallback is tried, and so
 * on down the chain. Identical alerts (severity, title, context) within the dedup window are
 * suppressed and counted on the original; `force` sends anyway. Each routed channel has its own
 * queue (critical first) and workers, so a slow receiver delays only itself. Alerts of one
 * incident are delivered in order on each channel, so a `resolve` never overtakes its `trigger`.
 *
 * Every delivery outcome is published on the `andon:alert` channel (metrics subscribe).
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../util/logger.js';
import { nullLogger } from '../../util/logger.js';
import { sleep, systemClock, type Clock } from '../../util/clock.js';
import { obsChannels } from '../events.js';
import { KeyMatcher, redactObject } from '../redact.js';
import { AlertHistory } from './history.js';
import { DeliveryError, SEVERITIES, type Alert, type AlertChannel, type AlertRecord, type DeliveryRecord, type Severity } from './types.js';

/**
 * The manager's former clock shape.
 * @deprecated Pass a {@link Clock} (`systemClock`, or `TestClock` in tests); kept so callers compile.
 */
export type AlertClock = Clock;

/** @deprecated Use `systemClock` from `util/clock`. */
export const realClock: Clock = systemClock;

/** Options of {@link AlertManager}. */
export interface AlertManagerOptions {
  channels: AlertChannel[];
  /** Channel names per severity. Default: every channel for every severity. */
  routes?: Partial<Record<Severity, string[]>>;
  /** channel → channel tried when it fails. Default none. */
  fallbacks?: Record<string, string>;
  /** Identical alerts within this window are suppressed. Default 300,000 ms (5 minutes). */
  dedupWindowMs?: number;
  /** Attempts per channel (default 3); first backoff (default 1,000 ms), doubling; cap (default 30,000 ms); jitter ±20 %. */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number; jitter?: number };
  /** Timeout of one delivery attempt. Default 10,000 ms. */
  timeoutMs?: number;
  /** Deliveries in progress at once per routed channel. Default 2. */
  concurrency?: number;
  /** Queued deliveries (alerts × routed channels) beyond this are dropped and recorded as such. Default 1,000. */
  maxQueue?: number;
  /** History entries kept. Default 200. */
  historySize?: number;
  /** Persist the history here (`alerts-history.json`). Default: memory only. */
  stateDir?: string;
  /** `source` of every alert. Default the host name. */
  source?: string;
  /** Time for dedup windows, retry backoff, close's wait and timestamps. Default {@link systemClock}. */
  clock?: Clock;
  /** Random source for jitter, [0, 1). Default Math.random. */
  random?: () => number;
  logger?: Logger;
}

/** Options of one {@link AlertManager.alert} call. */
export interface AlertOptions {
  /** Send to these channels instead of the severity's route. */
  channels?: string[];
  /** Send even if an identical alert went out within the dedup window. */
  force?: boolean;
  /** The component concerned (shown by every channel). */
  component?: string;
  /** Incident key (PagerDuty dedup_key; what `resolve()` closes). Default: a hash of severity, title and context. */
  incident?: string;
  /** Marks a test alert. */
  test?: boolean;
}

/** What `alert()` returns at once. */
export interface AlertReceipt {
  id: string;
  /** `queued` for delivery, `suppressed` as a duplicate, `dropped` (queue full), `ignored` (resolve of no open incident). */
  status: 'queued' | 'suppressed' | 'dropped' | 'ignored';
  /** Resolves with the final record when delivery is over (never rejects). */
  delivered: Promise<AlertRecord | undefined>;
}

interface Job {
  alert: Alert;
  record: AlertRecord;
  /** Delivery results per target, in route order. */
  results: DeliveryRecord[][];
  remaining: number;
  done: (r: AlertRecord) => void;
}

/** One alert to one routed channel (and down its fallback chain). */
interface Task {
  job: Job;
  index: number;
  target: string;
  /** The previous task of the same incident on the same lane: delivered first. */
  after: Promise<unknown>;
  finished: () => void;
}

/** Each routed channel has its own queue and workers, so a slow Slack never delays PagerDuty. */
interface Lane {
  queue: Task[];
  active: number;
}

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

interface OpenIncident {
  severity: Severity;
  title: string;
  component: string | undefined;
  targets: string[];
}

/** Stable JSON (sorted keys, cycles cut), so equal contexts hash equally. */
function stableJson(v: unknown, seen = new WeakSet<object>()): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (seen.has(v)) return '"[circular]"';
  seen.add(v);
  if (Array.isArray(v)) return `[${v.map((x) => stableJson(x, seen)).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k], seen)}`)
    .join(',')}}`;
}

/** Queues, deduplicates, routes, retries and records alerts. */
export class AlertManager {
  private readonly channels = new Map<string, AlertChannel>();
  private routes: Record<Severity, string[]>;
  private fallbacks: Record<string, string>;
  private window: number;
  private attempts: number;
  private baseMs: number;
  private maxMs: number;
  private readonly jitter: number;
  private timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private source: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly keys = new KeyMatcher();
  private readonly historyStore: AlertHistory;
  private readonly lanes = new Map<string, Lane>();
  private queued = 0;
  private readonly recent = new Map<string, { at: number; record: AlertRecord; incident: string }>();
  private readonly open = new Map<string, OpenIncident>();
  private readonly incidentTail = new Map<string, Promise<unknown>>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly closing = new AbortController();
  private active = 0;
  private pumpScheduled = false;

  /** See {@link AlertManagerOptions} for defaults. */
  constructor(options: AlertManagerOptions) {
    for (const c of options.channels) {
      if (this.channels.has(c.name)) throw new Error(`two alert channels are named "${c.name}"`);
      this.channels.set(c.name, c);
    }
    const all = [...this.channels.keys()];
    this.routes = { critical: all, warning: all, info: all };
    for (const s of SEVERITIES) {
      const r = options.routes?.[s];
      if (!r) continue;
      for (const n of r) if (!this.channels.has(n)) throw new Error(`route for ${s} names an unknown channel "${n}"`);
      this.routes[s] = [...r];
    }
    this.fallbacks = { ...options.fallbacks };
    this.window = options.dedupWindowMs ?? 300_000;
    this.attempts = Math.max(1, options.retry?.attempts ?? 3);
    this.baseMs = options.retry?.baseMs ?? 1_000;
    this.maxMs = options.retry?.maxMs ?? 30_000;
    this.jitter = options.retry?.jitter ?? 0.2;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.maxQueue = options.maxQueue ?? 1_000;
    this.source = options.source ?? hostname();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? nullLogger;
    this.historyStore = new AlertHistory({
      stateDir: options.stateDir,
      size: options.historySize ?? 200,
      onError: (err) => this.log.error({ err }, 'alert history could not be persisted'),
    });
  }

  /**
   * Applies a new configuration (a config reload): channels, routes, fallbacks, dedup window, retry
   * and timeout. Deliveries already running finish on the channel object they started with; the
   * history, open incidents and the dedup memory are kept, so a reload neither re-sends nor forgets.
   * Throws, changing nothing, when a route names an unknown channel.
   */
  reconfigure(options: Pick<AlertManagerOptions, 'channels' | 'routes' | 'fallbacks' | 'dedupWindowMs' | 'retry' | 'timeoutMs' | 'source'>): void {
    const next = new Map<string, AlertChannel>();
    for (const c of options.channels) {
      if (next.has(c.name)) throw new Error(`two alert channels are named "${c.name}"`);
      next.set(c.name, c);
    }
    const all = [...next.keys()];
    const routes: Record<Severity, string[]> = { critical: all, warning: all, info: all };
    for (const s of SEVERITIES) {
      const r = options.routes?.[s];
      if (!r) continue;
      for (const n of r) if (!next.has(n)) throw new Error(`route for ${s} names an unknown channel "${n}"`);
      routes[s] = [...r];
    }
    const old = [...this.channels.values()];
    this.channels.clear();
    for (const [n, c] of next) this.channels.set(n, c);
    this.routes = routes;
    this.fallbacks = { ...options.fallbacks };
    this.window = options.dedupWindowMs ?? 300_000;
    this.attempts = Math.max(1, options.retry?.attempts ?? 3);
    this.baseMs = options.retry?.baseMs ?? 1_000;
    this.maxMs = options.retry?.maxMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (options.source !== undefined) this.source = options.source;
    // Replaced channels release their resources (SMTP pools) once their deliveries are done.
    void this.idle().then(() => {
      for (const c of old) if (this.channels.get(c.name) !== c) c.close?.();
    });
  }

  /** Names of the configured channels. */
  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** The route (channel names) of a severity. */
  route(severity: Severity): string[] {
    return [...this.routes[severity]];
  }

  /**
   * Raises an alert and returns at once. Never throws for delivery problems (only for a bad
   * severity, an empty title or an unknown channel name, which are programming errors).
   */
  alert(severity: Severity, title: string, context: Record<string, unknown> = {}, options: AlertOptions = {}): AlertReceipt {
    if (!SEVERITIES.includes(severity)) throw new TypeError(`alert severity must be one of ${SEVERITIES.join(', ')}, got ${String(severity)}`);
    if (typeof title !== 'string' || !title.trim()) throw new TypeError('alert title must be a non-empty string');
    const targets = options.channels ? [...options.channels] : this.routes[severity];
    for (const n of targets) if (!this.channels.has(n)) throw new TypeError(`unknown alert channel "${n}" (configured: ${this.channelNames().join(', ') || 'none'})`);
    // A snapshot, secrets redacted by key: the caller may mutate its object later, and alert
    // context ends up in chat rooms and mailboxes.
    const ctx = JSON.parse(stableJson(redactObject(context ?? {}, this.keys))) as Record<string, unknown>;
    const key = createHash('sha256').update(`${severity}\0${title}\0${stableJson(ctx)}`).digest('hex');
    const now = this.clock.now();
    const incident = options.incident ?? `andon-${key.slice(0, 32)}`;
    const seen = this.recent.get(key);
    if (seen && now - seen.at < this.window && !options.force) {
      seen.record.suppressed++;
      this.historyStore.changed();
      for (const ch of targets) obsChannels.alert.publish({ channel: ch, severity, outcome: 'suppressed', attempts: 0, durationMs: 0 });
      return { id: seen.record.id, status: 'suppressed', delivered: Promise.resolve(seen.record) };
    }
    this.prune(now);
    const alert: Alert = { id: randomUUID(), action: 'trigger', severity, title, context: ctx, component: options.component, incident, time: new Date(now).toISOString(), source: this.source, test: options.test ?? false };
    const r = this.enqueue(alert, targets);
    if (r.status === 'queued') {
      this.recent.set(key, { at: now, record: this.historyStore.get(r.id)!, incident });
      if (!alert.test) this.open.set(incident, { severity, title, component: options.component, targets });
    }
    return r;
  }

  /**
   * Closes an open incident: a `resolve` goes to the channels its trigger went to (PagerDuty
   * resolves the incident, the others say it recovered), and identical alerts are no longer
   * suppressed. Ignored when no incident of that key is open.
   */
  resolve(incident: string, options: { title?: string; context?: Record<string, unknown> } = {}): AlertReceipt {
    const o = this.open.get(incident);
    if (!o) return { id: '', status: 'ignored', delivered: Promise.resolve(undefined) };
    this.open.delete(incident);
    for (const [k, v] of this.recent) if (v.incident === incident) this.recent.delete(k);
    const ctx = JSON.parse(stableJson(redactObject(options.context ?? {}, this.keys))) as Record<string, unknown>;
    const alert: Alert = { id: randomUUID(), action: 'resolve', severity: o.severity, title: options.title ?? o.title, context: ctx, component: o.component, incident, time: new Date(this.clock.now()).toISOString(), source: this.source, test: false };
    return this.enqueue(alert, o.targets);
  }

  /** Whether an incident is open (triggered and not resolved). */
  isOpen(incident: string): boolean {
    return this.open.has(incident);
  }

  /**
   * Sends a test alert through the real path (queue, retries, fallback), bypassing deduplication:
   * to one channel, or along the route of `severity` (default info).
   */
  test(options: { channel?: string; severity?: Severity; title?: string } = {}): AlertReceipt {
    const severity = options.severity ?? 'info';
    return this.alert(severity, options.title ?? 'Test alert from andon-mcp', { note: 'Sent by `andon alerts test` or POST /admin/alerts/test. No action needed.', pid: process.pid }, { force: true, test: true, channels: options.channel ? [options.channel] : undefined });
  }

  /** The history, newest first. */
  history(limit?: number): AlertRecord[] {
    return this.historyStore.list(limit);
  }

  /** Resolves when nothing is queued or being delivered. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops: waits up to `waitMs` (default 5,000) for deliveries in progress, then aborts them,
   * closes the channels and writes the history out.
   */
  async close(waitMs = 5_000): Promise<void> {
    const wait = new AbortController();
    // Real time, like the per-attempt timeout: this bounds real network I/O at shutdown, and a
    // test clock standing still must not make close() hang.
    await Promise.race([this.idle(), sleep(systemClock, waitMs, wait.signal, true)]);
    wait.abort();
    this.closing.abort();
    for (const c of this.channels.values()) c.close?.();
    await this.historyStore.flush();
  }

  private prune(now: number): void {
    if (this.recent.size < 1024) return;
    for (const [k, v] of this.recent) if (now - v.at >= this.window) this.recent.delete(k);
  }

  private enqueue(alert: Alert, targets: string[]): AlertReceipt {
    const record: AlertRecord = { id: alert.id, action: alert.action, severity: alert.severity, title: alert.title, component: alert.component, incident: alert.incident, context: alert.context, time: alert.time, test: alert.test, status: 'queued', suppressed: 0, deliveries: [] };
    this.historyStore.add(record);
    if (this.queued + targets.length > this.maxQueue || this.closing.signal.aborted) {
      record.status = 'dropped';
      record.finishedAt = new Date(this.clock.now()).toISOString();
      for (const ch of targets) obsChannels.alert.publish({ channel: ch, severity: alert.severity, outcome: 'dropped', attempts: 0, durationMs: 0 });
      this.log.error({ alert: alert.title, severity: alert.severity, queued: this.queued }, 'alert dropped: the alert queue is full');
      return { id: alert.id, status: 'dropped', delivered: Promise.resolve(record) };
    }
    let done!: (r: AlertRecord) => void;
    const delivered = new Promise<AlertRecord>((r) => (done = r));
    const job: Job = { alert, record, results: targets.map(() => []), remaining: targets.length, done };
    if (targets.length === 0) {
      this.log.warn({ severity: alert.severity, title: alert.title }, 'alert has no channel to go to (check alerts.routes)');
      setImmediate(() => this.finish(job));
      return { id: alert.id, status: 'queued', delivered };
    }
    targets.forEach((target, index) => {
      const key = `${alert.incident}\0${target}`;
      const after = this.incidentTail.get(key) ?? Promise.resolve();
      let finished!: () => void;
      const tail = new Promise<void>((r) => (finished = r));
      this.incidentTail.set(key, tail);
      void tail.then(() => {
        if (this.incidentTail.get(key) === tail) this.incidentTail.delete(key);
      });
      let lane = this.lanes.get(target);
      if (!lane) this.lanes.set(target, (lane = { queue: [], active: 0 }));
      // Critical first, FIFO within a severity, and never ahead of an earlier alert of the same
      // incident (it waits for that one, and would hold a worker while waiting).
      let floor = -1;
      lane.queue.forEach((t, i) => {
        if (t.job.alert.incident === alert.incident) floor = i;
      });
      const at = lane.queue.findIndex((t, i) => i > floor && RANK[t.job.alert.severity] > RANK[alert.severity]);
      const task: Task = { job, index, target, after, finished };
      if (at === -1) lane.queue.push(task);
      else lane.queue.splice(at, 0, task);
      this.queued++;
    });
    // Deliver on a later turn: not even the first bytes of a delivery run on the caller's stack.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return { id: alert.id, status: 'queued', delivered };
  }

  private pump(): void {
    for (const lane of this.lanes.values()) {
      while (lane.active < this.concurrency && lane.queue.length) {
        const task = lane.queue.shift()!;
        this.queued--;
        lane.active++;
        this.active++;
        void this.run(task).finally(() => {
          lane.active--;
          this.active--;
          task.finished();
          this.pump();
          if (this.active === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
      }
    }
  }

  private async run(task: Task): Promise<void> {
    const { job } = task;
    try {
      await task.after;
      if (job.record.status === 'queued') {
        job.record.status = 'sending';
        this.historyStore.changed();
      }
      job.results[task.index] = await this.deliverChain(job.alert, task.target);
    } catch (err) {
      // Defensive: deliverChain does not throw, but a record must never stay "sending".
      this.log.error({ err }, 'alert delivery crashed');
    }
    if (--job.remaining === 0) this.finish(job);
  }

  private finish(job: Job): void {
    const { record } = job;
    for (const c of job.results) record.deliveries.push(...c);
    const ok = job.results.filter((c) => c.some((d) => d.ok)).length;
    record.status = job.results.length > 0 && ok === job.results.length ? 'sent' : ok > 0 ? 'partial' : 'failed';
    record.finishedAt = new Date(this.clock.now()).toISOString();
    this.historyStore.changed();
    job.done(record);
  }

  /** Delivers to `first`, then down its fallback chain until one succeeds. */
  private async deliverChain(alert: Alert, first: string): Promise<DeliveryRecord[]> {
    const out: DeliveryRecord[] = [];
    const visited = new Set<string>();
    let name: string | undefined = first;
    let prev: string | undefined;
    while (name !== undefined && !visited.has(name)) {
      visited.add(name);
      const ch = this.channels.get(name);
      if (ch) {
        const d = await this.deliverOne(alert, ch);
        if (prev !== undefined) d.fallbackOf = prev;
        out.push(d);
        if (d.ok) return out;
        prev = name;
      }
      name = this.fallbacks[name];
      if (name !== undefined && this.channels.has(name)) this.log.warn({ from: prev, to: name, alert: alert.title }, 'alert channel failed; trying its fallback');
    }
    return out;
  }

  private async deliverOne(alert: Alert, ch: AlertChannel): Promise<DeliveryRecord> {
    const t0 = performance.now();
    let attempts = 0;
    let last: Error | undefined;
    while (attempts < this.attempts && !this.closing.signal.aborted) {
      attempts++;
      try {
        await ch.send(alert, AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]));
        const durationMs = performance.now() - t0;
        obsChannels.alert.publish({ channel: ch.name, severity: alert.severity, outcome: 'sent', attempts, durationMs });
        this.log.info({ channel: ch.name, severity: alert.severity, action: alert.action, alert: alert.title, attempts }, 'alert sent');
        return { channel: ch.name, ok: true, attempts, durationMs: Math.round(durationMs) };
      } catch (err) {
        last = err as Error;
        const retryable = !(err instanceof DeliveryError) || err.retryable;
        this.log.warn({ channel: ch.name, attempt: attempts, of: this.attempts, error: last.message, retryable }, 'alert delivery attempt failed');
        if (!retryable || attempts >= this.attempts) break;
        await sleep(this.clock, this.backoff(attempts, err instanceof DeliveryError ? err.retryAfterMs : undefined), this.closing.signal);
      }
    }
    const durationMs = performance.now() - t0;
    obsChannels.alert.publish({ channel: ch.name, severity: alert.severity, outcome: 'failed', attempts, durationMs });
    this.log.error({ channel: ch.name, severity: alert.severity, alert: alert.title, attempts, error: last?.message }, 'alert delivery failed');
    return { channel: ch.name, ok: false, attempts, error: last?.message ?? 'closed', durationMs: Math.round(durationMs) };
  }

  /** Delay before attempt `n + 1`: base · 2^(n−1), ±jitter, at least Retry-After, at most maxMs. */
  backoff(n: number, retryAfterMs?: number): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** (n - 1));
    const jittered = exp * (1 + this.jitter * (this.random() * 2 - 1));
    return Math.round(Math.min(this.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
  }
}
