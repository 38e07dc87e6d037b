/**
 * The exactly-once journal of 2025 `tools/call` requests (HTTP sessions).
 *
 * - Before a side-effecting handler starts, its record (session, request id, tool) is durable:
 *   write-ahead, with group commit so concurrent calls share one store write and fsync.
 * - Before its response is sent, the outcome is durable with the request id, so a retry of that
 *   id (after a kill -9 too) is answered from the record and never runs the tool again.
 * - Read-only tools (`annotations.readOnlyHint`) are not journaled; idempotent tools
 *   (`idempotent: true`) skip the write-ahead record: a retry of an interrupted idempotent call
 *   runs it again (its one replay), a completed one is answered from the record.
 * - At start, records of calls that never finished become an `ANDON_INTERRUPTED` (-32001) answer
 *   for their id. Completed outcomes are kept `retainMs`, at most `maxCompleted`.
 *
 * Storage (details: docs/architecture.md, docs/cluster.md). File store: an append-only line log
 * (`journal/log.lines`, src/store/line-log.ts): each group commit appends the records it covers
 * (`{"gone":…}` for retired ones) with one fsync; compacted past max(2 × live, `compactBytes`) and
 * at restart; the latest line of a record wins; torn or bad lines are skipped and logged; the
 * one-key journal of earlier versions is read once. Memory store: one key, rewritten per commit.
 * Redis: each record its own key under the node's (`log-<node>:<record>`), written when it
 * changes; a node reads every node's records at start and when it adopts a session ({@link Journal.adopt}).
 */
