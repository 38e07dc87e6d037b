/**
 * The Store: where the runtime keeps what must survive a restart (halt states, component state,
 * 2025 sessions, in-flight requests). Values are JSON; keys live in namespaces. Every backend
 * passes the same contract suite (test/store/contract.ts).
 */

/** One stored value with the time it was written. */
export interface StoredEntry<T = unknown> {
  key: string;
  value: T;
  /** Epoch ms of the write. */
  savedAt: number;
}

export interface Store {
  /** Opens the backend (creates directories, connects). Idempotent. */
  open(): Promise<void>;
  get<T = unknown>(ns: string, key: string): Promise<T | undefined>;
  /** Writes durably: when the promise resolves, the value survives a crash. */
  set(ns: string, key: string, value: unknown): Promise<void>;
  delete(ns: string, key: string): Promise<void>;
  /** Every entry of a namespace. */
  list<T = unknown>(ns: string): Promise<StoredEntry<T>[]>;
  /** Removes entries written before `olderThan` (epoch ms); returns how many. */
  prune(olderThan: number): Promise<number>;
  close(): Promise<void>;
}

/** A corrupt or torn entry that was moved aside instead of being loaded. */
export interface QuarantineReport {
  ns: string;
  key: string;
  file: string;
  reason: string;
}
