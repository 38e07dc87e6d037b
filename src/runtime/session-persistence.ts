/**
 * Persistence of 2025 HTTP sessions across restarts.
 *
 * On the embedded file store the sessions live in one append-only log (`sessions/sessions.lines`,
 * src/store/line-log.ts): a change appends the session's record (or a deletion mark), and an
 * acknowledgement — `initialize`, `resources/(un)subscribe` answered, a DELETE answered — waits
 * until its line is fsynced. Concurrent acknowledgements share one append and one fsync (group
 * commit), and the cost of one does not depend on how many sessions are held. When the log has
 * grown past twice the live sessions (plus 1,024 lines) it is rewritten with only the live records
 * (compaction, amortised O(1) per change), and once at every start. A start also reads the 64
 * bucket files of the format before the log (`sessions/<0-63>.json`), migrates them into the log
 * and deletes them. Records not active for `staleMs` are dropped at start (the buckets' age prune).
 *
 * On a store shared by several nodes (Redis) — and on any store without a record log (the memory
 * store) — every session is its own key (its id): a node that is asked for a session it does not
 * hold looks it up ({@link SessionPersistence.loadOne}).
 *
 * Each record is serialised on its own, so one record that cannot be serialised (or parsed back)
 * is skipped and logged and never takes the other sessions with it.
 */
import { Session } from '../server/session.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from '../server/types.js';
import { checkSessionRecord } from '../store/records.js';
import type { LineLog, Store } from '../store/store.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { GroupCommit } from './group-commit.js';

/** What is kept of a session. */
export interface SessionRecord {
  id: string;
  protocolVersion: string;
  clientInfo?: Implementation;
  clientCapabilities: ClientCapabilities;
  logLevel?: LoggingLevel;
  subscriptions: string[];
  lastActivity: number;
}

/** Store namespace of the sessions (keys, old buckets, and the log). */
export const SESSIONS_NS = 'sessions';
/** Name of the session log in {@link SESSIONS_NS}. */
export const SESSIONS_LOG = 'sessions';
const BUCKETS = 64;
/** The log is compacted when it holds more than 2 × live sessions + this many lines. */
const COMPACT_SLACK = 1024;

/** The bucket (store key) of a session id in the format before the session log (read at migration). */
export function bucketOf(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return String(h % BUCKETS);
}

/** The record of a live session. */
export function sessionRecord(s: Session): SessionRecord {
  const r: SessionRecord = { id: s.id, protocolVersion: s.protocolVersion, clientCapabilities: s.clientCapabilities, subscriptions: [...s.subscriptions], lastActivity: s.lastActivity };
  if (s.clientInfo) r.clientInfo = s.clientInfo;
  if (s.logLevel) r.logLevel = s.logLevel;
  return r;
}

/** A record read back: checked, or an error naming what is wrong. */
function parseRecord(raw: unknown): SessionRecord {
  const rec = (typeof raw === 'string' ? JSON.parse(raw) : raw) as SessionRecord;
  const problem = checkSessionRecord(rec);
  if (problem) throw new Error(`not a session record: ${problem}`);
  return rec;
}

export interface SessionPersistenceOptions {
  /** For the stale cutoff at start. Default the system clock. */
  clock?: Clock;
  /** Records not active for this long are dropped at start (log only; keys age out by the store's prune). Default 7 days. */
  staleMs?: number;
}

/** Keeps the store's session records in step with the live sessions. */
export class SessionPersistence {
  /** Live tracked sessions (log: the state a compaction writes; keys: what each key holds). */
  private readonly tracked = new Map<string, Session>();
  /** Keys mode: sessions whose key must be written (or deleted) at the next flush. */
  private readonly dirty = new Set<string>();
  private readonly writers = new Map<string, GroupCommit>();
  /** Log mode: changes not yet appended (a session to write, or null: its deletion). */
  private pending = new Map<string, Session | null>();
  /** Log mode: lines in the log since it was last rewritten. */
  private lines = 0;
  /** Log mode: the next write rewrites the whole log (an append failed, or the start's compaction did). */
  private mustCompact = false;
  /**
   * Log mode: ids of old-format buckets that could not be deleted after the migration. While they
   * exist, a compaction keeps a deletion line for each that is not live, or the next start would
   * bring it back from its bucket.
   */
  private readonly leftover = new Set<string>();
  /** Off once shutdown starts: closing the transport must not erase the sessions we keep. */
  private active = true;

