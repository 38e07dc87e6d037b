/**
 * Newline-delimited framing, shared by stdio and TCP: bytes in, one complete line at a time out.
 * Input is decoded with a streaming UTF-8 decoder, so a multi-byte character split across two
 * reads arrives intact. A line longer than `maxLineBytes` is discarded whole (the rest of it, up
 * to its newline, is skipped too: it is not a line of its own) and reported once; the buffer
 * never holds more than one bounded line. A trailing `\r` is dropped (CRLF peers).
 */
import { StringDecoder } from 'node:string_decoder';

/** Default largest line: 4 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** Splits a byte stream into lines. */
export class LineFramer {
  private buffered = '';
  private skipping = false;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    /** Called with each complete line (without its newline). */
    private readonly onLine: (line: string) => void,
    /** Called once per over-long line, after it was discarded. */
    private readonly onOverflow: (maxLineBytes: number) => void,
    readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Feeds one chunk; complete lines are handed out before it returns. */
  push(chunk: Buffer | string): void {
    this.buffered += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (this.skipping) {
      const end = this.buffered.indexOf('\n');
      this.buffered = end === -1 ? '' : this.buffered.slice(end + 1);
      if (end === -1) return;
      this.skipping = false;
    }
    let nl = this.buffered.indexOf('\n');
    while (nl !== -1) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      nl = this.buffered.indexOf('\n');
    }
    if (this.buffered.length > this.maxLineBytes) {
      this.buffered = '';
      this.skipping = true;
      this.onOverflow(this.maxLineBytes);
    }
  }

  /** The input ended: the last line, if it had no newline (and was not being skipped). */
  end(): void {
    const rest = this.buffered + this.decoder.end();
    this.buffered = '';
    if (rest.trim() && !this.skipping) this.onLine(rest);
  }
}
