/**
 * The embedded default store: one JSON file per key under a state directory
 * (`<dir>/<namespace>/<key>.json`). A write goes to a temp file, is fsynced, renamed over the old
 * file (atomic on POSIX) and the directory is fsynced, so a crash leaves either the old or the new
 * value, never a mix. Each file carries a SHA-256 of its payload and a schema tag, and each value
 * is checked for the shape its reader needs; a file that fails any check — or that cannot be read,
 * or is a directory where a record file belongs, or a file where a namespace directory belongs —
 * is moved aside to `<dir>/quarantine/` and reported loudly (log, `andon:quarantine`), never
 * silently reset, never half-loaded, and never a reason not to start. Besides keys it keeps record
 * logs (`<dir>/<namespace>/<name>.log`, src/store/file-log.ts: the 2025 sessions), which are
 * neither listed nor pruned as keys.
 */
import { systemClock, type Clock } from '../util/clock.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { events, publishQuarantine } from '../events/index.js';
import { NEVER_PRUNED, type QuarantineReport, type ReadOptions, type RecordCheck, type RecordLog, type Store, type StoredEntry } from './store.js';
import { DEFAULT_CHECKS } from './records.js';
import { KeyedSerial } from '../util/keyed-serial.js';
import { FileRecordLog } from './file-log.js';


const SCHEMA = 'andon-store/1';

interface Envelope {
  schema: string;
  sha256: string;
  savedAt: number;
  payload: string;
}

export interface FileStoreOptions {
  /** State directory. Default `./.andon` (or `ANDON_STATE_DIR`). */
  dir?: string;
  /** Called for every quarantined file (the runtime logs it at error level and alerts). */
  onQuarantine?: (report: QuarantineReport) => void;
  /** Time for `savedAt` stamps and quarantine names. Default the system clock. */
  clock?: Clock;
  /** Shape checks per namespace for reads that pass none. Default {@link DEFAULT_CHECKS} (halt, sessions, journal). */
  checks?: Readonly<Record<string, RecordCheck>>;
}

function encodeKey(key: string): string {
  // Keys may hold ':' or '/', e.g. `tool:echo`; encode to a safe, reversible file name.
  return encodeURIComponent(key).replace(/\./g, '%2E');
}