  /** The session log (embedded store), or undefined: one key per session. */
  private readonly log: LineLog | undefined;
  private readonly shared: boolean;
  private readonly clock: Clock;
  private readonly staleMs: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    options: SessionPersistenceOptions = {},
  ) {
    this.shared = store.shared === true;
    this.log = this.shared ? undefined : store.lineLog?.(SESSIONS_NS, SESSIONS_LOG);
    this.clock = options.clock ?? systemClock;
    this.staleMs = options.staleMs ?? 7 * 24 * 3_600_000;
  }

  /** The server observer's session callback: marks the session for the next flush. */
  changed(s: Session, change: 'open' | 'update' | 'close'): void {
    if (!this.active || s.transport !== 'http') return;
    // Registered after persistNow() already wrote it durably: nothing new to write.
    if (change === 'open' && this.tracked.get(s.id) === s) return;
    if (change === 'close') {
      if (!this.tracked.delete(s.id)) return;
      // Shared store: a node letting its copy go (idle sweep, shutdown) must not erase the record
      // other nodes serve; only the client's DELETE does (persistDeletion), or the stale-state prune.
      if (this.shared) return;
      this.mark(s.id, null);
      return;
    }
    this.tracked.set(s.id, s);
    this.mark(s.id, s);
  }

  /** Writes the session's record durably now (an acknowledged session must survive a kill -9). */
  persistNow(s: Session): Promise<void> {
    if (!this.active || s.transport !== 'http') return Promise.resolve();
    this.tracked.set(s.id, s);
    if (this.log) {
      this.pending.set(s.id, s);
      return this.writer(SESSIONS_LOG).commit();
    }
    return this.commitKey(s.id);
  }

  /**
   * Writes the deletion of a session the client deleted durably now (before the DELETE is
   * answered). On failure the change is retried by the next flush.
   */
  persistDeletion(s: Session): Promise<void> {
    if (!this.active || s.transport !== 'http') return Promise.resolve();
    this.tracked.delete(s.id);
    if (this.log) {
      this.pending.set(s.id, null);
      return this.writer(SESSIONS_LOG).commit();
    }
    return this.commitKey(s.id).catch((err: unknown) => {
      this.dirty.add(s.id);
      throw err;
    });
  }

  /** Writes every pending change (log: one append). Failures are logged (the next flush retries). */
  async flush(): Promise<void> {
    let keys: string[];
    if (this.log) keys = this.pending.size || this.mustCompact ? [SESSIONS_LOG] : [];
    else {
      keys = [...this.dirty];
      this.dirty.clear();
    }
    const results = await Promise.allSettled(keys.map((k) => (this.log ? this.writer(k).commit() : this.commitKey(k))));
    for (const r of results) if (r.status === 'rejected') this.logger.error({ err: String(r.reason) }, 'failed to persist sessions');
  }

  /** Stops tracking changes (shutdown: closing the transport must not delete the kept sessions). */
  stop(): void {
    this.active = false;
  }

  /** Resolves when every started write has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.settled()));
  }

  /** Reads every saved session record (keys or old buckets, then the log); a bad record is skipped and logged. */
  async load(): Promise<SessionRecord[]> {
    return [...(await this.read()).records.values()];
  }

  private async read(): Promise<{ records: Map<string, SessionRecord>; buckets: Map<string, string[]> }> {
    const records = new Map<string, SessionRecord>();
    const buckets = new Map<string, string[]>();
    for (const e of await this.store.list<Record<string, string | SessionRecord>>(SESSIONS_NS)) {
      if (!e.value || typeof e.value !== 'object') continue;
      buckets.set(e.key, Object.keys(e.value));
      for (const [id, raw] of Object.entries(e.value)) {
        try {
          // Records are JSON strings each; plain objects are the format before per-record encoding.
          const rec = parseRecord(raw);
          records.set(rec.id, rec);
        } catch (err) {
          this.logger.error({ session: id, bucket: e.key, err: String(err) }, 'skipped an unreadable saved session');
        }
      }
    }
    if (!this.log) return { records, buckets };
    const { lines, skipped, reasons } = await this.log.read();
    if (skipped) this.logger.error({ skipped, reasons }, 'skipped damaged lines of the session log (torn by a crash during an append, or edited)');
    for (const [i, line] of lines.entries()) {
      try {
        const v = JSON.parse(line) as { del?: unknown };
        if (v && typeof v === 'object' && 'del' in v) {
          if (typeof v.del !== 'string') throw new Error('deletion mark without a session id');
          records.delete(v.del);
          continue;
        }
        const rec = parseRecord(v);
        records.set(rec.id, rec);
      } catch (err) {
        this.logger.error({ record: i + 1, err: String(err) }, 'skipped an unreadable saved session');
      }
    }
    const cutoff = this.clock.now() - this.staleMs;
    for (const [id, rec] of records) if (typeof rec.lastActivity === 'number' && rec.lastActivity < cutoff) records.delete(id);
    return { records, buckets };
  }

  /**
   * Recreates the saved sessions in `target` (the HTTP handler); returns how many. On the log it
   * then rewrites the log with them (compaction) and deletes the old-format buckets it migrated.
   */
  async restoreInto(target: { restoreSession(s: Session): void }): Promise<number> {
    const { records, buckets } = await this.read();
    let n = 0;
    for (const rec of records.values()) {
      target.restoreSession(this.revive(rec));
      n++;
    }
    if (!this.log) return n;
    this.mustCompact = true;
    for (const ids of buckets.values()) for (const id of ids) this.leftover.add(id);
    try {
      await this.writer(SESSIONS_LOG).commit();
    } catch (err) {
      // The log and the buckets still hold them; the next write (or start) compacts again.
      this.logger.error({ err: String(err) }, 'failed to compact the session log at start');
      return n;
    }
    let left = 0;
    for (const [b, ids] of buckets) {
      try {
        await this.store.delete(SESSIONS_NS, b);
        for (const id of ids) this.leftover.delete(id);
      } catch (err) {
        left++;
        this.logger.error({ bucket: b, err: String(err) }, 'could not delete a migrated session bucket; its sessions stay marked in the log');
      }
    }
    // An id in a bucket still on disk that also sits in a deleted one is marked anyway: harmless.
    if (buckets.size) this.logger.info({ sessions: n, buckets: buckets.size - left }, 'migrated saved sessions from buckets to the session log');
    return n;
  }

  /**
   * The saved session `id`, revived (and tracked), or undefined when the store has none: a shared
   * store's node serving a session another node created. A record that cannot be read is logged
   * and treated as absent.
   */
  async loadOne(id: string): Promise<Session | undefined> {
    if (this.log) return undefined;
    const value = await this.store.get<Record<string, string | SessionRecord>>(SESSIONS_NS, id);
    const raw = value && typeof value === 'object' ? value[id] : undefined;
    if (raw === undefined) return undefined;
    try {
      const rec = parseRecord(raw);
      if (rec.id !== id) throw new Error(`record of ${rec.id} stored under ${id}`);
      return this.revive(rec);
    } catch (err) {
      this.logger.error({ session: id, err: String(err) }, 'skipped an unreadable saved session');
      return undefined;
    }
  }

  private revive(rec: SessionRecord): Session {
    const s = new Session(rec.id);
    s.protocolVersion = rec.protocolVersion;
    s.clientInfo = rec.clientInfo;
    s.clientCapabilities = rec.clientCapabilities ?? {};
    s.logLevel = rec.logLevel;
    for (const u of rec.subscriptions) if (typeof u === 'string') s.subscriptions.add(u);
    // Known before the transport registers it, so registering does not write it again.
    this.tracked.set(s.id, s);
    return s;
  }

  private mark(id: string, s: Session | null): void {
    if (this.log) this.pending.set(id, s);
    else this.dirty.add(id);
  }

  /** Writers held: the log's, or one per session being written (dropped once idle). */
  get writersHeld(): number {
    return this.writers.size;
  }

  /**
   * One key per session (shared and memory stores): commits that session's key. Its writer is
   * dropped once idle, so the map holds the sessions being written, not every session ever seen.
   */
  private commitKey(key: string): Promise<void> {
    const w = this.writer(key);
    const p = w.commit();
    void p
      .catch(() => {})
      .then(() => w.settled())
      .then(() => {
        if (w.idle && this.writers.get(key) === w) this.writers.delete(key);
      });
    return p;
  }

  private writer(key: string): GroupCommit {
    let w = this.writers.get(key);
    if (!w) this.writers.set(key, (w = new GroupCommit(() => (this.log ? this.writeLog(this.log) : this.writeKey(key)))));
    return w;
  }

  /** The line of a session, or undefined (logged) when it cannot be serialised. */
  private encode(s: Session): string | undefined {
    try {
      return JSON.stringify(sessionRecord(s));
    } catch (err) {
      // e.g. capabilities nested too deep for JSON.stringify: this session is not kept, the others are.
      this.logger.error({ session: s.id, err: String(err) }, 'a session record cannot be serialised; it is not persisted');
      return undefined;
    }
  }

  private async writeLog(log: LineLog): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    if (this.mustCompact || this.lines + batch.size > 2 * this.tracked.size + COMPACT_SLACK) {
      const out: string[] = [];
      for (const s of this.tracked.values()) {
        const line = s.closed ? undefined : this.encode(s);
        if (line !== undefined) out.push(line);
      }
      for (const id of this.leftover) if (!this.tracked.has(id)) out.push(JSON.stringify({ del: id }));
      this.mustCompact = true;
      await log.rewrite(out);
      this.mustCompact = false;
      this.lines = out.length;
      return;
    }
    const out: string[] = [];
    for (const [id, s] of batch) {
      const line = s && !s.closed ? this.encode(s) : undefined;
      // A session that cannot be serialised is written as deleted: its older record must not come back.
      out.push(line ?? JSON.stringify({ del: id }));
    }
    try {
      await log.append(out);
      this.lines += out.length;
    } catch (err) {
      // What was appended is unknown: the next write rewrites the whole state.
      this.mustCompact = true;
      throw err;
    }
  }

  private async writeKey(id: string): Promise<void> {
    const s = this.tracked.get(id);
    const line = s && !s.closed ? this.encode(s) : undefined;
    await (line !== undefined ? this.store.set(SESSIONS_NS, id, { [id]: line }) : this.store.delete(SESSIONS_NS, id));
  }
}
