/**
 * Runs async operations one at a time per key, in call order, while different keys proceed in
 * parallel. Used wherever concurrent callers (admin clients, writers) touch the same id and the
 * outcome must equal some serial order: halt records, supervisor children, store files.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Queues `fn` behind earlier operations on `key`; a failure does not block later ones. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when the operations queued on `key` so far have finished. */
  idle(key: string): Promise<unknown> {
    return this.tails.get(key) ?? Promise.resolve();
  }

  /** Resolves when every operation queued so far has finished. */
  async settled(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}
