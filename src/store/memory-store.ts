/** An in-memory Store: for tests and for runs that need no persistence. */
import type { Store, StoredEntry } from './store.js';

export class MemoryStore implements Store {
  private readonly data = new Map<string, Map<string, { value: string; savedAt: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  async open(): Promise<void> {}

  async get<T>(ns: string, key: string): Promise<T | undefined> {
    const e = this.data.get(ns)?.get(key);
    return e ? (JSON.parse(e.value) as T) : undefined;
  }

  async set(ns: string, key: string, value: unknown): Promise<void> {
    let m = this.data.get(ns);
    if (!m) this.data.set(ns, (m = new Map()));
    // Serialised so a caller mutating the object later cannot change what was stored.
    m.set(key, { value: JSON.stringify(value), savedAt: this.now() });
  }

  async delete(ns: string, key: string): Promise<void> {
    this.data.get(ns)?.delete(key);
  }

  async list<T>(ns: string): Promise<StoredEntry<T>[]> {
    return [...(this.data.get(ns) ?? [])].map(([key, e]) => ({ key, value: JSON.parse(e.value) as T, savedAt: e.savedAt }));
  }

  async prune(olderThan: number): Promise<number> {
    let n = 0;
    for (const m of this.data.values()) {
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
