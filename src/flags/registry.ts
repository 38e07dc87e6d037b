/**
 * The feature flag registry: flags persisted in the store (namespace `flags`, one record a flag),
 * loaded at start, changed at run time (admin API, CLI, dashboard), every change audited
 * (namespace `flag-audit`, the last `auditLimit` records) and published on the `flagChange`
 * channel (metrics, alerts). On a shared store (Redis) a change is announced on the pub/sub
 * channel `flags`, and every other node reloads that flag from the store and applies it.
 *
 * A change of a flag's cohort tells exactly the 2025 sessions whose view of a gated entry changed
 * (`notifications/tools/list_changed`, resp. resources, prompts): each live session's answer is
 * computed before and after. 2026 listeners carry no stable client identity: each is told.
 */
import { randomBytes } from 'node:crypto';
import { events } from '../events/index.js';
import type { FlagEvaluator, FlagSubject } from '../server/context.js';
import type { ListKind } from '../server/fanout.js';
import type { IncomingRequest } from '../server/incoming.js';
import type { McpServer } from '../server/server.js';
import type { Session } from '../server/session.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { applyInput, checkFlagName, evaluateFlag, parseStored, summary, type Flag, type FlagInput, type FlagReason } from './model.js';
import { FlagStage } from './stage.js';

const NS = 'flags';
const AUDIT_NS = 'flag-audit';
const CHANNEL = 'flags';
const MAX_MESSAGE = 4096;

/** One audit record: who changed which flag when, from what to what. */
export interface FlagAuditRecord {
  at: number;
  flag: string;
  by: string;
  action: 'set' | 'delete';
  from: Flag | null;
  to: Flag | null;
  /** The node that made the change (shared stores). */
  node?: string;
  /** Why (a rollout's rollback names the metric and its values). */
  reason?: string;
}

export interface FlagRegistryOptions {
  /** Flags seeded into the store when absent (the `flags` config section). */
  initial?: Record<string, FlagInput>;
  /** Audit records kept. Default 500. */
  auditLimit?: number;
  /** This node's id (named in audit records and announcements). */
  nodeId?: string;
}

