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

/**
 * Splits a byte stream into lines. Work is linear in the input: each chunk is searched for
 * newlines once, and the pieces of a line that spans chunks are joined once, when it ends (a
 * string grown and searched whole at every chunk made a 4 MiB line cost ~130 MB of copying).
 */
export class LineFramer {
  /** Pieces of the line being received, none containing a newline. */
  private pending: string[] = [];
  private pendingLength = 0;
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
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    if (this.skipping) {
      const end = text.indexOf('\n');
      if (end === -1) return;
      this.skipping = false;
      start = end + 1;
    }
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      let line = text.slice(start, nl);
      if (this.pending.length > 0) {
        this.pending.push(line);
        line = this.pending.join('');
        this.pending = [];
        this.pendingLength = 0;
      }
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      this.pending.push(start === 0 ? text : text.slice(start));
      this.pendingLength += text.length - start;
    }
    if (this.pendingLength > this.maxLineBytes) {
      this.pending = [];
      this.pendingLength = 0;
      this.skipping = true;
      this.onOverflow(this.maxLineBytes);
    }
  }

  /** The input ended: the last line, if it had no newline (and was not being skipped). */
  end(): void {
    const rest = this.pending.join('') + this.decoder.end();
    this.pending = [];
    this.pendingLength = 0;
    if (rest.trim() && !this.skipping) this.onLine(rest);
  }
}
