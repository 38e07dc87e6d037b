/**
 * The file store's append-only line log ({@link LineLog}): `<dir>/<namespace>/<key>.lines`, one
 * record per line as `<16 hex digits of the SHA-256 of the payload> <payload>\n`.
 *
 * - `append` writes every line of a batch with one write and one fsync (O_APPEND; the first append
 *   of a process also fsyncs the directory, so a file it created survives a crash). A batch that
 *   fails is cut off again (the file is truncated to its size before it), so a failed write leaves
 *   nothing half-written behind for the next one.
 * - A crash mid-append leaves a torn last line: `read` skips it (no newline, or a checksum that does
 *   not match), and the next `append` starts on a fresh line, so the torn bytes never glue onto a
 *   good record.
 * - Every byte read is hostile: a line without a valid checksum is skipped and counted, never
 *   returned; a directory or unreadable file where the log belongs is moved aside (quarantined).
 * - `rewrite` (compaction) replaces the file the way every store write does: temp file, fsync,
 *   rename, directory fsync; a crash leaves the old file or the new one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { events } from '../events/index.js';
import type { LineLog } from './store.js';

/** What the log needs from its store: serialising with other operations on the key, directories, quarantine. */
export interface LineLogHost {
  /** The namespace directory and the log file in it. */
  dir: string;
  file: string;
  /** Runs `fn` after every earlier operation on this log. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Makes the namespace directory a directory (a file in its place is moved aside). */
  ensureDir(): Promise<void>;
  /** Moves the log file aside and reports it. */
  quarantine(reason: string): Promise<void>;
  /** Fsyncs a directory. */
  fsyncDir(dir: string): Promise<void>;
}

/** At most this many skip reasons are kept per read (a hostile file may hold millions of bad lines). */
const MAX_REASONS = 5;

const sum = (payload: string) => createHash('sha256').update(payload).digest('hex').slice(0, 16);

function encode(lines: readonly string[]): string {
  let out = '';
  for (const l of lines) {
    if (l.includes('\n')) throw new TypeError('a line log line may not contain a newline');
    out += `${sum(l)} ${l}\n`;
  }
  return out;
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

export class FileLineLog implements LineLog {
  bytes = 0;
  /** True when the file is known to end on a line boundary (or to be empty). */
  private clean = false;
  /** The directory entry of the file is durable (fsynced by this process). */
  private dirSynced = false;

  constructor(private readonly host: LineLogHost) {}

  read(): Promise<{ lines: string[]; skipped: number; reasons: string[] }> {
    return this.host.serial(async () => {
      const started = performance.now();
      let text: string;
      try {
        text = await readFile(this.host.file, 'utf8');
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          // ENOTDIR: a file where the namespace directory belongs; the next append moves it aside.
          this.bytes = 0;
          this.clean = true;
          return { lines: [], skipped: 0, reasons: [] };
        }
        await this.host.quarantine(code === 'EISDIR' ? 'a directory where a line log belongs' : `unreadable line log (${code})`);
        this.bytes = 0;
        this.clean = true;
        return { lines: [], skipped: 1, reasons: [`the log file could not be read (${code}); moved aside`] };
      }
      const lines: string[] = [];
      const reasons: string[] = [];
      let skipped = 0;
      const skip = (n: number, why: string) => {
        skipped++;
        if (reasons.length < MAX_REASONS) reasons.push(`line ${n}: ${why}`);
      };
      const parts = text.split('\n');
      // The last part follows the last newline: empty when the file ends on a line boundary.
      const tail = parts.pop()!;
      parts.forEach((p, i) => {
        if (p.length < 18 || p[16] !== ' ') return skip(i + 1, 'not a checksummed line');
        const payload = p.slice(17);
        if (sum(payload) !== p.slice(0, 16)) return skip(i + 1, 'checksum mismatch (torn or edited)');
        lines.push(payload);
      });
      if (tail !== '') skip(parts.length + 1, 'torn last line (no newline: a crash during an append)');
      this.bytes = Buffer.byteLength(text);
      this.clean = tail === '';
      events.store.publish({ op: 'read', durationMs: performance.now() - started, ok: true });
      return { lines, skipped, reasons };
    });
  }

  append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const encoded = encode(lines);
    return this.host.serial(async () => {
      const started = performance.now();
      let ok = false;
      try {
        await this.host.ensureDir();
        const fh = await open(this.host.file, 'a+', 0o600);
        try {
          const st = await fh.stat();
          if (!st.isFile()) throw new Error('the line log is not a regular file');
          let chunk = encoded;
          if (st.size > 0 && !this.clean) {
            // Unknown ending (a torn append): start on a fresh line so the new records stay intact.
            const last = Buffer.alloc(1);
            await fh.read(last, 0, 1, st.size - 1);
            if (last[0] !== 0x0a) chunk = `\n${chunk}`;
          }
          try {
            await fh.appendFile(chunk);
            await fh.sync();
          } catch (err) {
            // Not durable, not acknowledged: cut it off again, so no half batch stays behind.
            this.clean = false;
            await fh.truncate(st.size).catch(() => {});
            throw err;
          }
          this.bytes = st.size + Buffer.byteLength(chunk);
          this.clean = true;
        } finally {
          await fh.close();
        }
        if (!this.dirSynced) {
          await this.host.fsyncDir(this.host.dir);
          this.dirSynced = true;
        }
        ok = true;
      } finally {
        events.store.publish({ op: 'write', durationMs: performance.now() - started, ok });
      }
    });
  }

  rewrite(lines: readonly string[]): Promise<void> {
    const encoded = encode(lines);
    return this.host.serial(async () => {
      const started = performance.now();
      const tmp = `${this.host.file}.tmp-${randomBytes(4).toString('hex')}`;
      let ok = false;
      try {
        await this.host.ensureDir();
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(encoded);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, this.host.file);
        await this.host.fsyncDir(this.host.dir);
        this.bytes = Buffer.byteLength(encoded);
        this.clean = true;
        this.dirSynced = true;
        ok = true;
      } finally {
        if (!ok) await unlink(tmp).catch(() => {});
        events.store.publish({ op: 'write', durationMs: performance.now() - started, ok });
      }
    });
  }
}