/** The flags of one runtime (see the module comment). */
export class FlagRegistry implements FlagEvaluator {
  private readonly flags = new Map<string, Flag>();
  private readonly origin = randomBytes(6).toString('hex');
  private server: McpServer | undefined;
  private stage: FlagStage | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly auditLimit: number;
  private auditSeq = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: FlagRegistryOptions = {},
  ) {
    this.auditLimit = opts.auditLimit ?? 500;
  }

  /** Installs the `flags` admission stage on `server` and answers its `ctx.flag()`. */
  attach(server: McpServer): void {
    this.server = server;
    this.stage = new FlagStage(server.lists, this);
    server.use(this.stage);
    server.flags = this;
  }

  /** Loads the stored flags, seeds the configured ones that are absent, subscribes to other nodes' changes. */
  async start(): Promise<void> {
    for (const e of await this.store.list<unknown>(NS)) {
      const f = parseStored(e.key, e.value);
      if (f === null) this.log.warn({ flag: e.key }, 'ignoring a stored feature flag that is not one');
      else {
        this.flags.set(f.name, f);
        if (events.flagChange.hasSubscribers) events.flagChange.publish({ flag: f.name, by: f.updatedBy, at: f.updatedAt, from: null, to: summary(f), remote: false, loaded: true });
      }
    }
    for (const [name, input] of Object.entries(this.opts.initial ?? {})) {
      if (!this.flags.has(name)) await this.set(name, input, 'config');
    }
    if (this.store.shared && this.store.subscribe) this.unsubscribe = await this.store.subscribe(CHANNEL, (m) => void this.receive(m));
  }

  async stop(): Promise<void> {
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.();
    await this.writes.catch(() => undefined);
  }

  /** Every flag, by name. */
  list(): Flag[] {
    return [...this.flags.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Flag | undefined {
    return this.flags.get(name);
  }

  isEnabled(name: string, subject: FlagSubject): boolean {
    const f = this.flags.get(name);
    return f !== undefined && evaluateFlag(f, subject)[0];
  }

  /** Who `req` is, for a flag (undefined before attach()). */
  subjectOf(req: IncomingRequest): FlagSubject | undefined {
    return this.stage?.subjectOf(req);
  }

  /** The answer and its reason, or undefined for an unknown flag. */
  evaluate(name: string, subject: FlagSubject): [boolean, FlagReason] | undefined {
    const f = this.flags.get(name);
    return f === undefined ? undefined : evaluateFlag(f, subject);
  }

  /**
   * Creates or changes flag `name` (a partial update: what `input` leaves out stays), persists
   * it, audits it, announces it. Throws ANDON_FLAG_INVALID on a malformed input.
   */
  set(name: string, input: FlagInput, by: string, reason?: string): Promise<Flag> {
    return this.serial(async () => {
      const old = this.flags.get(name);
      const next = applyInput(name, old, input, by, this.clock.now());
      await this.store.set(NS, name, next);
      await this.record({ at: next.updatedAt, flag: name, by, action: 'set', from: old ?? null, to: next, ...(reason !== undefined ? { reason } : {}) });
      this.applied(name, old, next, by, false);
      this.announce(name, by);
      return next;
    });
  }

  /** Deletes flag `name` (entries gated by it are hidden from everyone); false when it did not exist. */
  remove(name: string, by: string): Promise<boolean> {
    return this.serial(async () => {
      checkFlagName(name);
      const old = this.flags.get(name);
      if (old === undefined) return false;
      await this.store.delete(NS, name);
      await this.record({ at: this.clock.now(), flag: name, by, action: 'delete', from: old, to: null });
      this.applied(name, old, undefined, by, false);
      this.announce(name, by);
      return true;
    });
  }

  /** The last `limit` audit records (default all kept), oldest first; `flag` filters by flag. */
  async audit(limit = this.auditLimit, flag?: string): Promise<FlagAuditRecord[]> {
    // Keys sort by time, then by this process's sequence (src: record()).
    const entries = (await this.store.list<FlagAuditRecord>(AUDIT_NS)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let all = entries.map((e) => e.value).filter((r) => r !== null && typeof r === 'object' && typeof r.flag === 'string');
    if (flag !== undefined) all = all.filter((r) => r.flag === flag);
    return all.slice(-limit);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.writes.then(fn, fn);
    this.writes = p.catch(() => undefined);
    return p;
  }

  private async record(r: FlagAuditRecord): Promise<void> {
    if (this.opts.nodeId !== undefined) r.node = this.opts.nodeId;
    const key = `${String(r.at).padStart(15, '0')}-${String(++this.auditSeq).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
    await this.store.set(AUDIT_NS, key, r);
    // Bounded: drop the oldest beyond the limit.
    const entries = await this.store.list<FlagAuditRecord>(AUDIT_NS);
    if (entries.length <= this.auditLimit) return;
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const e of entries.slice(0, entries.length - this.auditLimit)) await this.store.delete(AUDIT_NS, e.key);
  }

  /** Applies a change here: the map, the event, the sessions whose view changed. */
  private applied(name: string, old: Flag | undefined, next: Flag | undefined, by: string, remote: boolean): void {
    if (next === undefined) this.flags.delete(name);
    else this.flags.set(name, next);
    this.log.info({ flag: name, by, from: summary(old), to: summary(next), remote }, next === undefined ? 'feature flag deleted' : 'feature flag changed');
    if (events.flagChange.hasSubscribers) events.flagChange.publish({ flag: name, by, at: next?.updatedAt ?? this.clock.now(), from: summary(old), to: summary(next), remote });
    this.notify(name, old, next);
  }

  /** Sends list_changed to the sessions whose view of an entry gated by `name` changed. */
  private notify(name: string, old: Flag | undefined, next: Flag | undefined): void {
    const server = this.server;
    const stage = this.stage;
    if (server === undefined || stage === undefined) return;
    const l = server.lists;
    const kinds = new Set<ListKind>();
    for (const t of l.tools.values()) if (t.options.flag === name) kinds.add('tools');
    for (const p of l.prompts.values()) if (p.options.flag === name) kinds.add('prompts');
    for (const r of l.resources.values()) if (r.options.flag === name) kinds.add('resources');
    for (const t of l.templates) if (t.options.flag === name) kinds.add('resources');
    if (kinds.size === 0) return;
    const changed: Session[] = [];
    for (const s of server.fanout.sessions) {
      const subject = stage.sessionSubject(s);
      const before = old !== undefined && evaluateFlag(old, subject)[0];
      const after = next !== undefined && evaluateFlag(next, subject)[0];
      if (before !== after) changed.push(s);
    }
    for (const kind of kinds) server.fanout.listChangedFor(kind, changed);
  }

  private announce(name: string, by: string): void {
    if (!this.store.shared || !this.store.publish) return;
    const msg = JSON.stringify({ flag: name, by: this.opts.nodeId !== undefined ? `${by} on ${this.opts.nodeId}` : by, from: this.origin });
    this.store.publish(CHANNEL, msg).catch((err: unknown) => this.log.error({ flag: name, err: String(err) }, 'could not announce a feature flag change to the other nodes; they load it at their next start'));
  }

  /** Another node changed a flag: reload it from the store (the message itself is not trusted with the value). */
  private async receive(m: string): Promise<void> {
    let a: { flag?: unknown; by?: unknown; from?: unknown };
    try {
      if (m.length > MAX_MESSAGE) throw new Error('too long');
      a = JSON.parse(m) as typeof a;
      if (a === null || typeof a !== 'object' || typeof a.flag !== 'string' || typeof a.by !== 'string' || typeof a.from !== 'string') throw new Error('not an announcement');
      checkFlagName(a.flag);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'dropping a malformed feature flag announcement');
      return;
    }
    if (a.from === this.origin) return;
    const name = a.flag as string;
    const by = a.by as string;
    await this.serial(async () => {
      const v = await this.store.get<unknown>(NS, name);
      const next = v === undefined ? undefined : (parseStored(name, v) ?? undefined);
      const old = this.flags.get(name);
      if (old === undefined && next === undefined) return;
      this.applied(name, old, next, by, true);
    });
  }
}
