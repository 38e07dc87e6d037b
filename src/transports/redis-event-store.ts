/**
 * An {@link EventStore} for nodes sharing a store (Redis Streams, via the store's EventLog): a
 * client whose SSE stream broke on node A resumes it with `Last-Event-ID` on node B and gets every
 * event still kept.
 *
 * The EventStore interface is synchronous (an SSE write must not wait for Redis), so this store
 * writes through and reads through:
 * - `storeEvent` keeps the event in this node's bounded memory, returns its id at once, and
 *   appends it to the stream's Redis log in the background (in order: one connection);
 * - before a GET with `Last-Event-ID` is served, {@link prefetch} (awaited by the transport)
 *   replaces this node's copy of that stream with the Redis log, plus the local events whose
 *   append has not landed yet; the synchronous replay then reads memory.
 * Event ids are `<stream>.<process tag>-<counter>`: unique across nodes and restarts, so a stream
 * continued by another node never reuses an id. A Redis that does not answer loses the remote copy
 * of the events written meanwhile (logged once per outage); the node's own copy still replays.
 */
import { randomBytes } from 'node:crypto';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { EventLog } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import type { EventStore } from './event-store.js';

interface Kept {
  id: string;
  message: JsonRpcMessage | null;
}

export interface RedisEventStoreOptions {
  /** Events kept per stream in memory. Default 256 (match `store.streamMaxLen`). */
  maxEventsPerStream?: number;
  /** Streams kept in memory; the least recently written are dropped first. Default 20,000. */
  maxStreams?: number;
}

const MAX_ID = 512;
const MAX_DATA = 4 * 1024 * 1024;

function decode(data: string): JsonRpcMessage | null | undefined {
  if (data === '') return null;
  if (data.length > MAX_DATA) return undefined;
  try {
    const m = JSON.parse(data) as JsonRpcMessage;
    return m && typeof m === 'object' && !Array.isArray(m) && m.jsonrpc === '2.0' ? m : undefined;
  } catch {
    return undefined;
  }
}

export class RedisEventStore implements EventStore {
  private readonly streams = new Map<string, Kept[]>();
  private readonly tag = randomBytes(4).toString('hex');
  private seq = 0;
  private failing = false;
  private readonly maxEvents: number;
  private readonly maxStreams: number;
  /** Appends started and not yet acknowledged, by event id (a prefetch keeps them). */
  private readonly pending = new Set<string>();

  constructor(
    private readonly events: EventLog,
    private readonly log: Logger,
    options: RedisEventStoreOptions = {},
  ) {
    this.maxEvents = options.maxEventsPerStream ?? 256;
    this.maxStreams = options.maxStreams ?? 20_000;
  }

  storeEvent(streamId: string, message: JsonRpcMessage | null): string {
    const id = `${streamId}.${this.tag}-${(++this.seq).toString(36)}`;
    this.keep(streamId, { id, message });
    this.pending.add(id);
    this.events.append(streamId, id, message === null ? '' : JSON.stringify(message)).then(
      () => {
        this.pending.delete(id);
        if (this.failing) this.log.info({}, 'SSE events reach the shared store again');
        this.failing = false;
      },
      (err: unknown) => {
        this.pending.delete(id);
        if (!this.failing) this.log.error({ stream: streamId, err: String(err) }, 'SSE events not saved to the shared store: a stream resumed on another node misses them');
        this.failing = true;
      },
    );
    return id;
  }

  replayEventsAfter(lastEventId: string, send: (eventId: string, message: JsonRpcMessage) => void): string | null {
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0) return null;
    const streamId = lastEventId.slice(0, dot);
    const kept = this.streams.get(streamId);
    const i = kept ? kept.findIndex((e) => e.id === lastEventId) : -1;
    if (!kept || i < 0) return null;
    for (const e of kept.slice(i + 1)) if (e.message) send(e.id, e.message);
    return streamId;
  }

  deleteStream(streamId: string): void {
    this.streams.delete(streamId);
    this.events.drop(streamId).catch(() => {
      // It expires on its own (store.streamTtlMs).
    });
  }

  /**
   * Reads the stream `lastEventId` belongs to from the shared store into memory, before a replay.
   * Never rejects: when the store does not answer, the replay uses what this node kept.
   */
  async prefetch(lastEventId: string): Promise<void> {
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0 || lastEventId.length > MAX_ID) return;
    const streamId = lastEventId.slice(0, dot);
    let entries: Array<{ eventId: string; data: string }>;
    try {
      entries = await this.events.read(streamId);
    } catch (err) {
      this.log.warn({ stream: streamId, err: String(err) }, 'could not read a resumed stream from the shared store; replaying what this node kept');
      return;
    }
    if (entries.length === 0) return;
    const merged: Kept[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      const message = decode(e.data);
      // Entries that are not ours (edited by hand, or from another program) are skipped.
      if (message === undefined || !e.eventId.startsWith(`${streamId}.`) || e.eventId.length > MAX_ID) continue;
      merged.push({ id: e.eventId, message });
      seen.add(e.eventId);
    }
    // Events written here whose append has not landed yet come after the stored ones.
    for (const e of this.streams.get(streamId) ?? []) if (!seen.has(e.id) && this.pending.has(e.id)) merged.push(e);
    this.streams.delete(streamId);
    this.streams.set(streamId, merged.slice(-this.maxEvents));
  }

  private keep(streamId: string, e: Kept): void {
    let kept = this.streams.get(streamId);
    if (!kept) {
      if (this.streams.size >= this.maxStreams) {
        // Evict the oldest 1/64 in one pass (see MemoryEventStore).
        let n = Math.max(1, this.maxStreams >> 6);
        for (const k of this.streams.keys()) {
          this.streams.delete(k);
          if (--n === 0) break;
        }
      }
      this.streams.set(streamId, (kept = []));
    }
    kept.push(e);
    if (kept.length > this.maxEvents) kept.shift();
  }
}
