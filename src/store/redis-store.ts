/**
 * A Store on Redis, for many nodes sharing one state (docs/cluster.md). Same contract as the file
 * store (test/store/contract.ts): values are JSON, read back through the namespace's shape check,
 * and a record that fails it (or that is not even our envelope, e.g. written by hand) is moved to a
 * quarantine hash, reported and never returned.
 *
 * Layout, with `p` the key prefix (default `andon`):
 * - `p:{ns}:v` — a hash: key → envelope `{"t":savedAt,"s":sha256,"v":payload}`;
 * - `p:{ns}:t` — a sorted set: key scored by savedAt (prune reads the old ones by score);
 * - `p:{ns}:q` — a hash of quarantined raw values with the reason;
 * - `p:namespaces` — the set of namespaces ever written (prune walks it).
 * The `{ns}` braces are a Redis Cluster hash tag: one namespace's keys live in one slot, so a
 * write is one MULTI on one node.
 *
 * Durability: `set` resolves when Redis acknowledged the MULTI. That survives the loss of an andon
 * node; whether it survives the loss of Redis itself is Redis's configuration (AOF with
 * `appendfsync always`, or replicas with `waitReplicas`, which makes each write wait for that
 * many replicas with WAIT).
 *
 * node-redis is loaded when the store opens, so `import 'andon-mcp'` stays quick for users of the
 * file store.
 */
import { createHash } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { publishQuarantine } from '../events/index.js';
import { DEFAULT_CHECKS } from './records.js';
import { NEVER_PRUNED, type EventLog, type QuarantineReport, type ReadOptions, type RecordCheck, type Store, type StoredEntry } from './store.js';

export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Redis Cluster: the seed nodes' URLs (then `url` is ignored). */
  cluster?: string[];
  /** Redis Sentinel: the master group name and the sentinels' URLs (then `url` is ignored). */
  sentinel?: { name: string; nodes: string[] };
  /** Prefix of every key. Default `andon`. Nodes of one cluster share it; two clusters on one Redis use two. */
  prefix?: string;
  /** Make each write wait until this many replicas acknowledged it (Redis WAIT). Default 0. */
  waitReplicas?: number;
  /** Budget of one command, ms (a stalled Redis fails the call instead of hanging it). Default 5000. */
  commandTimeoutMs?: number;
  /** SSE events kept per stream (`XADD MAXLEN ~`). Default 256. */
  streamMaxLen?: number;
  /** An SSE stream's events expire this long after its last event, ms. Default 1 h. */
  streamTtlMs?: number;
  /** Shape checks per namespace for reads that pass none. Default the runtime's (halt, sessions, journal). */
  checks?: Readonly<Record<string, RecordCheck>>;
  clock?: Clock;
  /** Told of every quarantined record (also published on `andon:quarantine`). */
  onQuarantine?: (r: QuarantineReport) => void;
}

/** The commands this store uses: the same on a client, a cluster and a sentinel connection. */
type Commands = Pick<RedisClientType, 'set' | 'publish' | 'hGet' | 'hGetAll' | 'hDel' | 'hSet' | 'zAdd' | 'zRem' | 'zRangeByScore' | 'sAdd' | 'sMembers' | 'multi' | 'wait' | 'xRange' | 'del' | 'eval'>;
interface Connection {
  cmd: Commands;
  /** A second connection in subscriber mode, made on the first subscribe. */
  subscriber(): Promise<{ subscribe(ch: string, fn: (m: string) => void): Promise<unknown>; unsubscribe(ch: string, fn: (m: string) => void): Promise<unknown>; close(): Promise<unknown>; destroy(): void }>;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
}

interface Envelope {
  t: number;
  s: string;
  v: string;
}

