/**
 * The alert history: the last N alerts with their delivery outcome, persisted as one JSON file
 * in the state directory (written to a temp file, fsynced, renamed over the old one, so a crash
 * leaves either the old or the new history, never half of one). Writes are coalesced: while one
 * is in progress, later changes are folded into a single next write.
 */
import { mkdirSync, readFileSync, renameSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SEVERITIES, type AlertRecord, type Severity } from './types.js';

/** File name inside the state directory. */
export const HISTORY_FILE = 'alerts-history.json';

/** Options of {@link AlertHistory}. */
export interface AlertHistoryOptions {
  /** Directory to persist into; in memory only when absent. */
  stateDir?: string;
  /** Entries kept. Default 200. */
  size?: number;
  /** Called when a write fails (the history stays in memory). */
  onError?: (err: Error) => void;
}

/** Null when `r` has the fields readers of the history use, else what is wrong. */
export function checkAlertRecord(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'expected an object';
  const o = r as Record<string, unknown>;
  for (const k of ['id', 'title', 'incident', 'time', 'status']) if (typeof o[k] !== 'string') return `${k}: expected string`;
  if (!SEVERITIES.includes(o.severity as Severity)) return `severity: expected one of ${SEVERITIES.join(', ')}`;
  if (typeof o.context !== 'object' || o.context === null) return 'context: expected object';
  if (!Array.isArray(o.deliveries)) return 'deliveries: expected array';
  return null;
}

/**
 * Reads a persisted history file (newest first); [] when there is none. Entries of the wrong
 * shape are left out; `onDropped` hears how many and why (the first), so a bad entry cannot break
 * `andon alerts` or the dashboard and still does not go unnoticed.
 */
export function readHistoryFile(stateDir: string, onDropped?: (count: number, firstProblem: string) => void): AlertRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(join(stateDir, HISTORY_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read alert history in ${stateDir}: ${(err as Error).message}`);
  }
  const entries = (v as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new Error(`cannot read alert history in ${stateDir}: entries: expected an array`);
  const out: AlertRecord[] = [];
  let first: string | null = null;
  for (const [i, e] of entries.entries()) {
    const p = checkAlertRecord(e);
    if (p === null) out.push(e as AlertRecord);
    else first ??= `[${i}].${p}`;
  }
  if (first !== null) onDropped?.(entries.length - out.length, first);
  return out;
}

/** The last N alert records, newest first. */
export class AlertHistory {
  private entries: AlertRecord[];
  private readonly size: number;
  private readonly file: string | undefined;
  private writing: Promise<void> | null = null;
  private dirty = false;

  /** See {@link AlertHistoryOptions} for defaults. Loads the persisted file, if any. */
  constructor(private readonly options: AlertHistoryOptions = {}) {
    this.size = options.size ?? 200;
    this.file = options.stateDir ? join(options.stateDir, HISTORY_FILE) : undefined;
    let loaded: AlertRecord[] = [];
    if (options.stateDir) {
      try {
        loaded = readHistoryFile(options.stateDir, (n, first) => options.onError?.(new Error(`alert history: ${n} entries of the wrong shape left out (first: ${first})`)));
      } catch (err) {
        // A corrupt history must not stop alerting: start empty, say so, keep the bad file aside.
        options.onError?.(err as Error);
      }
    }
    this.entries = loaded.slice(0, this.size);
  }

  /** Adds a record at the front (dropping the oldest past the limit) and schedules a write. */
  add(r: AlertRecord): void {
    this.entries.unshift(r);
    if (this.entries.length > this.size) this.entries.length = this.size;
    this.changed();
  }

  /** Call after mutating a record in place. */
  changed(): void {
    if (!this.file) return;
    this.dirty = true;
    this.writing ??= this.flushLoop();
  }

  /** Newest first, at most `limit`. */
  list(limit = this.size): AlertRecord[] {
    return this.entries.slice(0, limit);
  }

  get(id: string): AlertRecord | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Resolves when every change so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        // Yield first so a burst of changes becomes one write.
        await new Promise<void>((r) => setImmediate(r));
        this.writeNow();
      }
    } finally {
      this.writing = null;
    }
  }

  private writeNow(): void {
    const file = this.file!;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.options.stateDir!, { recursive: true });
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify({ version: 1, entries: this.entries }));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      // fsync the directory too, or the rename itself may not survive a power cut.
      try {
        const dfd = openSync(this.options.stateDir!, 'r');
        try {
          fsyncSync(dfd);
        } finally {
          closeSync(dfd);
        }
      } catch {
        // Not every filesystem allows fsync on a directory; the rename is still atomic.
      }
    } catch (err) {
      rmSync(tmp, { force: true });
      this.options.onError?.(err as Error);
    }
  }
}
