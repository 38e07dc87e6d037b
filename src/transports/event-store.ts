/**
 * Event stores make SSE streams resumable: every event sent on a stream is stored under an id, and
 * a client that reconnects with `Last-Event-ID` gets the events after it, from that stream only.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/** Storage for SSE events. Implementations must keep ids ordered within a stream. */
export interface EventStore {
  /** Stores a message sent on `streamId` and returns its event id. */
  storeEvent(streamId: string, message: JsonRpcMessage | null): string;
  /**
   * Replays the events of the stream that `lastEventId` belongs to, after that event, through
   * `send`. Returns the stream id, or null when the id is unknown (expired or never issued).
   */
  replayEventsAfter(lastEventId: string, send: (eventId: string, message: JsonRpcMessage) => void): string | null;
  /** Forgets a stream (its session ended). */
  deleteStream?(streamId: string): void;
  /**
   * Stores shared by several nodes: loads the stream of `lastEventId` before a replay (awaited by
   * the transport before a GET with Last-Event-ID; never rejects).
   */
  prefetch?(lastEventId: string): Promise<void>;
}

export interface MemoryEventStoreOptions {
  /** Events kept per stream; older ones are dropped. Default 256. */
  maxEventsPerStream?: number;
  /** Streams kept; the least recently written are dropped first. Default 20,000. */
  maxStreams?: number;
}

interface StreamLog {
  seq: number;
  events: Array<{ seq: number; message: JsonRpcMessage | null }>;
}

/** An in-memory {@link EventStore} with per-stream and total bounds. */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StreamLog>();
  private readonly maxEvents: number;
  private readonly maxStreams: number;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.maxEvents = options.maxEventsPerStream ?? 256;
    this.maxStreams = options.maxStreams ?? 20_000;
  }

  storeEvent(streamId: string, message: JsonRpcMessage | null): string {
    let log = this.streams.get(streamId);
    if (!log) {
      if (this.streams.size >= this.maxStreams) {
        // Evict the oldest 1/64 in one pass. A Map's iterator walks past the slots of deleted
        // entries, so evicting one per call (keys().next()) costs a scan over thousands of them
        // on every new stream once the store is full: 42% of the CPU of an SSE-mode server.
        let n = Math.max(1, this.maxStreams >> 6);
        for (const k of this.streams.keys()) {
          this.streams.delete(k);
          if (--n === 0) break;
        }
      }
      log = { seq: 0, events: [] };
      this.streams.set(streamId, log);
    }
    const seq = ++log.seq;
    log.events.push({ seq, message });
    if (log.events.length > this.maxEvents) log.events.shift();
    return `${streamId}.${seq}`;
  }

  replayEventsAfter(lastEventId: string, send: (eventId: string, message: JsonRpcMessage) => void): string | null {
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0) return null;
    const streamId = lastEventId.slice(0, dot);
    const after = Number(lastEventId.slice(dot + 1));
    const log = this.streams.get(streamId);
    if (!log || !Number.isInteger(after) || after > log.seq) return null;
    for (const e of log.events) {
      if (e.seq > after && e.message) send(`${streamId}.${e.seq}`, e.message);
    }
    return streamId;
  }

  deleteStream(streamId: string): void {
    this.streams.delete(streamId);
  }
}