import type { IncomingRequest } from '../server/incoming.js';
import type { McpServer } from '../server/server.js';
import type { Session } from '../server/session.js';
import type { JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
import type { LineLog, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { randomBytes } from 'node:crypto';
import { releaseLost } from './claim-release.js';
import { GroupCommit } from './group-commit.js';
import { interruptedResponse, keyOf, latest, strip, type Stored } from './journal-lines.js';

/** Store namespace and key of the journal. */
export const JOURNAL_NS = 'journal';
export const JOURNAL_KEY = 'log';

interface Entry extends Stored {
  json: string;
  session?: Session;
  /** What {@link Journal.put} counted for it (completed? bytes), taken back by {@link Journal.drop}. */
  counted?: { done: boolean; bytes: number };
}

/** Options of {@link Journal}. */
export interface JournalOptions {
  /** How long a completed outcome is kept for retries. Default 10 minutes. */
  retainMs?: number;
  /** At most this many completed outcomes are kept (oldest first out). Default 1000. */
  maxCompleted?: number;
  /** At most this many bytes of serialised records (what a rewrite of the journal writes). Default 8 MiB. */
  maxBytes?: number;
  /** File store: the line log is rewritten when larger than this and twice its live records. Default 2 MiB. */
  compactBytes?: number;
}

/** Bytes a line log adds to each line (checksum, space, newline). */
const LINE_OVERHEAD = 18;

/** A retried id another node answered already: its recorded response is the answer here too. */
export class RecordedAnswer extends Error {
  constructor(readonly response: JsonRpcResponse) {
    super('answered from the journal');
  }
}

/**
 * Shared store: whether the process writing journal key `writer` is alive (`true`), dead (`false`),
 * or unknown (`undefined`); `since` is when its unfinished record was written. The runtime answers
 * from the membership records (src/runtime/cluster-members.ts); a store error rejects.
 */
export type WriterAlive = (writer: string, since: number) => Promise<boolean | undefined>;

/** The journal; wired into the server's before-dispatch hook and its settle observer. */
export class Journal {
  private readonly entries = new Map<string, Entry>();
  private readonly writer = new GroupCommit(() => this.write());
  private readonly retainMs: number;
  private readonly maxCompleted: number;
  private readonly maxBytes: number;
  /** This node's store key: the shared key, or one per node process on a shared store. */
  private readonly key: string;
  /** Shared store: one store key per record; the records changed or pruned since the last write. */
  private readonly perRecord: boolean;
  private readonly dirty = new Set<string>();
  /** Shared store: record writes not yet acknowledged. */
  private readonly inflight = new Set<Promise<void>>();
  /** File store: the append-only line log (the dirty records are appended at each write). */
  private readonly file: LineLog | undefined;
  private readonly compactBytes: number;
  /** File store: the next write rewrites the log (after a restart); then the one-key journal of earlier versions is deleted. */
  private compactNext = false;
  private legacy = false;
  /** Shared store: asked before another node's unfinished record becomes ANDON_INTERRUPTED (set by the runtime). */
  writerAlive: WriterAlive | undefined;

  constructor(
    private readonly server: McpServer,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: JournalOptions = {},
  ) {
    this.retainMs = options.retainMs ?? 10 * 60_000;
    this.maxCompleted = options.maxCompleted ?? 1000;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.key = store.shared === true ? `${JOURNAL_KEY}-${randomBytes(6).toString('hex')}` : JOURNAL_KEY;
    this.perRecord = store.shared === true;
    this.file = store.shared === true ? undefined : store.lineLog?.(JOURNAL_NS, JOURNAL_KEY);
    this.compactBytes = options.compactBytes ?? 2 * 1024 * 1024;
  }

  /** A record was added, changed or removed: the next write stores (or deletes) it (shared store). */
  private touched(key: string): void {
    if (this.perRecord || this.file) this.dirty.add(key);
  }

  /** Every stored record line: this node's key, or every node's on a shared store. */
  private async lines(): Promise<unknown[]> {
    if (this.store.shared !== true) {
      const raw = await this.store.get<unknown[]>(JOURNAL_NS, JOURNAL_KEY);
      const old = Array.isArray(raw) ? raw : [];
      if (!this.file) return old;
      const r = await this.file.read();
      if (r.skipped) {
        const torn = r.skipped === 1 && r.reasons[0]?.includes('torn last line') === true;
        this.log[torn ? 'warn' : 'error']({ skipped: r.skipped, reasons: r.reasons }, torn ? 'ignored the torn last line of the journal file (the previous process stopped during an append; that call was not acknowledged)' : 'skipped unreadable lines of the journal file');
      }
      this.legacy = raw !== undefined;
      this.compactNext = this.legacy || this.file.bytes > 0;
      return latest(old, r.lines);
    }
    return (await this.sharedLines()).lines;
  }

  /** Shared store: every node's record lines, with the journal key each was written under. */
  private async sharedLines(): Promise<{ lines: unknown[]; writers: string[] }> {
    const lines: unknown[] = [];
    const writers: string[] = [];
    for (const e of await this.store.list<unknown[]>(JOURNAL_NS)) {
      if ((e.key !== JOURNAL_KEY && !e.key.startsWith(`${JOURNAL_KEY}-`)) || !Array.isArray(e.value)) continue;
      const c = e.key.indexOf(':');
      const w = c < 0 ? e.key : e.key.slice(0, c);
      for (const l of e.value) {
        lines.push(l);
        writers.push(w);
      }
    }
    return { lines, writers };
  }

  /** This node's journal key (`log-<random>` on a shared store), named in its membership record. */
  get journalKey(): string {
    return this.key;
  }

  private claims = 0;

  /** Whether the store is shared with other nodes (request ids are claimed cluster-wide). */
  get shared(): boolean {
    return this.store.shared === true && this.store.claim !== undefined;
  }

  /** Store writes and the calls they covered (group commit batch size = commits / writes). */
  get stats(): { writes: number; commits: number; maxBatch: number } {
    return this.writer.stats;
  }

  /** Records in the journal (pending and completed). */
  get size(): number {
    return this.entries.size;
  }

  /** What the journal does for a request: nothing, only the outcome, or write-ahead and outcome. */
  mode(inc: IncomingRequest): 'none' | 'outcome' | 'write-ahead' {
    if (inc.era !== '2025' || inc.request.method !== 'tools/call' || inc.session?.transport !== 'http') return 'none';
    const name = inc.request.params?.name;
    if (typeof name !== 'string') return 'none';
    const o = this.server.toolOptions(name);
    if (!o || o.annotations?.readOnlyHint === true) return 'none';
    return o.idempotent === true ? 'outcome' : 'write-ahead';
  }

  /** Before dispatch: makes the record of a side-effecting call durable, or refuses the call. */
  begin(inc: IncomingRequest): Promise<void> | undefined {
    return this.mode(inc) === 'write-ahead' ? this.writeAhead(inc) : undefined;
  }

  private async writeAhead(inc: IncomingRequest): Promise<void> {
    const session = inc.session!;
    const key = keyOf(session.id, inc.request.id);
    const claimed = this.store.claim ? await this.claim(inc, session, key) : undefined;
    const e: Entry = { s: session.id, id: inc.request.id, tool: String(inc.request.params!.name), at: this.clock.now(), json: '', session };
    e.json = JSON.stringify(strip(e));
    this.put(key, e);
    this.touched(key);
    try {
      await this.commit();
    } catch (err) {
      this.drop(key);
      this.touched(key);
      // The call is refused: its id must stay usable for a retry.
      if (claimed) releaseLost(this.store, JOURNAL_NS, claimed.key, claimed.owner, this.clock, this.log);
      this.log.error({ err: String(err), tool: e.tool }, 'write-ahead journal record failed; the call is refused');
      throw new AndonError(RuntimeErrors.JournalFailed, `Request not run: its journal record could not be made durable (${String(err)}); retry later`, { retryAfterMs: 1000 }).toMcpError();
    }
    // Aborted while its record was being written (drain grace ran out, client cancelled): the
    // handler never starts; the outcome recorded for the id is this refusal.
    if (inc.signal.aborted) {
      const why = inc.signal.reason instanceof Error ? inc.signal.reason.message : String(inc.signal.reason);
      throw new McpError(ErrorCode.Unavailable, `Request cancelled before its tool started: ${why}`);
    }
  }

  /**
   * Shared store: the request id is claimed cluster-wide before the tool runs. A claim held by
   * another node means the id ran (or runs) there: its recorded answer is returned
   * ({@link RecordedAnswer}); while its unfinished record's writer is alive (or its liveness cannot
   * be read), ANDON_IN_PROGRESS (retryable); with no record, ANDON_INTERRUPTED — never a second run.
   */
  private async claim(inc: IncomingRequest, session: Session, key: string): Promise<{ key: string; owner: string }> {
    let mine: boolean;
    const claimKey = `${session.id}:${typeof inc.request.id}:${String(inc.request.id)}`;
    // One owner token per attempt: giving back a lost claim never drops a later attempt's claim.
    const owner = `${this.key}:${(++this.claims).toString(36)}`;
    try {
      mine = await this.store.claim!(JOURNAL_NS, claimKey, owner, this.retainMs + 60_000);
    } catch (err) {
      // Redis may still apply the claim when it wakes up: give it back, so a retry of the id can run.
      releaseLost(this.store, JOURNAL_NS, claimKey, owner, this.clock, this.log);
      throw new AndonError(RuntimeErrors.JournalFailed, `Request not run: its id could not be claimed in the shared store (${String(err)}); retry later`, { retryAfterMs: 1000 }).toMcpError();
    }
    if (mine) return { key: claimKey, owner };
    const running = new Map<string, boolean>();
    try {
      await this.adopt(session, running);
    } catch (err) {
      // The id is claimed (elsewhere, or by this node's own refused attempt whose claim is not
      // given back yet) and its record cannot be read now: refuse clearly, retryable under the
      // same id, instead of an internal error. Nothing ran here.
      throw new AndonError(RuntimeErrors.JournalFailed, `Request not run here: its id is claimed in the shared store and the journal could not be read to answer it (${String(err)}); retry later`, { retryAfterMs: 1000 }).toMcpError();
    }
    const done = session.completed?.get(inc.request.id) ?? this.entries.get(key)?.resp;
    if (done) throw new RecordedAnswer(done);
    const w = running.get(key);
    if (w !== undefined) {
      throw new AndonError(RuntimeErrors.InProgress, `Request id ${JSON.stringify(inc.request.id)} is ${w ? 'in progress on another node' : 'claimed by another node whose liveness cannot be read now'}: not run here. Retry the same id later: once it has finished there, the retry gets its answer.`, {
        reason: w ? 'in-progress' : 'writer-unknown',
        tool: String(inc.request.params?.name),
        requestId: inc.request.id,
        retryAfterMs: 1000,
      }).toMcpError();
    }
    throw new AndonError(RuntimeErrors.Interrupted, `Request id ${JSON.stringify(inc.request.id)} was taken by another node and has no recorded outcome yet: it may still be running there. Retry the same id later, or check before using a new one.`, {
      reason: 'claimed-elsewhere',
      tool: String(inc.request.params?.name),
      requestId: inc.request.id,
    }).toMcpError();
  }

  /** After the handler, before the response is sent: makes the outcome durable for retries of the id. */
  settle(inc: IncomingRequest, response: JsonRpcResponse): Promise<void> | undefined {
    const mode = this.mode(inc);
    // Synchronous for everything not journaled: no promise on the hot path.
    return mode === 'none' ? undefined : this.record(inc, response, mode);
  }

  private async record(inc: IncomingRequest, response: JsonRpcResponse, mode: 'outcome' | 'write-ahead'): Promise<void> {
    const session = inc.session!;
    const key = keyOf(session.id, inc.request.id);
    let e = this.entries.get(key);
    if (!e) {
      if (mode === 'write-ahead') return; // refused before it ran: nothing to record
      e = { s: session.id, id: inc.request.id, tool: String(inc.request.params!.name), at: this.clock.now(), json: '', session };
    }
    e.resp = response;
    e.done = this.clock.now();
    try {
      e.json = JSON.stringify(strip(e));
    } catch (err) {
      this.log.error({ err: String(err), tool: e.tool }, 'a tool result cannot be serialised; its outcome is not journaled');
      this.drop(key);
      this.touched(key);
      return;
    }
    this.put(key, e); // re-inserted: the map stays in completion order for pruning
    this.touched(key);
    (session.completed ??= new Map()).set(inc.request.id, response);
    try {
      await this.commit();
    } catch (err) {
      // The tool ran; its answer still goes out. Only a retry after a crash could miss the record.
      this.log.error({ err: String(err), tool: e.tool }, 'failed to journal a completed call');
    }
  }

  /**
   * At start, before anything is served: loads the journal into the restored sessions. A call
   * that never finished is answered ANDON_INTERRUPTED from now on; the result is durable on return.
   */
  async restore(sessions: ReadonlyMap<string, Session>): Promise<{ completed: number; interrupted: number }> {
    const raw = await this.lines();
    // The journal of earlier versions (`journal/inflight`: calls in flight, no outcomes) is read
    // once as unfinished records, then superseded by this one.
    const legacy = await this.store.get<Array<{ sessionId: string; requestId: RequestId; tool: string }>>(JOURNAL_NS, 'inflight');
    const now = this.clock.now();
    if (Array.isArray(legacy)) for (const l of legacy) if (l && typeof l === 'object') raw.push(JSON.stringify({ s: l.sessionId, id: l.requestId, tool: l.tool, at: now }));
    const r = await this.load(raw, (id) => sessions.get(id));
    if (this.compactNext && !r.interrupted && !r.completed) await this.commit();
    if (legacy !== undefined) await this.store.delete(JOURNAL_NS, 'inflight');
    return r;
  }

  /**
   * A session another node served, now taken over by this one (shared store): loads its records
   * from every node's journal, so a retry here is answered from the record instead of running the
   * tool again. A call still unfinished in the store is answered ANDON_INTERRUPTED here once its
   * writer is dead ({@link writerAlive}); while it is alive or unknown the record is left alone,
   * and `running` gets its key (true: alive, false: unknown).
   */
  async adopt(session: Session, running = new Map<string, boolean>()): Promise<{ completed: number; interrupted: number }> {
    if (!this.perRecord || !this.writerAlive) return this.load(await this.lines(), (id) => (id === session.id ? session : undefined));
    const { lines, writers } = await this.sharedLines();
    const probe = this.writerAlive;
    const live = async (rec: Stored, i: number) => {
      const w = writers[i]!;
      if (w === this.key) return false;
      try {
        return await probe(w, rec.at);
      } catch (err) {
        this.log.warn({ err: String(err), writer: w }, 'journal writer liveness unknown (store error): its call is answered in progress');
        return undefined;
      }
    };
    return this.load(lines, (id) => (id === session.id ? session : undefined), { live, running });
  }

  /** Loads record lines into the sessions `sessionOf` finds; unfinished calls become ANDON_INTERRUPTED, durably (unless `a.live` is not false). */
  private async load(
    raw: unknown[],
    sessionOf: (id: string) => Session | undefined,
    a?: { live: (rec: Stored, i: number) => Promise<boolean | undefined>; running: Map<string, boolean> },
  ): Promise<{ completed: number; interrupted: number }> {
    let completed = 0;
    let interrupted = 0;
    const now = this.clock.now();
    for (const [i, line] of raw.entries()) {
      let rec: Stored;
      try {
        rec = JSON.parse(String(line)) as Stored;
        if (!rec || typeof rec.s !== 'string' || typeof rec.tool !== 'string' || (typeof rec.id !== 'string' && typeof rec.id !== 'number')) throw new Error('not a journal record');
      } catch (err) {
        this.log.error({ err: String(err) }, 'skipped an unreadable journal record');
        continue;
      }
      const session = sessionOf(rec.s);
      if (!session) continue;
      const key = keyOf(rec.s, rec.id);
      const mine = this.entries.get(key);
      // A record this node holds is current; a completed record beats an unfinished one.
      if (mine && (mine.resp || !rec.resp)) continue;
      if (!rec.resp && a) {
        const alive = await a.live(rec, i);
        if (alive !== false) {
          a.running.set(key, alive === true);
          continue;
        }
      }
      if (!rec.resp) {
        interrupted++;
        this.log.warn({ session: rec.s, requestId: rec.id, tool: rec.tool }, 'request interrupted by the previous run (or by another node); a retry of its id gets ANDON_INTERRUPTED');
        rec.resp = interruptedResponse(rec);
        rec.done = now;
      } else completed++;
      const e: Entry = { ...rec, json: JSON.stringify(rec), session };
      this.put(key, e);
      this.touched(key);
      (session.completed ??= new Map()).set(rec.id, rec.resp);
    }
    if (interrupted || completed) await this.commit();
    return { completed, interrupted };
  }

  /** Resolves when no journal write is running or queued. */
  async settled(): Promise<void> {
    if (!this.perRecord) return this.writer.settled();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** Retires what retention and the bounds allow; returns the bytes of the records left. */
  private prune(): number {
    const cutoff = this.clock.now() - this.retainMs;
    // Oldest completed first (the map is in completion order); pending records stay. put/drop keep
    // the counts: a commit walks what it retires, not the whole journal.
    for (const [k, e] of this.entries) {
      if (e.done === undefined) continue;
      if (this.doneCount <= this.maxCompleted && this.liveBytes <= this.maxBytes && e.done >= cutoff) break;
      this.drop(k);
      this.touched(k);
      e.session?.completed?.delete(e.id);
    }
    return this.liveBytes;
  }

  /** Completed records held, and bytes of all records held (as serialised): kept by put/drop. */
  private doneCount = 0;
  private liveBytes = 0;

  /** Holds record `e` under `key` (replacing any), counted for pruning. */
  private put(key: string, e: Entry): void {
    this.drop(key);
    e.counted = { done: e.done !== undefined, bytes: e.json.length };
    if (e.counted.done) this.doneCount++;
    this.liveBytes += e.counted.bytes;
    this.entries.set(key, e);
  }

  /** Lets the record under `key` go, taking back what {@link put} counted for it. */
  private drop(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    const c = old.counted;
    if (!c) return;
    if (c.done) this.doneCount--;
    this.liveBytes -= c.bytes;
    old.counted = undefined;
  }

  private async write(): Promise<void> {
    const live = this.prune();
    if (this.perRecord) return this.writeRecords();
    if (this.file) return this.writeLog(this.file, live);
    const lines: string[] = [];
    for (const e of this.entries.values()) lines.push(e.json);
    await this.store.set(JOURNAL_NS, this.key, lines);
  }

  /**
   * Makes the caller's change durable. File store: group commit (concurrent callers share one write
   * of the journal). Shared store: the changed records are written at once, without waiting for
   * writes in flight — each record is its own key, and the writes of one key reach Redis in the
   * order they were issued (one connection; the `{journal}` namespace is one Cluster slot), so a
   * record's outcome never lands before its write-ahead.
   */
  private commit(): Promise<void> {
    if (!this.perRecord) return this.writer.commit();
    this.prune();
    this.writer.stats.commits++;
    this.writer.stats.writes++;
    const p = this.writeRecords();
    this.inflight.add(p);
    const done = () => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * File store: appends the records changed since the last write (a `gone` line for each one
   * removed) with one fsync, or rewrites the log with the live records when it has grown past
   * max(2 × live, compactBytes) or after a restart.
   */
  private async writeLog(file: LineLog, live: number): Promise<void> {
    const keys = [...this.dirty];
    this.dirty.clear();
    try {
      const lines = keys.map((k) => this.entries.get(k)?.json ?? JSON.stringify({ gone: k }));
      let next = file.bytes;
      for (const l of lines) next += l.length + LINE_OVERHEAD;
      if (!this.compactNext && next <= Math.max(2 * (live + LINE_OVERHEAD * this.entries.size), this.compactBytes)) return await file.append(lines);
      await file.rewrite([...this.entries.values()].map((e) => e.json));
      this.compactNext = false;
    } catch (err) {
      // Not durable: written again by the next write (a record removed meanwhile is retired then).
      for (const k of keys) this.dirty.add(k);
      throw err;
    }
    if (this.legacy) {
      this.legacy = false;
      // Superseded by the rewritten log; if it stays, the next start reads it again (the log wins).
      await this.store.delete(JOURNAL_NS, JOURNAL_KEY).catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not delete the journal of the previous format'));
    }
  }

  /** Shared store: writes the records changed since the last write, deletes the removed ones. */
  private async writeRecords(): Promise<void> {
    const keys = [...this.dirty];
    this.dirty.clear();
    try {
      // Issued together: the store pipelines them on its connection; each is acknowledged by Redis.
      await Promise.all(
        keys.map((k) => {
          const e = this.entries.get(k);
          const field = `${this.key}:${k}`;
          return e ? this.store.set(JOURNAL_NS, field, [e.json]) : this.store.delete(JOURNAL_NS, field);
        }),
      );
    } catch (err) {
      // Not durable: written again by the next write (a record removed meanwhile is deleted then).
      for (const k of keys) this.dirty.add(k);
      throw err;
    }
  }
}
