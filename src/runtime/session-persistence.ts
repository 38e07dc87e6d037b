/**
 * Persistence of 2025 HTTP sessions across restarts. Sessions live in 64 buckets (one store key
 * each); a bucket is written when one of its sessions changes (by the runtime's flush) and at once,
 * durably, when a session is acknowledged (`initialize` answered): a client that has its session id
 * keeps it across a kill -9. Each record is serialised on its own, so one record that cannot be
 * serialised (or parsed back) is skipped and logged and never takes its bucket's other sessions with it.
 *
 * On a store shared by several nodes (Redis), a bucket written by one node would erase the
 * sessions another node put in it: there every session is its own key (its id), and a node that
 * is asked for a session it does not hold looks it up ({@link SessionPersistence.loadOne}).
 */
import { Session } from '../server/session.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from '../server/types.js';
import { checkSessionRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
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

/** Store namespace of the session buckets. */
export const SESSIONS_NS = 'sessions';
const BUCKETS = 64;

/** The bucket (store key) of a session id. */
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

/** Keeps the store's session buckets in step with the live sessions. */
export class SessionPersistence {
  private readonly byBucket = new Map<string, Map<string, Session>>();
  private readonly dirty = new Set<string>();
  private readonly writers = new Map<string, GroupCommit>();
  /** Off once shutdown starts: closing the transport must not erase the sessions we keep. */
  private active = true;

  /** One key per session (a shared store) instead of 64 buckets. */
  private readonly perSession: boolean;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.perSession = store.shared === true;
  }

  /** The store key holding session `id`. */
  private keyOf(id: string): string {
    return this.perSession ? id : bucketOf(id);
  }

  /** The server observer's session callback: marks the session's bucket for the next flush. */
  changed(s: Session, change: 'open' | 'update' | 'close'): void {
    if (!this.active || s.transport !== 'http') return;
    const b = this.keyOf(s.id);
    let m = this.byBucket.get(b);
    if (!m) this.byBucket.set(b, (m = new Map()));
    // Registered after persistNow() already wrote it durably: nothing new to write.
    if (change === 'open' && m.get(s.id) === s) return;
    // Shared store: a node letting its copy go (idle sweep, shutdown) must not erase the record
    // other nodes serve; only the client's DELETE does (persistDeletion), or the stale-state prune.
    if (change === 'close' && this.perSession) {
      m.delete(s.id);
      return;
    }
    if (change === 'close') m.delete(s.id);
    else m.set(s.id, s);
    this.dirty.add(b);
  }

  /** Writes the session's bucket durably now (an acknowledged session must survive a kill -9). */
  persistNow(s: Session): Promise<void> {
    if (!this.active || s.transport !== 'http') return Promise.resolve();
    const b = this.keyOf(s.id);
    let m = this.byBucket.get(b);
    if (!m) this.byBucket.set(b, (m = new Map()));
    m.set(s.id, s);
    return this.writer(b).commit();
  }

  /**
   * Writes the bucket of a session the client deleted durably now (before the DELETE is answered).
   * On failure the bucket stays dirty, so the next flush retries.
   */
  persistDeletion(s: Session): Promise<void> {
    if (!this.active || s.transport !== 'http') return Promise.resolve();
    const b = this.keyOf(s.id);
    this.byBucket.get(b)?.delete(s.id);
    return this.writer(b)
      .commit()
      .catch((err: unknown) => {
        this.dirty.add(b);
        throw err;
      });
  }

  /** Writes every dirty bucket. Failures are logged (the next change retries). */
  async flush(): Promise<void> {
    const buckets = [...this.dirty];
    this.dirty.clear();
    const results = await Promise.allSettled(buckets.map((b) => this.writer(b).commit()));
    for (const r of results) if (r.status === 'rejected') this.log.error({ err: String(r.reason) }, 'failed to persist sessions');
  }

  /** Stops tracking changes (shutdown: closing the transport must not delete the kept sessions). */
  stop(): void {
    this.active = false;
  }

  /** Resolves when every started write has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.settled()));
  }

  /** Reads every saved session record; a record that fails to parse is skipped and logged. */
  async load(): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for (const e of await this.store.list<Record<string, string | SessionRecord>>(SESSIONS_NS)) {
      if (!e.value || typeof e.value !== 'object') continue;
      for (const [id, raw] of Object.entries(e.value)) {
        try {
          // Records are JSON strings each; plain objects are the format before per-record encoding.
          const rec = (typeof raw === 'string' ? JSON.parse(raw) : raw) as SessionRecord;
          const problem = checkSessionRecord(rec);
          if (problem) throw new Error(`not a session record: ${problem}`);
          out.push(rec);
        } catch (err) {
          this.log.error({ session: id, bucket: e.key, err: String(err) }, 'skipped an unreadable saved session');
        }
      }
    }
    return out;
  }

  /** Recreates the saved sessions in `target` (the HTTP handler); returns how many. */
  async restoreInto(target: { restoreSession(s: Session): void }): Promise<number> {
    let n = 0;
    for (const rec of await this.load()) {
      target.restoreSession(this.revive(rec));
      n++;
    }
    return n;
  }

  /**
   * The saved session `id`, revived (and tracked), or undefined when the store has none: a shared
   * store's node serving a session another node created. A record that cannot be read is logged
   * and treated as absent.
   */
  async loadOne(id: string): Promise<Session | undefined> {
    const value = await this.store.get<Record<string, string | SessionRecord>>(SESSIONS_NS, this.keyOf(id));
    const raw = value && typeof value === 'object' ? value[id] : undefined;
    if (raw === undefined) return undefined;
    try {
      const rec = (typeof raw === 'string' ? JSON.parse(raw) : raw) as SessionRecord;
      const problem = checkSessionRecord(rec);
      if (problem) throw new Error(`not a session record: ${problem}`);
      if (rec.id !== id) throw new Error(`record of ${rec.id} stored under ${id}`);
      return this.revive(rec);
    } catch (err) {
      this.log.error({ session: id, err: String(err) }, 'skipped an unreadable saved session');
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
    // Known before the transport registers it, so registering does not rewrite the bucket.
    const b = this.keyOf(s.id);
    let m = this.byBucket.get(b);
    if (!m) this.byBucket.set(b, (m = new Map()));
    m.set(s.id, s);
    return s;
  }

  private writer(b: string): GroupCommit {
    let w = this.writers.get(b);
    if (!w) this.writers.set(b, (w = new GroupCommit(() => this.writeBucket(b))));
    return w;
  }

  private async writeBucket(b: string): Promise<void> {
    const value: Record<string, string> = {};
    let n = 0;
    for (const s of this.byBucket.get(b)?.values() ?? []) {
      if (s.closed) continue;
      try {
        value[s.id] = JSON.stringify(sessionRecord(s));
        n++;
      } catch (err) {
        // e.g. capabilities nested too deep for JSON.stringify: this session is not kept, the others are.
        this.log.error({ session: s.id, err: String(err) }, 'a session record cannot be serialised; it is not persisted');
      }
    }
    await (n ? this.store.set(SESSIONS_NS, b, value) : this.store.delete(SESSIONS_NS, b));
  }
}
