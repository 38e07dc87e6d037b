/** An in-memory Store: for tests and for runs that need no persistence. */
import { systemClock, type Clock } from '../util/clock.js';
import { publishQuarantine } from '../events/index.js';
import { NEVER_PRUNED, type QuarantineReport, type ReadOptions, type RecordCheck, type Store, type StoredEntry } from './store.js';

/**
 * Values are kept serialised, so a caller mutating an object later cannot change what was stored.
 * Like every backend, a read checks the value's shape when given a check (`validate`, or the
 * namespace's entry in `checks`; none by default) and quarantines what fails.
 */
export class MemoryStore implements Store {
  private readonly data = new Map<string, Map<string, { value: string; savedAt: number }>>();
  /** Entries quarantined since creation (removed from the store, kept here with their value). */
  readonly quarantined: Array<QuarantineReport & { value: string }> = [];

  /** `clock` (for `savedAt` stamps) defaults to the system clock; `checks` (shape checks per namespace) to none. */
  constructor(
    private readonly clock: Clock = systemClock,
    private readonly checks: Readonly<Record<string, RecordCheck>> = {},
  ) {}

  async open(): Promise<void> {}

  private read<T>(ns: string, key: string, e: { value: string; savedAt: number }, options: ReadOptions): StoredEntry<T> | undefined {
    const value = JSON.parse(e.value) as unknown;
    const check = options.validate ?? this.checks[ns];
    const problem = check ? check(value) : null;
    if (problem === null) return { key, value: value as T, savedAt: e.savedAt };
    this.data.get(ns)?.delete(key);
    const report: QuarantineReport = { ns, key, file: `memory:${ns}/${key}`, reason: `wrong shape: ${problem}` };
    this.quarantined.push({ ...report, value: e.value });
    options.onReject?.(report);
    publishQuarantine(report);
    return undefined;
  }

  async get<T>(ns: string, key: string, options: ReadOptions = {}): Promise<T | undefined> {
    const e = this.data.get(ns)?.get(key);
    return e ? this.read<T>(ns, key, e, options)?.value : undefined;
  }

  async set(ns: string, key: string, value: unknown): Promise<void> {
    let m = this.data.get(ns);
    if (!m) this.data.set(ns, (m = new Map()));
    m.set(key, { value: JSON.stringify(value), savedAt: this.clock.now() });
  }

  async delete(ns: string, key: string): Promise<void> {
    this.data.get(ns)?.delete(key);
  }

  async list<T>(ns: string, options: ReadOptions = {}): Promise<StoredEntry<T>[]> {
    const out: StoredEntry<T>[] = [];
    for (const [key, e] of [...(this.data.get(ns) ?? [])]) {
      const r = this.read<T>(ns, key, e, options);
      if (r) out.push(r);
    }
    return out;
  }

  async prune(olderThan: number, keep: readonly string[] = NEVER_PRUNED): Promise<number> {
    let n = 0;
    for (const [ns, m] of this.data) {
      if (keep.includes(ns)) continue;
      for (const [k, e] of m) {
        if (e.savedAt < olderThan) {
          m.delete(k);
          n++;
        }
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}
