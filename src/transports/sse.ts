/**
 * A logical SSE stream. The stream outlives its HTTP connection: when the client drops, events go
 * to the event store only, and a reconnect with `Last-Event-ID` attaches a new response to it.
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { EventStore } from './event-store.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';

/** Response headers of every SSE stream. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Open streams, for the shared keep-alive ticker (one timer per clock for all streams, not one each). */
const live = new Set<SseStream>();
const tickers = new Map<Clock, { timer: Timer; ms: number }>();

function ensureTicker(ms: number, clock: Clock): void {
  const cur = tickers.get(clock);
  if (cur && ms >= cur.ms) return;
  if (cur) clock.clearInterval(cur.timer);
  const timer = clock.setInterval(() => {
    const now = clock.now();
    let any = false;
    for (const s of live) {
      if (s.clock !== clock) continue;
      any = true;
      s.keepAlive(now, ms);
    }
    if (!any) {
      clock.clearInterval(timer);
      tickers.delete(clock);
    }
  }, ms);
  timer.unref?.();
  tickers.set(clock, { timer, ms });
}

/**
 * Streams whose headers have not gone out yet. A stream buffers what it writes during the
 * event-loop turn that opened it; at the end of the turn (one setImmediate for all of them, and
 * only while one is still pending) the headers and the buffer leave together. A stream that ends within that turn (a fast handler)
 * never becomes chunked at all: it is sent as one response with a Content-Length, in one write,
 * which is also cheaper for the client to read.
 */
let unflushed: SseStream[] = [];
/** How many streams in `unflushed` still have their headers pending. */
let pendingCount = 0;
let flushTimer: NodeJS.Immediate | undefined;

function flushAll(): void {
  flushTimer = undefined;
  const list = unflushed;
  unflushed = [];
  pendingCount = 0;
  for (const s of list) s.flush();
}

/**
 * A stream that ended before the end of its turn no longer needs the flush. When none is left the
 * immediate is cancelled, so a loop turn that only served fast requests schedules nothing.
 */
function settled(): void {
  if (--pendingCount === 0 && flushTimer) {
    clearImmediate(flushTimer);
    flushTimer = undefined;
    unflushed = [];
  }
}

/**
 * Default bound on what one SSE connection may hold unread, in bytes (Node's buffer plus the
 * socket's): 4 MiB. Past it the client is not reading, and the connection is dropped.
 */
export const DEFAULT_MAX_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;

export interface SseOptions {
  eventStore: EventStore | undefined;
  /**
   * Largest number of bytes queued unread on the connection (`res.writableLength`) before the
   * stream's connection is dropped. Default {@link DEFAULT_MAX_STREAM_BUFFER_BYTES}. Events keep
   * going to the event store, so a resumable client reconnects with `Last-Event-ID` and misses
   * nothing the store still holds.
   */
  maxBufferBytes?: number;
  /** Called when a connection is dropped for exceeding `maxBufferBytes` (the transport logs it). */
  onOverflow?: (streamId: string, queuedBytes: number) => void;
  /** Reconnect delay suggested to the client in the priming event. */
  retryMs: number;
  /** Idle time after which a comment line is written to keep proxies from closing the stream. */
  keepAliveMs: number;
  /** Send the priming event (an id and empty data) that lets a client resume from the start. */
  prime: boolean;
  /** Extra response headers (e.g. Mcp-Session-Id). */
  headers?: Record<string, string>;
  /** Time for keep-alives. Default {@link systemClock}. */
  clock?: Clock;
}

export class SseStream {
  private res: ServerResponse | null;
  /** What was written before the headers went out; null once they have. */
  private pending: string | null = '';
  private readonly headers: Record<string, string>;
  /** @internal */
  readonly clock: Clock;
  private lastWrite: number;
  /**
   * Replayed bytes on the current connection. They do not count against `maxBufferBytes`: a
   * replay is written at once and is bounded by the event store already, and a reconnecting
   * client must not be dropped for the size of its own backlog.
   */
  private slack = 0;
  /** True once the final event was written; the stream then ends. */
  finished = false;
  onDetach: (() => void) | undefined;