function checkNs(ns: string): void {
  if (!/^[a-z0-9_-]+$/i.test(ns)) throw new TypeError(`invalid store namespace "${ns}"`);
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A secret-free description of where the store points (for logs and errors). */
export function describeRedisTarget(o: Pick<RedisStoreOptions, 'url' | 'cluster' | 'sentinel'>): string {
  const strip = (u: string) => u.replace(/\/\/[^@/]*@/, '//');
  if (o.cluster?.length) return `redis cluster ${o.cluster.map(strip).join(',')}`;
  if (o.sentinel) return `redis sentinel ${o.sentinel.name}@${o.sentinel.nodes.map(strip).join(',')}`;
  return strip(o.url ?? 'redis://127.0.0.1:6379');
}

/** Cluster and Sentinel connections subscribe on the connection itself (they manage their own subscriber nodes). */
function shardless(c: unknown): never {
  const x = c as { subscribe: unknown; unsubscribe: unknown };
  return { subscribe: (x.subscribe as (...a: unknown[]) => unknown).bind(c), unsubscribe: (x.unsubscribe as (...a: unknown[]) => unknown).bind(c), close: async () => {}, destroy: () => {} } as never;
}

/**
 * Rejects when `p` has not settled within `ms`: a stalled Redis fails the store call (the caller
 * retries or reports) instead of hanging a request. The command itself may still be applied
 * later, when Redis wakes up; every write here is idempotent (a whole value under one key).
 */
function bounded<T>(clock: Clock, p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`store ${what}: no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => timer && clock.clearTimeout(timer));
}

export class RedisStore implements Store {
  /** Nodes share this state: one key per session, lookups on a miss (src/runtime/session-persistence.ts). */
  readonly shared = true;
  private conn: Connection | undefined;
  private opening: Promise<void> | undefined;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly checks: Readonly<Record<string, RecordCheck>>;
  private readonly knownNs = new Set<string>();
  /** Records quarantined since open. */
  readonly quarantined: QuarantineReport[] = [];

  constructor(private readonly options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'andon';
    this.clock = options.clock ?? systemClock;
    this.checks = options.checks ?? DEFAULT_CHECKS;
  }

  /** Where this store points, without credentials. */
  get target(): string {
    return describeRedisTarget({ url: this.options.url, cluster: this.options.cluster, sentinel: this.options.sentinel });
  }

  /** Connects (once). Rejects when Redis cannot be reached within the command budget. */
  open(): Promise<void> {
    this.opening ??= this.connect().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const redis = await import('redis');
    const o = this.options;
    const timeout = o.commandTimeoutMs ?? 5_000;
    const socket = { connectTimeout: timeout, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) };
    let conn: Connection;
    if (o.cluster?.length) {
      const c = redis.createCluster({ rootNodes: o.cluster.map((url) => ({ url, socket })), defaults: { commandOptions: { timeout } } as never });
      conn = { cmd: c as unknown as Commands, connect: () => c.connect(), close: () => c.close(), destroy: () => c.destroy(), subscriber: () => Promise.resolve(shardless(c)) };
    } else if (o.sentinel) {
      const hostPort = (u: string) => {
        const x = new URL(u);
        return { host: x.hostname, port: Number(x.port || 26379) };
      };
      const s = redis.createSentinel({ name: o.sentinel.name, sentinelRootNodes: o.sentinel.nodes.map(hostPort), nodeClientOptions: { socket, commandOptions: { timeout } } as never });
      conn = { cmd: s as unknown as Commands, connect: () => s.connect(), close: () => s.close(), destroy: () => void s.destroy(), subscriber: () => Promise.resolve(shardless(s)) };
    } else {
      const c = redis.createClient({ url: o.url ?? 'redis://127.0.0.1:6379', socket, commandOptions: { timeout } } as never) as unknown as RedisClientType;
      conn = {
        cmd: c,
        connect: () => c.connect(),
        close: () => c.close(),
        destroy: () => c.destroy(),
        subscriber: async () => {
          const sub = c.duplicate();
          sub.on('error', () => {});
          await bounded(this.clock, sub.connect(), timeout, `subscribe (${this.target})`);
          return sub as never;
        },
      };
    }
    // Errors on the connection are answered per command (rejections); the event must be handled
    // or node-redis would throw it at the process.
    let lastError = '';
    (conn.cmd as unknown as { on(ev: string, f: (e: unknown) => void): void }).on('error', (e) => {
      lastError = e instanceof Error ? e.message : String(e);
    });
    const connected = conn.connect();
    try {
      await bounded(this.clock, connected, timeout, `open (${this.target})`);
    } catch (err) {
      conn.destroy();
      throw new Error(`cannot reach ${this.target}: ${lastError ? `${lastError.replace(/\/\/[^@/]*@/g, '//')} (` : ''}${(err as Error).message}${lastError ? ')' : ''}`);
    }
    this.conn = conn;
  }

  private get budget(): number {
    return this.options.commandTimeoutMs ?? 5_000;
  }

  private get cmd(): Commands {
    if (!this.conn) throw new Error(`RedisStore used before open() (${this.target})`);
    return this.conn.cmd;
  }

  private key(ns: string, part: 'v' | 't' | 'q'): string {
    return `${this.prefix}:{${ns}}:${part}`;
  }

  /** Decodes one raw hash value; a value that is not our envelope or fails its check is quarantined. */
  private async decode<T>(ns: string, key: string, raw: string, options: ReadOptions): Promise<StoredEntry<T> | undefined> {
    let problem: string | null = null;
    let env: Envelope | undefined;
    let value: unknown;
    try {
      env = JSON.parse(raw) as Envelope;
      if (typeof env !== 'object' || env === null || typeof env.v !== 'string' || typeof env.s !== 'string' || typeof env.t !== 'number') problem = 'not an andon-store envelope';
      else if (sha(env.v) !== env.s) problem = 'checksum mismatch (edited or torn value)';
      else value = JSON.parse(env.v);
    } catch (err) {
      problem = `unparseable: ${(err as Error).message}`;
    }
    if (problem === null) {
      const check = options.validate ?? this.checks[ns];
      const bad = check ? check(value) : null;
      if (bad !== null) problem = `wrong shape: ${bad}`;
    }
    if (problem === null) return { key, value: value as T, savedAt: env!.t };
    await this.quarantine(ns, key, raw, problem, options);
    return undefined;
  }

  private async quarantine(ns: string, key: string, raw: string, reason: string, options: ReadOptions): Promise<void> {
    const report: QuarantineReport = { ns, key, file: `${this.key(ns, 'q')}#${key}`, reason };
    const m = this.cmd.multi().hSet(this.key(ns, 'q'), key, JSON.stringify({ reason, at: this.clock.now(), raw })).hDel(this.key(ns, 'v'), key).zRem(this.key(ns, 't'), key);
    await bounded(this.clock, m.exec(), this.budget, `quarantine ${ns}/${key}`);
    this.quarantined.push(report);
    this.options.onQuarantine?.(report);
    options.onReject?.(report);
    publishQuarantine(report);
  }

  async get<T = unknown>(ns: string, key: string, options: ReadOptions = {}): Promise<T | undefined> {
    checkNs(ns);
    const raw = await bounded(this.clock, this.cmd.hGet(this.key(ns, 'v'), key), this.budget, `get ${ns}/${key}`);
    if (raw === null || raw === undefined) return undefined;
    return (await this.decode<T>(ns, key, String(raw), options))?.value;
  }

  async set(ns: string, key: string, value: unknown): Promise<void> {
    checkNs(ns);
    const payload = JSON.stringify(value);
    if (payload === undefined) throw new TypeError(`store value for ${ns}/${key} is not JSON-serialisable`);
    const t = this.clock.now();
    const env: Envelope = { t, s: sha(payload), v: payload };
    if (!this.knownNs.has(ns)) {
      await bounded(this.clock, this.cmd.sAdd(`${this.prefix}:namespaces`, ns), this.budget, `set ${ns}/${key}`);
      this.knownNs.add(ns);
    }
    await bounded(this.clock, this.cmd.multi().hSet(this.key(ns, 'v'), key, JSON.stringify(env)).zAdd(this.key(ns, 't'), { score: t, value: key }).exec(), this.budget, `set ${ns}/${key}`);
    const replicas = this.options.waitReplicas ?? 0;
    if (replicas > 0) {
      const acked = Number(await bounded(this.clock, this.cmd.wait(replicas, this.budget), this.budget + 1_000, `set ${ns}/${key} (WAIT)`));
      if (acked < replicas) throw new Error(`store write ${ns}/${key} reached ${acked} of ${replicas} replicas within the budget`);
    }
  }

  async claim(ns: string, key: string, owner: string, ttlMs: number): Promise<boolean> {
    checkNs(ns);
    const k = `${this.prefix}:{${ns}}:claim:${key}`;
    const r = await bounded(this.clock, this.cmd.set(k, owner, { NX: true, PX: Math.max(1, Math.round(ttlMs)) } as never), this.budget, `claim ${ns}/${key}`);
    return r !== null;
  }

  async unclaim(ns: string, key: string, owner: string): Promise<void> {
    checkNs(ns);
    const k = `${this.prefix}:{${ns}}:claim:${key}`;
    const script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    await bounded(this.clock, this.cmd.eval(script, { keys: [k], arguments: [owner] }), this.budget, `unclaim ${ns}/${key}`);
  }

  /**
   * The node-redis command client once open (undefined before `open()` and after `close()`): the
   * distributed rate limits (src/resilience/redis-rate-limits.ts) run rate-limiter-flexible on it.
   */
  commandClient(): unknown {
    return this.conn?.cmd;
  }

  /** The key prefix of this cluster's keys. */
  get keyPrefix(): string {
    return this.prefix;
  }

  /** Every command's budget (`commandTimeoutMs`). */
  get commandBudgetMs(): number {
    return this.budget;
  }

  async publish(channel: string, message: string): Promise<void> {
    await bounded(this.clock, this.cmd.publish(`${this.prefix}:ch:${channel}`, message), this.budget, `publish ${channel}`);
  }

  private sub: Promise<Awaited<ReturnType<Connection['subscriber']>>> | undefined;

  /**
   * SSE events on Redis Streams: `p:es:<stream>` holds entries `{e: event id, d: data}`, trimmed
   * to about `streamMaxLen` (`XADD MAXLEN ~`) and expiring `streamTtlMs` after the last event.
   */
  readonly eventLog: EventLog = {
    append: async (stream, eventId, data) => {
      const k = `${this.prefix}:es:${stream}`;
      const trim = { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold: this.options.streamMaxLen ?? 256 } };
      const m = this.cmd.multi().xAdd(k, '*', { e: eventId, d: data }, trim).pExpire(k, this.options.streamTtlMs ?? 3_600_000);
      await bounded(this.clock, m.exec(), this.budget, `append event to ${stream}`);
    },
    read: async (stream) => {
      const r = await bounded(this.clock, this.cmd.xRange(`${this.prefix}:es:${stream}`, '-', '+'), this.budget, `read events of ${stream}`);
      const out: Array<{ eventId: string; data: string }> = [];
      for (const x of (r ?? []) as Array<{ message: Record<string, unknown> }>) {
        const e = x.message?.e;
        const d = x.message?.d;
        if (typeof e === 'string' && typeof d === 'string') out.push({ eventId: e, data: d });
      }
      return out;
    },
    drop: async (stream) => {
      await bounded(this.clock, this.cmd.del(`${this.prefix}:es:${stream}`), this.budget, `drop events of ${stream}`);
    },
  };

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const conn = this.conn;
    if (!conn) throw new Error(`RedisStore used before open() (${this.target})`);
    this.sub ??= conn.subscriber();
    const sub = await this.sub;
    const ch = `${this.prefix}:ch:${channel}`;
    const fn = (m: string) => {
      try {
        onMessage(String(m));
      } catch {
        // A subscriber's failure is its own; the connection keeps delivering.
      }
    };
    await bounded(this.clock, sub.subscribe(ch, fn), this.budget, `subscribe ${channel}`);
    return async () => {
      await bounded(this.clock, sub.unsubscribe(ch, fn), this.budget, `unsubscribe ${channel}`).catch(() => {});
    };
  }

  async delete(ns: string, key: string): Promise<void> {
    checkNs(ns);
    await bounded(this.clock, this.cmd.multi().hDel(this.key(ns, 'v'), key).zRem(this.key(ns, 't'), key).exec(), this.budget, `delete ${ns}/${key}`);
  }

  async list<T = unknown>(ns: string, options: ReadOptions = {}): Promise<StoredEntry<T>[]> {
    checkNs(ns);
    const all = (await bounded(this.clock, this.cmd.hGetAll(this.key(ns, 'v')), this.budget, `list ${ns}`)) as unknown as Record<string, string>;
    const out: StoredEntry<T>[] = [];
    for (const [key, raw] of Object.entries(all)) {
      const e = await this.decode<T>(ns, key, String(raw), options);
      if (e) out.push(e);
    }
    return out;
  }

  async prune(olderThan: number, keep: readonly string[] = NEVER_PRUNED): Promise<number> {
    let n = 0;
    const namespaces = (await bounded(this.clock, this.cmd.sMembers(`${this.prefix}:namespaces`), this.budget, 'prune')) as unknown as string[];
    for (const ns of namespaces) {
      if (keep.includes(ns) || !/^[a-z0-9_-]+$/i.test(ns)) continue;
      const old = (await bounded(this.clock, this.cmd.zRangeByScore(this.key(ns, 't'), '-inf', `(${olderThan}`), this.budget, `prune ${ns}`)) as unknown as string[];
      if (old.length === 0) continue;
      await bounded(this.clock, this.cmd.multi().hDel(this.key(ns, 'v'), old).zRem(this.key(ns, 't'), old).exec(), this.budget, `prune ${ns}`);
      n += old.length;
    }
    return n;
  }

  async close(): Promise<void> {
    const c = this.conn;
    const sub = this.sub;
    this.conn = undefined;
    this.sub = undefined;
    this.opening = undefined;
    if (sub) {
      const s = await sub.catch(() => undefined);
      if (s) await bounded(this.clock, s.close(), this.budget, 'close').catch(() => s.destroy());
    }
    this.knownNs.clear();
    // A stalled Redis never answers QUIT: give up after the budget and drop the socket.
    if (c) await bounded(this.clock, c.close(), this.budget, 'close').catch(() => c.destroy());
  }
}