/** The key a file name stands for; null when the name is not one this store wrote. */
function decodeKey(file: string): string | null {
  try {
    return decodeURIComponent(file.slice(0, -'.json'.length));
  } catch {
    return null;
  }
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function checkNs(ns: string): void {
  if (!/^[a-z0-9_-]+$/i.test(ns) || ns === 'quarantine') throw new TypeError(`invalid store namespace "${ns}"`);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileStore implements Store {
  readonly dir: string;
  private readonly onQuarantine: (r: QuarantineReport) => void;
  private readonly clock: Clock;
  private readonly checks: Readonly<Record<string, RecordCheck>>;
  /** Writes to one key are serialised; different keys proceed in parallel. */
  private readonly queue = new KeyedSerial();
  /** Files quarantined since open. */
  readonly quarantined: QuarantineReport[] = [];
  private readonly logs = new Map<string, FileRecordLog>();

  constructor(options: FileStoreOptions = {}) {
    this.dir = options.dir ?? process.env.ANDON_STATE_DIR ?? './.andon';
    this.onQuarantine = options.onQuarantine ?? (() => {});
    this.clock = options.clock ?? systemClock;
    this.checks = options.checks ?? DEFAULT_CHECKS;
  }

  /** Creates the state directory. Throws only when the directory itself cannot be used. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.cleanTemps(this.dir);
  }

  /** Temp files are leftovers of writes torn by a crash: the renamed file is the truth. */
  private async cleanTemps(dir: string): Promise<void> {
    let ents;
    try {
      ents = await readdir(dir, { withFileTypes: true });
    } catch {
      // An unreadable namespace is reported when it is listed; cleaning is best effort.
      return;
    }
    for (const ent of ents) {
      if (ent.isDirectory() && ent.name !== 'quarantine' && dir === this.dir) await this.cleanTemps(join(dir, ent.name));
      else if (ent.isFile() && ent.name.includes('.tmp-')) await unlink(join(dir, ent.name)).catch(() => {});
    }
  }

  private path(ns: string, key: string): string {
    return join(this.dir, ns, `${encodeKey(key)}.json`);
  }

  async get<T>(ns: string, key: string, options: ReadOptions = {}): Promise<T | undefined> {
    checkNs(ns);
    await this.queue.idle(`${ns}/${key}`);
    const e = await this.load<T>(ns, key, this.path(ns, key), options);
    return e?.value;
  }

  private async load<T>(ns: string, key: string, file: string, options: ReadOptions): Promise<StoredEntry<T> | undefined> {
    const started = performance.now();
    let text: string | undefined;
    let problem: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR') {
        // The namespace itself is a file: that file is what is misplaced, not this key.
        await this.quarantine(ns, '-', join(this.dir, ns), 'a file where a namespace directory belongs', options);
        return undefined;
      }
      problem = code === 'EISDIR' ? 'a directory where a record file belongs' : `unreadable (${code})`;
    }
    let value: unknown;
    let savedAt = 0;
    if (text !== undefined) {
      try {
        const env = JSON.parse(text) as Partial<Envelope> | null;
        if (!env || typeof env !== 'object' || env.schema !== SCHEMA) problem = `unknown schema ${JSON.stringify(env?.schema) ?? 'undefined'}`;
        else if (typeof env.payload !== 'string' || typeof env.sha256 !== 'string') problem = 'missing payload or checksum';
        else if (createHash('sha256').update(env.payload).digest('hex') !== env.sha256) problem = 'checksum mismatch (torn or edited file)';
        else {
          value = JSON.parse(env.payload);
          savedAt = typeof env.savedAt === 'number' ? env.savedAt : 0;
          const check = options.validate ?? this.checks[ns];
          const shape = check ? check(value) : null;
          if (shape !== null) problem = `wrong shape: ${shape}`;
        }
      } catch (err) {
        problem = `not valid JSON (${(err as Error).message})`;
      }
    }
    if (problem !== null) {
      await this.quarantine(ns, key, file, problem, options);
      events.store.publish({ op: 'read', durationMs: performance.now() - started, ok: false });
      return undefined;
    }
    if (events.store.hasSubscribers) events.store.publish({ op: 'read', durationMs: performance.now() - started, ok: true });
    return { key, value: value as T, savedAt };
  }

  /**
   * Moves `file` (a file or a directory) aside and reports it. Never throws: when it cannot be
   * moved, the report says so and names the original path, and the caller goes on without it.
   */
  private async quarantine(ns: string, key: string, file: string, reason: string, options: ReadOptions = {}): Promise<QuarantineReport> {
    const qdir = join(this.dir, 'quarantine');
    const dest = join(qdir, `${ns}__${encodeKey(key)}.${this.clock.now()}-${randomBytes(3).toString('hex')}.json`);
    let report: QuarantineReport;
    try {
      await this.ensureDir(qdir, '-', 'quarantine');
      await rename(file, dest);
      report = { ns, key, file: dest, reason };
    } catch (err) {
      report = { ns, key, file, reason: `${reason}; could not move it aside (${errCode(err)})` };
    }
    this.quarantined.push(report);
    this.onQuarantine(report);
    options.onReject?.(report);
    publishQuarantine(report);
    return report;
  }

  /**
   * Makes `dir` a directory. A file (or anything else) in its place is moved aside first and
   * reported, so a misplaced file cannot stop the node from starting or writing.
   */
  private async ensureDir(dir: string, ns: string, key: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
      return;
    } catch (err) {
      const code = errCode(err);
      if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    }
    const st = await stat(dir);
    if (st.isDirectory()) return;
    const aside = `${dir}.not-a-directory.${this.clock.now()}-${randomBytes(3).toString('hex')}`;
    await rename(dir, aside);
    const report: QuarantineReport = { ns, key, file: aside, reason: 'a file where a directory belongs' };
    this.quarantined.push(report);
    this.onQuarantine(report);
    publishQuarantine(report);
    await mkdir(dir, { recursive: true });
  }

  set(ns: string, key: string, value: unknown): Promise<void> {
    checkNs(ns);
    return this.queue.run(`${ns}/${key}`, () => this.write(ns, key, value));
  }

  private async write(ns: string, key: string, value: unknown): Promise<void> {
    const started = performance.now();
    const dir = join(this.dir, ns);
    const file = this.path(ns, key);
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    const payload = JSON.stringify(value);
    const env: Envelope = { schema: SCHEMA, sha256: createHash('sha256').update(payload).digest('hex'), savedAt: this.clock.now(), payload };
    let ok = false;
    try {
      await this.ensureDir(dir, ns, '-');
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(env));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await fsyncDir(dir);
      ok = true;
    } finally {
      if (!ok) await unlink(tmp).catch(() => {});
      events.store.publish({ op: 'write', durationMs: performance.now() - started, ok });
    }
  }

  async delete(ns: string, key: string): Promise<void> {
    checkNs(ns);
    await this.queue.idle(`${ns}/${key}`);
    await rm(this.path(ns, key), { force: true });
  }

  async list<T>(ns: string, options: ReadOptions = {}): Promise<StoredEntry<T>[]> {
    checkNs(ns);
    const dir = join(this.dir, ns);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT') return [];
      // A file where the namespace directory belongs, or a directory we may not read: move it
      // aside (the next write makes a fresh one) and go on with nothing loaded from it.
      await this.quarantine(ns, '-', dir, code === 'ENOTDIR' ? 'a file where a namespace directory belongs' : `namespace directory unreadable (${code})`, options);
      return [];
    }
    const out: StoredEntry<T>[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.includes('.tmp-')) continue;
      const key = decodeKey(name);
      if (key === null) {
        await this.quarantine(ns, name, join(dir, name), 'file name is not an encoded key', options);
        continue;
      }
      await this.queue.idle(`${ns}/${key}`);
      const e = await this.load<T>(ns, key, join(dir, name), options);
      if (e) out.push(e);
    }
    return out;
  }

  async prune(olderThan: number, keep: readonly string[] = NEVER_PRUNED): Promise<number> {
    let n = 0;
    for (const ent of await readdir(this.dir, { withFileTypes: true })) {
      if (!ent.isDirectory() || ent.name === 'quarantine' || keep.includes(ent.name)) continue;
      if (!/^[a-z0-9_-]+$/i.test(ent.name)) continue;
      for (const e of await this.list(ent.name)) {
        if (e.savedAt < olderThan) {
          await this.delete(ent.name, e.key);
          n++;
        }
      }
    }
    return n;
  }

  /** The log `<dir>/<ns>/<name>.log` (src/store/file-log.ts); never listed or pruned as a key. */
  recordLog(ns: string, name: string): RecordLog {
    checkNs(ns);
    const id = `${ns}/${name}`;
    let log = this.logs.get(id);
    if (!log) {
      const dir = join(this.dir, ns);
      const file = join(dir, `${encodeKey(name)}.log`);
      const hooks = { ensureDir: () => this.ensureDir(dir, ns, '-'), quarantine: async (reason: string) => void (await this.quarantine(ns, `${name}.log`, file, reason)) };
      this.logs.set(id, (log = new FileRecordLog(file, hooks)));
    }
    return log;
  }

  async close(): Promise<void> {
    await this.queue.settled();
    for (const log of this.logs.values()) await log.close();
  }
}
