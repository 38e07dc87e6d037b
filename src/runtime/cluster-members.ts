/**
 * Membership of the nodes sharing a store (Redis): every node writes its record — id, MCP and ops
 * URLs, pid, start time, last heartbeat, drain phase, degraded, live sessions — to the store
 * namespace `nodes` every `heartbeatMs` (default 2 s, injected Clock). A node whose last heartbeat
 * is older than three periods is shown as `down`; one that drained cleanly writes `stopped` last.
 * Records older than an hour are removed by whichever node lists them.
 *
 * `andon drain --node ID` reaches another node through the store: a drain request is published on
 * the channel `drain`; the named node drains itself exactly as on SIGTERM, every other node ignores
 * it. Messages on the channel are hostile input: a malformed one is logged and dropped.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/store.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

const NS = 'nodes';
const CHANNEL = 'drain';
const MAX_MESSAGE = 8 * 1024;
/** Heartbeats a node may miss before it is shown as down. */
export const MISSED_BEATS = 3;
const FORGET_MS = 3_600_000;

/** What a node writes about itself on every heartbeat. */
export interface NodeRecord {
  id: string;
  host: string;
  pid: number;
  mcpUrl: string | null;
  opsUrl: string | null;
  startedAt: number;
  heartbeatAt: number;
  heartbeatMs: number;
  /** The node's drain phase (`running`, `draining`, `halting`), or `stopped` after a clean exit. */
  phase: string;
  degraded: boolean;
  sessions: number;
  /** The node process's exactly-once journal key (`log-<random>`), when it journals. */
  journal?: string;
}

/** A record as listed: with what the lister concludes. */
export interface NodeView extends NodeRecord {
  /** `up`, `draining` (phase not running), `down` (missed heartbeats) or `stopped`. */
  status: 'up' | 'draining' | 'down' | 'stopped';
  /** Milliseconds since the last heartbeat, by the lister's clock. */
  ageMs: number;
  self: boolean;
}

/** What the node reports about itself (the Runtime). */
export interface MemberSource {
  mcpUrl(): string | undefined;
  opsUrl(): string | undefined;
  phase(): string;
  degraded(): boolean;
  sessions(): number;
  /** This process's journal key (src/runtime/journal.ts), if it journals. */
  journalKey?(): string | undefined;
  /** Drains this node as on SIGTERM (and exits afterwards). */
  drain(reason: string): void;
}

interface DrainRequest {
  op: 'drain';
  node: string;
  reason: string;
  by: string;
  from: string;
}

function checkRecord(v: unknown): string | null {
  const r = v as Partial<NodeRecord>;
  if (!r || typeof r !== 'object') return 'not an object';
  if (typeof r.id !== 'string' || r.id.length === 0) return 'id: expected a string';
  for (const k of ['pid', 'startedAt', 'heartbeatAt', 'heartbeatMs', 'sessions'] as const) if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) return `${k}: expected a number`;
  if (typeof r.phase !== 'string') return 'phase: expected a string';
  if (typeof r.degraded !== 'boolean') return 'degraded: expected a boolean';
  return null;
}

function parse(m: string): DrainRequest | string {
  if (m.length > MAX_MESSAGE) return `longer than ${MAX_MESSAGE} bytes`;
  let v: unknown;
  try {
    v = JSON.parse(m);
  } catch {
    return 'not JSON';
  }
  const a = v as Partial<DrainRequest>;
  if (!a || typeof a !== 'object') return 'not an object';
  if (a.op !== 'drain') return 'op: expected drain';
  if (typeof a.node !== 'string' || a.node.length === 0 || a.node.length > 256) return 'node: expected a node id';
  if (typeof a.reason !== 'string' || a.reason.length > 1024) return 'reason: expected a string';
  if (typeof a.by !== 'string' || typeof a.from !== 'string') return 'by/from: expected strings';
  return a as DrainRequest;
}

/** Outcome of a drain request for a node. */
export type DrainRequestResult = { ok: true; node: NodeView } | { ok: false; status: 404 | 409; error: string };

