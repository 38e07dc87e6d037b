/**
 * The embedded default store: one JSON file per key under a state directory
 * (`<dir>/<namespace>/<key>.json`). A write goes to a temp file, is fsynced, renamed over the old
 * file (atomic on POSIX) and the directory is fsynced, so a crash leaves either the old or the new
 * value, never a mix. Each file carries a SHA-256 of its payload and a schema tag; a file that
 * fails either check is moved aside to `<dir>/quarantine/` and reported loudly, never silently
 * reset and never half-loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { channels } from '../runtime/events.js';
import type { QuarantineReport, Store, StoredEntry } from './store.js';
import { KeyedSerial } from '../util/keyed-serial.js';

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
  now?: () => number;
}

function encodeKey(key: string): string {
  // Keys may hold ':' or '/', e.g. `tool:echo`; encode to a safe, reversible file name.
  return encodeURIComponent(key).replace(/\./g, '%2E');
}

function decodeKey(file: string): string {
  return decodeURIComponent(file.slice(0, -'.json'.length));
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
  private readonly now: () => number;
  /** Writes to one key are serialised; different keys proceed in parallel. */
  private readonly queue = new KeyedSerial();
  /** Files quarantined since open. */
  readonly quarantined: QuarantineReport[] = [];

  constructor(options: FileStoreOptions = {}) {
    this.dir = options.dir ?? process.env.ANDON_STATE_DIR ?? './.andon';
    this.onQuarantine = options.onQuarantine ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.cleanTemps(this.dir);
  }

  /** Temp files are leftovers of writes torn by a crash: the renamed file is the truth. */
  private async cleanTemps(dir: string): Promise<void> {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      if (ent.isDirectory() && ent.name !== 'quarantine') await this.cleanTemps(join(dir, ent.name));
      else if (ent.isFile() && ent.name.includes('.tmp-')) await unlink(join(dir, ent.name)).catch(() => {});
    }
  }

  private path(ns: string, key: string): string {
    return join(this.dir, ns, `${encodeKey(key)}.json`);
  }

  async get<T>(ns: string, key: string): Promise<T | undefined> {
    checkNs(ns);
    await this.queue.idle(`${ns}/${key}`);
    const e = await this.load<T>(ns, key, this.path(ns, key));
    return e?.value;
  }

  private async load<T>(ns: string, key: string, file: string): Promise<StoredEntry<T> | undefined> {
    const started = performance.now();
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let problem: string | null = null;
    let env: Envelope | undefined;
    try {
      env = JSON.parse(text) as Envelope;
      if (!env || env.schema !== SCHEMA) problem = `unknown schema ${JSON.stringify(env?.schema)}`;
      else if (typeof env.payload !== 'string' || typeof env.sha256 !== 'string') problem = 'missing payload or checksum';
      else if (createHash('sha256').update(env.payload).digest('hex') !== env.sha256) problem = 'checksum mismatch (torn or edited file)';
    } catch (err) {
      problem = `not valid JSON (${(err as Error).message})`;
    }
    if (problem || !env) {
      await this.quarantine(ns, key, file, problem ?? 'unreadable');
      channels.store.publish({ op: 'read', durationMs: performance.now() - started, ok: false });
      return undefined;
    }
    if (channels.store.hasSubscribers) channels.store.publish({ op: 'read', durationMs: performance.now() - started, ok: true });
    return { key, value: JSON.parse(env.payload) as T, savedAt: env.savedAt };
  }

  private async quarantine(ns: string, key: string, file: string, reason: string): Promise<void> {
    const qdir = join(this.dir, 'quarantine');
    await mkdir(qdir, { recursive: true });
    const dest = join(qdir, `${ns}__${encodeKey(key)}.${this.now()}.json`);
    await rename(file, dest);
    const report = { ns, key, file: dest, reason };
    this.quarantined.push(report);
    this.onQuarantine(report);
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
    const env: Envelope = { schema: SCHEMA, sha256: createHash('sha256').update(payload).digest('hex'), savedAt: this.now(), payload };
    let ok = false;
    try {
      await mkdir(dir, { recursive: true });
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
      channels.store.publish({ op: 'write', durationMs: performance.now() - started, ok });
    }
  }

  async delete(ns: string, key: string): Promise<void> {
    checkNs(ns);
    await this.queue.idle(`${ns}/${key}`);
    await rm(this.path(ns, key), { force: true });
  }

  async list<T>(ns: string): Promise<StoredEntry<T>[]> {
    checkNs(ns);
    let names: string[];
    try {
      names = await readdir(join(this.dir, ns));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredEntry<T>[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.includes('.tmp-')) continue;
      const key = decodeKey(name);
      await this.queue.idle(`${ns}/${key}`);
      const e = await this.load<T>(ns, key, join(this.dir, ns, name));
      if (e) out.push(e);
    }
    return out;
  }

  async prune(olderThan: number): Promise<number> {
    let n = 0;
    for (const ent of await readdir(this.dir, { withFileTypes: true })) {
      if (!ent.isDirectory() || ent.name === 'quarantine') continue;
      for (const e of await this.list(ent.name)) {
        if (e.savedAt < olderThan) {
          await this.delete(ent.name, e.key);
          n++;
        }
      }
    }
    return n;
  }

  close(): Promise<void> {
    return this.queue.settled();
  }
}
