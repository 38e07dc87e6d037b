/**
 * The Store: where the runtime keeps what must survive a restart (halt states, component state,
 * 2025 sessions, in-flight requests). Values are JSON; keys live in namespaces. Every backend
 * passes the same contract suite (test/store/contract.ts).
 *
 * Nothing read back is trusted: a record that is torn, edited, of the wrong shape, or a file or
 * directory where a record belongs, is moved aside (quarantined), reported, and not returned. A
 * read never throws because of what it found on disk; it throws only when the backend itself
 * cannot be used.
 */

/** One stored value with the time it was written. */
export interface StoredEntry<T = unknown> {
  key: string;
  value: T;
  /** Epoch ms of the write. */
  savedAt: number;
}

/**
 * Checks a value read back: returns null when it has the shape its reader needs, else what is
 * wrong ("state: expected one of …"). Values that fail are quarantined, never returned.
 */
export type RecordCheck = (value: unknown) => string | null;

/** Options of one read. */
export interface ReadOptions {
  /** The shape check (default: the backend's check for the namespace, if any; else none). */
  validate?: RecordCheck;
  /** Told of every record this read quarantined (also published on `andon:quarantine`). */
  onReject?: (report: QuarantineReport) => void;
}

/**
 * Shared stores: bounded, expiring logs of SSE events, one per stream, so a stream broken on one
 * node resumes on another (src/transports/redis-event-store.ts).
 */
export interface EventLog {
  /** Appends `data` (a JSON message, or '' for a priming event) under `eventId` to `stream`. */
  append(stream: string, eventId: string, data: string): Promise<void>;
  /** Every kept entry of `stream`, oldest first (empty when unknown or expired). */
  read(stream: string): Promise<Array<{ eventId: string; data: string }>>;
  /** Forgets `stream` (its session ended). */
  drop(stream: string): Promise<void>;
}

/**
 * Embedded stores: an append-only log of records (strings without newlines) in one place, for
 * state whose every change must be durable before it is acknowledged but whose whole is too big to
 * rewrite per change (2025 sessions). A batch of records costs one write and one fsync whatever
 * the log holds; the owner rewrites it (compacts) when it has grown past a bound. Calls must not
 * overlap: the owner serialises them.
 */
export interface RecordLog {
  /** Every intact record, oldest first; a damaged one (torn, edited) is told to `onBad` and skipped. */
  read(onBad: (line: number, reason: string) => void): Promise<string[]>;
  /** Appends `records` durably: when the promise resolves, they survive a crash. */
  append(records: readonly string[]): Promise<void>;
  /** Replaces the whole log with `records`, atomically and durably. */
  rewrite(records: readonly string[]): Promise<void>;
}

export interface Store {
  /**
   * Embedded stores: the record log `name` of namespace `ns` (one per name; the store closes it).
   * Absent on shared stores, where every node writes its own keys.
   */
  recordLog?(ns: string, name: string): RecordLog;
  /** Shared stores: the SSE event logs (a node resumes a stream another node started). */
  readonly eventLog?: EventLog;
  /**
   * True when other nodes write to the same state (Redis): the runtime then keeps one key per
   * session instead of shared buckets, and looks a session up on a miss. Default false.
   */
  readonly shared?: boolean;
  /**
   * Shared stores: takes `key` of `ns` for `owner` if nobody holds it (for `ttlMs`); true when
   * taken now, false when someone already holds it. The exactly-once journal claims each
   * side-effecting request id here, so two nodes never both run it.
   */
  claim?(ns: string, key: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Shared stores: gives `key` of `ns` up if `owner` holds it (a claim whose answer was lost, e.g.
   * Redis stalled and applied it after the call was refused: the id must be usable again).
   */
  unclaim?(ns: string, key: string, owner: string): Promise<void>;
  /** Shared stores: sends `message` to every node subscribed to `channel` (this one included). */
  publish?(channel: string, message: string): Promise<void>;
  /** Shared stores: calls `onMessage` for every message on `channel`; resolves with the unsubscribe function. */
  subscribe?(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /** Opens the backend (creates directories, connects). Idempotent. */
  open(): Promise<void>;
  /** The value, or undefined when absent or quarantined by this read. */
  get<T = unknown>(ns: string, key: string, options?: ReadOptions): Promise<T | undefined>;
  /** Writes durably: when the promise resolves, the value survives a crash. */
  set(ns: string, key: string, value: unknown): Promise<void>;
  delete(ns: string, key: string): Promise<void>;
  /** Every entry of a namespace that passes its checks. */
  list<T = unknown>(ns: string, options?: ReadOptions): Promise<StoredEntry<T>[]>;
  /**
   * Removes entries written before `olderThan` (epoch ms); returns how many. Namespaces in
   * `keep` (default {@link NEVER_PRUNED}: halt records) are left alone.
   */
  prune(olderThan: number, keep?: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/**
 * Namespaces that age never removes: a halt ends only when an operator resumes it, so pruning an
 * old halt record would silently bring a halted component back. Feature flags and their audit
 * trail (src/flags) likewise live until an operator changes them.
 */
export const NEVER_PRUNED: readonly string[] = ['halt', 'flags', 'flag-audit', 'rollouts'];

/** A corrupt or torn entry that was moved aside instead of being loaded. */
export interface QuarantineReport {
  ns: string;
  /** The key, derived from the file name (never from the content, which may be garbage). */
  key: string;
  /** Where it was moved (or where it still is, when it could not be moved). */
  file: string;
  reason: string;
}
