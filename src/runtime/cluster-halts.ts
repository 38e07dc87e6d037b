/**
 * Halts across nodes that share a store (Redis): an operator's halt or resume of a component on
 * one node is announced on the store's pub/sub channel `halts`, and every other node applies it
 * to its own tree at once (a halted tool disappears from `tools/list` everywhere, measured well
 * under 500 ms on loopback). Halts of a node itself and of its transports stay with that node.
 *
 * Messages from the store are hostile input like any other: a message that is not a well-formed
 * announcement is logged and dropped; one naming a component this node does not have is ignored.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { HaltRegistry } from './halt.js';
import { UnknownComponentError } from './supervisor.js';

const CHANNEL = 'halts';
const MAX_MESSAGE = 8 * 1024;

interface Announcement {
  op: 'halt' | 'resume';
  id: string;
  reason?: string;
  by: string;
  from: string;
}

/** What the announcements are applied to (the runtime's component tree). */
export interface HaltTarget {
  halt(id: string, reason: string, by: string): Promise<unknown>;
  resume(id: string, by: string): Promise<unknown>;
}

function parse(m: string): Announcement | string {
  if (m.length > MAX_MESSAGE) return `longer than ${MAX_MESSAGE} bytes`;
  let v: unknown;
  try {
    v = JSON.parse(m);
  } catch {
    return 'not JSON';
  }
  const a = v as Partial<Announcement>;
  if (!a || typeof a !== 'object') return 'not an object';
  if (a.op !== 'halt' && a.op !== 'resume') return 'op: expected halt or resume';
  if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > 256) return 'id: expected a component id';
  if (typeof a.by !== 'string' || typeof a.from !== 'string') return 'by/from: expected strings';
  if (a.op === 'halt' && (typeof a.reason !== 'string' || a.reason.length === 0)) return 'reason: a halt needs one';
  return a as Announcement;
}

export class ClusterHalts {
  /** This process on the channel (messages it sent itself are skipped). */
  readonly origin = randomBytes(6).toString('hex');
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly target: HaltTarget,
    private readonly log: Logger,
    private readonly nodeId: string,
  ) {}

  /** Subscribes (no-op for a store without pub/sub). */
  async start(): Promise<void> {
    if (!this.store.subscribe) return;
    this.unsubscribe = await this.store.subscribe(CHANNEL, (m) => void this.receive(m));
  }

  async stop(): Promise<void> {
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.();
  }

  /** Tells the other nodes about a halt or resume made here. Node-scoped ids are not announced. */
  announce(op: 'halt' | 'resume', id: string, by: string, reason?: string): void {
    if (!this.store.publish || HaltRegistry.nodeScoped(id)) return;
    const a: Announcement = { op, id, by: `${by} on ${this.nodeId}`, from: this.origin, ...(reason !== undefined ? { reason } : {}) };
    this.store.publish(CHANNEL, JSON.stringify(a)).catch((err: unknown) => this.log.error({ component: id, op, err: String(err) }, 'could not announce a halt to the other nodes; they apply it at their next start'));
  }

  private async receive(m: string): Promise<void> {
    const a = parse(m);
    if (typeof a === 'string') {
      this.log.warn({ channel: CHANNEL, problem: a }, 'dropped a malformed halt announcement from the store');
      return;
    }
    if (a.from === this.origin || HaltRegistry.nodeScoped(a.id)) return;
    try {
      if (a.op === 'halt') await this.target.halt(a.id, a.reason!, a.by);
      else await this.target.resume(a.id, a.by);
      this.log.info({ component: a.id, op: a.op, by: a.by }, 'applied a halt announced by another node');
    } catch (err) {
      if (err instanceof UnknownComponentError) return; // a component this node does not have
      this.log.error({ component: a.id, op: a.op, err: String(err) }, 'could not apply a halt announced by another node');
    }
  }
}