export class ClusterMembers {
  readonly origin = randomBytes(6).toString('hex');
  private readonly startedAt: number;
  private timer: Timer | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private last: NodeView[] = [];
  private failing = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly nodeId: string,
    readonly heartbeatMs: number,
    private readonly source: MemberSource,
  ) {
    this.startedAt = clock.now();
  }

  /** Subscribes to drain requests, writes the first heartbeat, schedules the next ones. */
  async start(): Promise<void> {
    if (this.store.subscribe) this.unsubscribe = await this.store.subscribe(CHANNEL, (m) => this.receive(m));
    await this.beat();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void this.beat().finally(() => this.schedule());
    }, this.heartbeatMs);
    this.timer.unref?.();
  }

  private record(phase = this.source.phase()): NodeRecord {
    return {
      id: this.nodeId,
      host: hostname(),
      pid: process.pid,
      mcpUrl: this.source.mcpUrl() ?? null,
      opsUrl: this.source.opsUrl() ?? null,
      startedAt: this.startedAt,
      heartbeatAt: this.clock.now(),
      heartbeatMs: this.heartbeatMs,
      phase,
      degraded: this.source.degraded(),
      sessions: this.source.sessions(),
      ...(this.source.journalKey?.() ? { journal: this.source.journalKey() } : {}),
    };
  }

  /**
   * Whether the process writing journal key `key` is alive (one read of the records): `true` while
   * the record naming the key is not down or stopped, `false` once it is; with no record naming it,
   * `false` when `since` (when its unfinished record was written) is older than MISSED_BEATS of this
   * node's heartbeats — a live node names its key from its first heartbeat on — else `undefined`
   * (unknown). A store error rejects.
   */
  async journalWriterAlive(key: string, since: number): Promise<boolean | undefined> {
    const entries = await this.store.list<NodeRecord>(NS, { validate: checkRecord });
    const now = this.clock.now();
    const r = entries.find((e) => e.value.journal === key)?.value;
    if (!r) return now - since > MISSED_BEATS * this.heartbeatMs ? false : undefined;
    return r.phase !== 'stopped' && now - r.heartbeatAt <= MISSED_BEATS * r.heartbeatMs;
  }

  /** Writes this node's record now, then refreshes the cached list (never throws). */
  async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.store.set(NS, this.nodeId, this.record());
      await this.list();
      if (this.failing) this.log.info({ node: this.nodeId }, 'membership heartbeat written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ node: this.nodeId, err: String(err) }, 'could not write the membership heartbeat; other nodes will show this node down if it lasts');
      this.failing = true;
    }
  }

  /** Every node's record from the store, with its status; records older than an hour are removed. */
  async list(): Promise<NodeView[]> {
    const now = this.clock.now();
    const entries = await this.store.list<NodeRecord>(NS, { validate: checkRecord });
    const out: NodeView[] = [];
    for (const { value: r } of entries) {
      const ageMs = Math.max(0, now - r.heartbeatAt);
      if (ageMs > FORGET_MS && r.id !== this.nodeId) {
        await this.store.delete(NS, r.id).catch(() => {});
        continue;
      }
      const status = r.phase === 'stopped' ? 'stopped' : ageMs > MISSED_BEATS * r.heartbeatMs ? 'down' : r.phase !== 'running' ? 'draining' : 'up';
      out.push({ ...r, status, ageMs, self: r.id === this.nodeId });
    }
    out.sort((a, b) => a.id.localeCompare(b.id));
    this.last = out;
    return out;
  }

  /** The list as of the last heartbeat (the dashboard reads this: no store call). */
  snapshot(): NodeView[] {
    const now = this.clock.now();
    return this.last.map((v) => {
      const ageMs = Math.max(0, now - v.heartbeatAt);
      const status = v.status === 'stopped' ? 'stopped' : ageMs > MISSED_BEATS * v.heartbeatMs ? 'down' : v.status === 'down' ? 'up' : v.status;
      return { ...v, ageMs, status };
    });
  }

  /**
   * Asks node `id` to drain (this node drains itself directly). Refused for an unknown node (404)
   * and for one that is down or stopped (409): nobody would act on the request.
   */
  async requestDrain(id: string, reason: string, by: string): Promise<DrainRequestResult> {
    const nodes = await this.list();
    const n = nodes.find((x) => x.id === id);
    if (!n) return { ok: false, status: 404, error: `unknown node "${id}"; GET /admin/nodes lists them` };
    if (n.status === 'down' || n.status === 'stopped') return { ok: false, status: 409, error: `node "${id}" is ${n.status} (last heartbeat ${Math.round(n.ageMs / 1000)} s ago): nobody would act on a drain request` };
    if (n.self) {
      this.source.drain(reason);
      return { ok: true, node: n };
    }
    if (!this.store.publish) return { ok: false, status: 409, error: 'the store has no pub/sub: drain that node through its own ops API' };
    const req: DrainRequest = { op: 'drain', node: id, reason, by: `${by} on ${this.nodeId}`, from: this.origin };
    await this.store.publish(CHANNEL, JSON.stringify(req));
    this.log.info({ node: id, reason, by: req.by }, 'asked another node to drain');
    return { ok: true, node: n };
  }

  private receive(m: string): void {
    const a = parse(m);
    if (typeof a === 'string') {
      this.log.warn({ channel: CHANNEL, problem: a }, 'dropped a malformed drain request from the store');
      return;
    }
    if (a.node !== this.nodeId || this.stopped) return;
    this.log.warn({ node: this.nodeId, reason: a.reason, by: a.by }, 'draining: requested by another node');
    this.source.drain(a.reason || `drain requested by ${a.by}`);
  }

  /** Stops the heartbeats and writes the final record (`stopped`). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.();
    await this.store.set(NS, this.nodeId, this.record('stopped')).catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not write the final membership record; other nodes will show this node down'));
  }
}
