/**
 * Halt states: the andon cord. A component is `normal`, `halted_manual` (an operator pulled the
 * cord; only an operator resumes it) or `halted_fatal` (an emergency stop or exhausted restart
 * intensity). States are written through to the store, so they survive restarts and crashes.
 *
 * Failed closed: a halt record that cannot be read (torn, edited, wrong shape, unreadable) is
 * quarantined by the store and its component stays halted (`halted_fatal`, the reason naming the
 * quarantined file) — a corrupt record must never bring a halted component back. The component id
 * comes from the record's key (its file name), never from its content.
 */
import { systemClock, type Clock } from '../util/clock.js';
import type { QuarantineReport, Store } from '../store/store.js';
import { checkHaltRecord } from '../store/records.js';
import { events } from '../events/index.js';
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

function kindOf(id: string): string {
  return id.split(':')[0] ?? id;
}

export class HaltRegistry {
  private readonly records = new Map<string, HaltRecord>();
  /** Kind and criticality of known components (told by supervisors as children are added). */
  private readonly described = new Map<string, { kind: string; critical: boolean }>();
  /** Changes to one id are applied and persisted in order (concurrent admin calls stay consistent). */
  private readonly queue = new KeyedSerial();

  /**
   * `nodeId`: this node's stable name on a store shared by several nodes. Halts of the node itself
   * and of its transports are this node's alone there: they are stored as `node@<nodeId>`,
   * `transport:http@<nodeId>`, and other nodes' such records are not loaded.
   */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
    private readonly nodeId?: string,
  ) {}

  /** Whether a halt of `id` belongs to this node only (the node, its transports). */
  static nodeScoped(id: string): boolean {
    return id === 'node' || id.startsWith('transport:');
  }

  /** The store key of `id`'s record. */
  private keyOf(id: string): string {
    return this.nodeId !== undefined && HaltRegistry.nodeScoped(id) ? `${id}@${this.nodeId}` : id;
  }

  /** The component id of a stored key, or undefined for another node's node-scoped record. */
  private idOf(key: string): string | undefined {
    const at = key.lastIndexOf('@');
    if (at < 0 || !HaltRegistry.nodeScoped(key.slice(0, at))) return key;
    return key.slice(at + 1) === this.nodeId ? key.slice(0, at) : undefined;
  }

  /**
   * Loads persisted halt states (call once at start). Each restored halt is published on
   * `andon:component` with `restored: true`. A record that fails to load halts its component
   * (`halted_fatal`, persisted anew so the next start keeps it halted too); when the halt
   * namespace itself cannot be read, nobody can say which components were halted, so the node is.
   */
  async load(): Promise<HaltRecord[]> {
    const rejected: QuarantineReport[] = [];
    for (const e of await this.store.list<HaltRecord>(NS, { validate: checkHaltRecord, onReject: (r) => rejected.push(r) })) {
      const id = this.idOf(e.key);
      if (e.value.state === 'normal' || id === undefined) continue;
      const rec: HaltRecord = { id, state: e.value.state, reason: e.value.reason, since: e.value.since, by: e.value.by ?? 'unknown' };
      this.records.set(id, rec);
      if (events.component.hasSubscribers) events.component.publish({ id, kind: kindOf(id), from: 'normal', to: rec.state, reason: rec.reason, restored: true });
    }
    for (const r of rejected) {
      const id = r.key === '-' ? 'node' : this.idOf(r.key);
      if (id === undefined) continue;
      const what = r.key === '-' ? 'halt records unreadable' : 'halt record unreadable';
      const rec: HaltRecord = { id, state: 'halted_fatal', reason: `${what}: ${r.reason} (quarantined to ${r.file})`, since: this.clock.now(), by: 'halt-registry' };
      this.records.set(id, rec);
      try {
        await this.store.set(NS, this.keyOf(id), rec);
      } catch {
        // Still halted in memory for this run; the quarantine report already said why.
      }
      events.component.publish({ id, kind: kindOf(id), from: 'unknown', to: rec.state, reason: rec.reason });
    }
    this.publishState();
    return this.listHalted();
  }

  /**
   * Tells the registry a component's kind and whether a halt of it makes the node not ready
   * (supervisors call this as children are added). Unknown ids count as not critical, except
   * `node`, the whole node. Republishes the halt set when the component is halted.
   */
  describe(id: string, kind: string, critical: boolean): void {
    this.described.set(id, { kind, critical });
    if (this.records.has(id)) this.publishState();
  }

  /**
   * Publishes the full halt set on `andon:halt-state` (health and metrics follow it). Called on
   * every change; call it once more when subscribers arrive after {@link load}.
   */
  publishState(): void {
    const halted = [...this.records.values()].map((r) => {
      const d = this.described.get(r.id);
      return { id: r.id, kind: d?.kind ?? kindOf(r.id), state: r.state as 'halted_manual' | 'halted_fatal', reason: r.reason, critical: d?.critical ?? r.id === 'node' };
    });
    events.haltState.publish({ halted });
  }

  /** Sets a halt state (durably) and publishes the change. */
  set(id: string, state: Exclude<HaltKind, 'normal'>, reason: string, by = 'operator'): Promise<HaltRecord> {
    return this.queue.run(id, async () => {
      const prev = this.records.get(id);
      const rec: HaltRecord = { id, state, reason, since: this.clock.now(), by };
      await this.store.set(NS, this.keyOf(id), rec);
      this.records.set(id, rec);
      events.component.publish({ id, kind: this.described.get(id)?.kind ?? kindOf(id), from: prev?.state ?? 'normal', to: state, reason });
      this.publishState();
      return rec;
    });
  }

  /** Clears a halt (resume). Returns the record that was cleared, if any. */
  clear(id: string, by = 'operator'): Promise<HaltRecord | undefined> {
    return this.queue.run(id, async () => {
      const prev = this.records.get(id);
      if (!prev) return undefined;
      await this.store.delete(NS, this.keyOf(id));
      this.records.delete(id);
      events.component.publish({ id, kind: this.described.get(id)?.kind ?? kindOf(id), from: prev.state, to: 'normal', reason: `resumed by ${by}` });
      this.publishState();
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
