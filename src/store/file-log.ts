/**
 * An append-only log of records in one file, for the embedded store (src/store/file-store.ts):
 * a batch of records is one `write` and one `fdatasync`, so many callers that need "my record is
 * durable" share one fsync, and the cost of a batch does not depend on how much the log holds.
 * The owner rewrites the log (its current state, compacted) when it has grown past a bound it
 * chooses: temp file, fsync, rename, directory fsync, like every store write.
 *
 * Each line is `<first 16 hex of sha256(record)> <record>\n`. A line whose checksum does not match
 * (torn by a crash mid-write, or edited) is reported and skipped; the lines around it are kept.
 * After a torn tail or a failed append the next batch starts with a newline, so a new record is
 * never glued to the remains of a torn one. Calls must not overlap (the owner serialises them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RecordLog } from './store.js';

function sum(record: string): string {
  return createHash('sha256').update(record).digest('hex').slice(0, 16);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off)).bytesWritten;
}

export interface FileLogHooks {
  /** Makes the log's directory (moving aside a file in its place). */
  ensureDir(): Promise<void>;
  /** Moves an unreadable log file aside and reports it. */
  quarantine(reason: string): Promise<void>;
}

export class FileRecordLog implements RecordLog {
  private fh: FileHandle | undefined;
  /** False after a torn tail or a failed append: the next batch starts on a fresh line. */
  private clean = true;

  constructor(
    readonly file: string,
    private readonly hooks: FileLogHooks,
  ) {}

  async read(onBad: (line: number, reason: string) => void): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      await this.hooks.quarantine(`unreadable (${code ?? String(err)})`);
      return [];
    }
    const lines = text.split('\n');
    // The part after the last newline is a record whose write was torn (or nothing).
    const tail = lines.pop()!;
    if (tail !== '') {
      onBad(lines.length + 1, 'torn (no end of line)');
      this.clean = false;
    }
    const out: string[] = [];
    lines.forEach((line, i) => {
      if (line === '') return;
      const sp = line.indexOf(' ');
      const record = line.slice(sp + 1);
      if (sp !== 16 || sum(record) !== line.slice(0, 16)) onBad(i + 1, 'checksum mismatch (torn or edited)');
      else out.push(record);
    });
    return out;
  }

  async append(records: readonly string[]): Promise<void> {
    if (!records.length) return;
    let text = this.clean ? '' : '\n';
    for (const r of records) {
      if (r.includes('\n')) throw new TypeError('a log record cannot contain a newline');
      text += `${sum(r)} ${r}\n`;
    }
    try {
      if (!this.fh) {
        await this.hooks.ensureDir();
        this.fh = await open(this.file, 'a', 0o600);
        // The file may be new: its directory entry must be durable too.
        await fsyncDir(dirname(this.file));
      }
      await writeAll(this.fh, Buffer.from(text));
      await this.fh.datasync();
      this.clean = true;
    } catch (err) {
      this.clean = false;
      await this.closeHandle();
      throw err;
    }
  }

  async rewrite(records: readonly string[]): Promise<void> {
    await this.hooks.ensureDir();
    const tmp = `${this.file}.tmp-${randomBytes(4).toString('hex')}`;
    let ok = false;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        const parts: string[] = [];
        for (const r of records) {
          if (r.includes('\n')) throw new TypeError('a log record cannot contain a newline');
          parts.push(`${sum(r)} ${r}\n`);
        }
        await writeAll(fh, Buffer.from(parts.join('')));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.closeHandle();
      await rename(tmp, this.file);
      await fsyncDir(dirname(this.file));
      this.clean = true;
      ok = true;
    } finally {
      if (!ok) await unlink(tmp).catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
  }
}