  constructor(
    readonly streamId: string,
    res: ServerResponse,
    private readonly opts: SseOptions,
  ) {
    this.res = res;
    this.clock = opts.clock ?? systemClock;
    this.lastWrite = this.clock.now();
    this.headers = opts.headers ? { ...SSE_HEADERS, ...opts.headers } : SSE_HEADERS;
    unflushed.push(this);
    pendingCount++;
    flushTimer ??= setImmediate(flushAll);
    if (opts.prime && opts.eventStore) {
      const id = opts.eventStore.storeEvent(streamId, null);
      this.write(`id: ${id}\nretry: ${opts.retryMs}\ndata: \n\n`);
    } else if (opts.prime) {
      this.write(`retry: ${opts.retryMs}\n\n`);
    }
    this.watch(res);
    live.add(this);
    ensureTicker(opts.keepAliveMs, this.clock);
  }

  private watch(res: ServerResponse): void {
    res.once('close', () => {
      if (this.res === res) {
        this.res = null;
        live.delete(this);
        this.onDetach?.();
      }
    });
  }

  /** @internal Sends the headers and what was buffered: from now on the response is a live stream. */
  flush(): void {
    const text = this.pending;
    if (text === null) return;
    this.pending = null;
    const res = this.res;
    if (!res || res.headersSent) return;
    res.writeHead(200, this.headers);
    if (text) res.write(text);
    else res.flushHeaders();
  }

  /** Writes to the attached response (callers check `this.res`). */
  private write(text: string): void {
    if (this.pending !== null) this.pending += text;
    else this.res!.write(text);
    this.bounded();
  }

  /**
   * Backpressure: `res.write` never refuses, it queues. A client that stops reading would grow
   * the process without bound, so once more than `maxBufferBytes` sit unread the connection is
   * destroyed (its 'close' detaches it). The logical stream lives on in the event store.
   */
  private bounded(): void {
    const res = this.res;
    if (!res) return;
    const queued = this.pending !== null ? this.pending.length : res.writableLength;
    if (queued <= (this.opts.maxBufferBytes ?? DEFAULT_MAX_STREAM_BUFFER_BYTES) + this.slack) return;
    this.res = null;
    live.delete(this);
    if (this.pending !== null) {
      this.pending = null;
      settled();
    }
    this.opts.onOverflow?.(this.streamId, queued);
    res.destroy();
    this.onDetach?.();
  }

  /** Whether a client connection is attached right now. */
  get attached(): boolean {
    return this.res !== null;
  }

  /** Sends one JSON-RPC message as an event; stored for resumption first. */
  send(message: JsonRpcMessage): void {
    const id = this.opts.eventStore?.storeEvent(this.streamId, message);
    if (!this.res) return;
    this.lastWrite = this.clock.now();
    this.write(id ? `id: ${id}\nevent: message\ndata: ${JSON.stringify(message)}\n\n` : `event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** @internal Writes raw SSE text (e.g. replayed events) to the attached response. */
  writeRaw(text: string): void {
    if (!this.res) return;
    this.slack += text.length;
    this.write(text);
  }

  /** Sends the last message and ends the HTTP response. */
  finish(message: JsonRpcMessage | null): void {
    if (message) this.send(message);
    this.finished = true;
    this.close();
  }

  /** Attaches a reconnecting client's response (after replay). */
  attach(res: ServerResponse, replay: (write: (eventId: string, message: JsonRpcMessage) => void) => void): void {
    this.flush();
    this.res?.end();
    this.res = res;
    res.writeHead(200, this.headers);
    res.flushHeaders();
    this.watch(res);
    live.add(this);
    this.slack = 0;
    replay((eventId, message) => {
      if (this.res === res) this.writeRaw(`id: ${eventId}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`);
    });
    if (this.finished) this.close();
  }

  /** @internal Called by the shared ticker. */
  keepAlive(now: number, every: number): void {
    if (this.res && now - this.lastWrite >= every) {
      this.lastWrite = now;
      this.write(': keep-alive\n\n');
    }
  }

  /** Ends the current HTTP response (the logical stream may be resumed if not finished). */
  close(): void {
    const res = this.res;
    this.res = null;
    live.delete(this);
    if (!res) return;
    const text = this.pending;
    this.pending = null;
    if (text !== null) settled();
    if (text !== null && !res.headersSent) {
      // Nothing has gone out yet: one plain response with a length, in one write.
      res.writeHead(200, { ...this.headers, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
      return;
    }
    res.end();
  }
}
