/**
 * Halt states: the andon cord. A component is `normal`, `halted_manual` (an operator pulled the
 * cord; only an operator resumes it) or `halted_fatal` (an emergency stop or exhausted restart
 * intensity). States are written through to the store, so they survive restarts and crashes.
 */
import type { Store } from '../store/store.js';
import { channels } from './events.js';
import { KeyedSerial } from '../util/keyed-serial.js';

export type HaltKind = 'normal' | 'halted_manual' | 'halted_fatal';

export interface HaltRecord {
  id: string;
  state: HaltKind;
  reason: string;
  /** Epoch ms of the change. */
  since: number;
  /** Who set it (e.g. "admin-api", "supervisor"). */
  by: string;
}

const NS = 'halt';

export class HaltRegistry {
  private readonly records = new Map<string, HaltRecord>();
  /** Changes to one id are applied and persisted in order (concurrent admin calls stay consistent). */
  private readonly queue = new KeyedSerial();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads persisted halt states (call once at start). */
  async load(): Promise<HaltRecord[]> {
    for (const e of await this.store.list<HaltRecord>(NS)) {
      if (e.value.state !== 'normal') this.records.set(e.value.id, e.value);
    }
    return this.listHalted();
  }

  /** Sets a halt state (durably) and publishes the change. */
  set(id: string, state: Exclude<HaltKind, 'normal'>, reason: string, by = 'operator'): Promise<HaltRecord> {
    return this.queue.run(id, async () => {
      const prev = this.records.get(id);
      const rec: HaltRecord = { id, state, reason, since: this.now(), by };
      await this.store.set(NS, id, rec);
      this.records.set(id, rec);
      channels.component.publish({ id, kind: id.split(':')[0] ?? id, from: prev?.state ?? 'normal', to: state, reason });
      return rec;
    });
  }

  /** Clears a halt (resume). Returns the record that was cleared, if any. */
  clear(id: string, by = 'operator'): Promise<HaltRecord | undefined> {
    return this.queue.run(id, async () => {
      const prev = this.records.get(id);
      if (!prev) return undefined;
      await this.store.delete(NS, id);
      this.records.delete(id);
      channels.component.publish({ id, kind: id.split(':')[0] ?? id, from: prev.state, to: 'normal', reason: `resumed by ${by}` });
      return prev;
    });
  }

  get(id: string): HaltRecord | undefined {
    return this.records.get(id);
  }

  state(id: string): HaltKind {
    return this.records.get(id)?.state ?? 'normal';
  }

  isHalted(id: string): boolean {
    return this.records.has(id);
  }

  listHalted(): HaltRecord[] {
    return [...this.records.values()];
  }

  /** Resolves when every queued change has been applied and persisted. */
  settled(): Promise<void> {
    return this.queue.settled();
  }
}
