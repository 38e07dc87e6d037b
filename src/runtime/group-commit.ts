/**
 * Group commit: many callers that need "my change is durable" share one store write. A write
 * snapshots the state when it starts; every commit() that arrives while it runs joins the next
 * write, which starts as soon as the current one ends. So N concurrent calls cost one or two
 * fsyncs, not N, and no caller waits for more than two writes.
 */
export class GroupCommit {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private joined = 0;
  /** Writes done, and commits they covered (batch size = commits / writes). */
  readonly stats = { writes: 0, commits: 0, maxBatch: 0 };

  /** `write` persists the current state durably (it is called with nothing else in flight). */
  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves when a write that started after this call has finished (rejects if it failed). */
  commit(): Promise<void> {
    this.stats.commits++;
    this.joined++;
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued = this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.queued;
  }

  /** Nothing is being written or queued. */
  get idle(): boolean {
    return !this.running && !this.queued;
  }

  /** Resolves when nothing is being written or queued. */
  async settled(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)!.catch(() => {});
  }

  private start(): Promise<void> {
    this.queued = undefined;
    const batch = this.joined;
    this.joined = 0;
    this.stats.writes++;
    if (batch > this.stats.maxBatch) this.stats.maxBatch = batch;
    const p = this.write().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}
