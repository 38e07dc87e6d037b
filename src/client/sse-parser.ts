/**
 * Incremental parser for `text/event-stream` (the WHATWG event-stream format). Chunks arrive with
 * arbitrary boundaries, including inside a UTF-8 sequence or between CR and LF, so the parser keeps
 * the partial line and decodes bytes with a streaming TextDecoder.
 */

/** One dispatched event. `data` lines are joined with `\n`, as the format requires. */
export interface SseEvent {
  /** The `id` field of this event, if it had one. */
  id: string | undefined;
  /** The `event` field; `message` when absent. */
  event: string;
  data: string;
}

/** Callbacks of {@link SseParser}. */
export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A `retry` field: the reconnection delay the server asks for, in ms. */
  onRetry?(ms: number): void;
  /** Every `id` field, even on events with no data (a priming event carries only an id). */
  onId?(id: string): void;
}

/** Feeds bytes, dispatches events. */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private eventId: string | undefined;
  private sawCr = false;

  constructor(private readonly handlers: SseHandlers) {}

  /** Adds a chunk of the body. */
  push(chunk: Uint8Array | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    // A CR at the end of the previous chunk already ended a line; drop the LF that pairs with it.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i));
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The body ended: an unterminated event is discarded, as the format says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.eventId = undefined;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.eventId = value;
          this.handlers.onId?.(value);
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    // As the format says, an event whose data is empty (e.g. a priming event) is not dispatched.
    const event: SseEvent = { id: this.eventId, event: this.eventType || 'message', data: this.data.join('\n') };
    this.data = [];
    this.eventType = '';
    this.eventId = undefined;
    if (event.data !== '') this.handlers.onEvent(event);
  }
}
