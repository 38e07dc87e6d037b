/**
 * The andon runtime: runs an McpServer inside a supervision tree, with persistent halt states,
 * a three-phase drain, crash-safe persistence of sessions and in-flight requests, and an
 * operator API on a separate ops listener. Every way of serving (npm start, the examples,
 * `andon serve`) goes through here, so halt, drain and persistence work the same everywhere.
 *
 * Component ids: `node`, `store`, `server:<name>`, `transport:http`, `transport:stdio`,
 * `tool:<name>`, `ops`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, McpError } from '../protocol/errors.js';
import type { JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { errorResponse, resultResponse } from '../protocol/jsonrpc.js';
import { RequestContext } from '../server/context.js';
import type { McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from '../server/types.js';
import { FileStore } from '../store/file-store.js';
import type { Store } from '../store/store.js';
import { serveHttp, type HttpEndpoint, type HttpTransportOptions } from '../transports/streamable-http.js';
import { serveStdio, type StdioConnection } from '../transports/stdio.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { OpsServer } from '../admin/ops-server.js';
import { mountAdminApi } from '../admin/admin-api.js';
import { channels, type DrainEvent } from './events.js';
// Observability pulls in prom-client, nodemailer and OpenTelemetry (30-40 ms of imports each);
// it is loaded when a runtime starts, so `import 'andon-mcp'` alone stays quick to cold-start.
import type { Observability, ObservabilityOptions } from '../observability/observability.js';
import { HaltRegistry, type HaltRecord } from './halt.js';
import type { ReloadReport } from '../config/reload.js';
import { Supervisor, UnknownComponentError, type ChildLink, type ComponentInfo } from './supervisor.js';

/** Options of {@link createRuntime}. Every field has a production default. */
export interface RuntimeOptions {
  server: McpServer;
  /** Streamable HTTP listener. Default `{ port: PORT or 3000, host: '127.0.0.1' }`; false for none. */
  http?: (HttpTransportOptions & { port?: number; host?: string }) | false;
  /** Serve stdio too (or only, with `http: false`). Default false. */
  stdio?: boolean | { input?: Readable; output?: Writable };
  /** State directory for the file store and the admin token. Default `ANDON_STATE_DIR` or `./.andon`. */
  stateDir?: string;
  /** Store backend. Default a FileStore in `stateDir`. */
  store?: Store;
  /** Ops listener (admin API, metrics, health). Default `{ port: OPS_PORT or 9464, host: '127.0.0.1' }`; false for none. */
  ops?: { port?: number; host?: string } | false;
  /** Admin bearer token. Default `ANDON_ADMIN_TOKEN`, else generated once into `<stateDir>/admin-token` (0600). */
  adminToken?: string;
  /** Drain phases: in-flight grace (default 30 s) and halting budget (default 10 s). */
  drain?: { graceMs?: number; haltMs?: number };
  /** When a tool counts as crashed: N consecutive thrown failures (default 5), or a failure rate. */
  toolFailures?: { consecutive?: number; rate?: { threshold: number; minCalls: number; windowMs: number } };
  /** Restart intensity (default 5 in 60 s) and backoff (default 100 ms doubling to 5 s). */
  intensity?: { maxRestarts: number; windowMs: number };
  backoff?: { baseMs: number; maxMs: number };
  /** State older than this is removed on start. Default 7 days. */
  staleMs?: number;
  /** How often session and in-flight changes are flushed to the store. Default 200 ms. */
  flushMs?: number;
  /** Install SIGTERM/SIGINT handlers that drain and exit. Default true. */
  signals?: boolean;
  /**
   * Metrics, request logs, health and alerts (see docs/operations.md). Alerts are configured by
   * `observability.alerts`, or by the JSON file named in ANDON_ALERTS_CONFIG. `false` turns it off.
   */
  observability?: Omit<ObservabilityOptions, 'server' | 'logger' | 'stateDir'> | false;
  /** Called with the exit code after a signal-initiated drain. Default process.exit. */
  exit?: (code: number) => void;
  logger?: Logger;
}

/** What a drain did. */
export interface DrainResult {
  /** True when in-flight requests were still running at the end of the grace period. */
  graceExpired: boolean;
  drained: number;
  forced: number;
  durationMs: number;
}

/** Exit codes: 0 drained cleanly; 3 the grace ran out and requests were aborted; 4 forced by a second signal; 70 fatal. */
export const EXIT = { ok: 0, graceExpired: 3, forced: 4, fatal: 70 } as const;

interface SessionRecord {
  id: string;
  protocolVersion: string;
  clientInfo?: Implementation;
  clientCapabilities: ClientCapabilities;
  logLevel?: LoggingLevel;
  subscriptions: string[];
  lastActivity: number;
  completed?: Array<[RequestId, JsonRpcResponse]>;
}

interface JournalEntry {
  sessionId: string;
  requestId: RequestId;
  tool: string;
  arguments: Record<string, unknown>;
  protocolVersion: string;
}

const BUCKETS = 64;

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer (ms), got "${v}"`);
  return n;
}
const DAY = 24 * 60 * 60 * 1000;

function bucketOf(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return String(h % BUCKETS);
}

export class Runtime {
  readonly server: McpServer;
  readonly store: Store;
  readonly halts: HaltRegistry;
  readonly root: Supervisor;
  readonly tools: Supervisor;
  readonly stateDir: string;
  private readonly opts: RuntimeOptions;
  private readonly log: Logger;
  http: HttpEndpoint | undefined;
  stdio: StdioConnection | undefined;
  ops: OpsServer | undefined;
  /** Metrics, health, alerts; undefined when turned off. */
  obs: Observability | undefined;
  adminToken = '';
  private phase: DrainEvent['phase'] = 'running';
  private phaseSince = Date.now();
  private drainPromise: Promise<DrainResult> | undefined;
  private readonly toolLinks = new Map<string, ChildLink>();
  private readonly toolStats = new Map<string, { consecutive: number; window: Array<[number, boolean]> }>();
  private readonly dirtyBuckets = new Set<string>();
  private readonly sessionsByBucket = new Map<string, Map<string, Session>>();
  private flushTimer: NodeJS.Timeout | undefined;
  private journaledVersion = -1;
  private journalCount = 0;
  private serverHalted: string | null = null;
  private signalCount = 0;
  /** Off once shutdown starts: closing the transport must not erase the sessions we keep. */
  private persistSessions = true;
  private readonly toolScope = new AsyncLocalStorage<string>();
  /** Re-applies the configuration (src/config/reload.ts); set by whoever loaded it. SIGHUP and POST /admin/config/reload call {@link reload}. */
  reloader: { reload(): ReloadReport } | undefined;

  constructor(options: RuntimeOptions) {
    this.opts = options;
    this.server = options.server;
    this.log = options.logger ?? nullLogger;
    this.stateDir = resolve(options.stateDir ?? process.env.ANDON_STATE_DIR ?? './.andon');
    this.store =
      options.store ??
      new FileStore({
        dir: this.stateDir,
        onQuarantine: (r) => this.log.error({ ns: r.ns, key: r.key, file: r.file, reason: r.reason }, 'CORRUPT STATE FILE QUARANTINED: it was not loaded; inspect it and restore by hand if needed'),
      });
    this.halts = new HaltRegistry(this.store);
    const sup = { halts: this.halts, logger: this.log, intensity: options.intensity, backoff: options.backoff };
    this.root = new Supervisor({ id: 'node', strategy: 'one_for_one', ...sup });
    this.tools = new Supervisor({ id: 'tools', strategy: 'one_for_one', ...sup });
    this.root.onEscalate = (err) => {
      this.log.error({ err: err.message }, 'root supervisor restart intensity exceeded; draining the node');
      void this.drain('restart intensity exceeded at the root').then((r) => this.opts.exit?.(r.graceExpired ? EXIT.graceExpired : EXIT.fatal));
    };
  }

  /** Base URL of the MCP endpoint, when HTTP is served. */
  get url(): string | undefined {
    return this.http?.url;
  }

  /** Opens state, restores what was saved, starts the tree. */
  async start(): Promise<void> {
    await this.store.open();
    await mkdir(this.stateDir, { recursive: true });
    const removed = await this.store.prune(Date.now() - (this.opts.staleMs ?? 7 * DAY));
    if (removed) this.log.info({ removed }, 'removed stale state');
    const halted = await this.halts.load();
    for (const h of halted) this.log.warn({ component: h.id, state: h.state, reason: h.reason, since: new Date(h.since).toISOString() }, 'component is halted from a previous run');
    this.adminToken = await this.loadAdminToken();
    (this.log as { addSecret?: (v: string) => void }).addSecret?.(this.adminToken);
    if (this.opts.observability !== false) await this.startObservability();
    this.installServerHooks();

    await this.root.add({ id: 'store', kind: 'store', critical: true, start: () => ({ stop: () => {} }) });
    const serverId = `server:${this.server.info.name}`;
    await this.root.add({
      id: serverId,
      kind: 'server',
      critical: true,
      start: () => {
        this.serverHalted = null;
        return { stop: (reason) => void (this.serverHalted = this.halts.isHalted(serverId) ? reason : null) };
      },
    });
    if (this.halts.isHalted(serverId)) this.serverHalted = this.halts.get(serverId)!.reason;
    for (const name of this.server.toolNames()) {
      // A tool halted in a previous run is not started, so hide it here, before any request.
      const h = this.halts.get(`tool:${name}`);
      if (h) this.server.setToolHalted(name, h.reason);
      await this.tools.add(this.toolSpec(name));
    }
    await this.root.add(this.tools.asChild());
    if (this.opts.http !== false) await this.root.add(this.httpSpec());
    if (this.opts.stdio) await this.root.add(this.stdioSpec());
    await this.root.start();
    if (this.halts.isHalted('node')) this.applyNodeHalt(this.halts.get('node')!.reason);
    // Halts restored from the previous run reach readiness and the gauges now that the tree knows them.
    this.feedHealth();
    await this.restoreSessions();
    await this.recoverJournal();
    this.flushTimer = setInterval(() => void this.flush(), this.opts.flushMs ?? 200);
    this.flushTimer.unref();
    if (this.opts.ops !== false) {
      const o = this.opts.ops ?? {};
      this.ops = new OpsServer({ token: this.adminToken, port: o.port, host: o.host });
      mountAdminApi(this.ops, this);
      if (this.obs) (await import('../observability/mount.js')).mountObservability(this.ops, this.obs);
      await this.ops.listen();
    }
    if (this.opts.signals !== false) this.installSignals();
    this.log.info({ url: this.http?.url, ops: this.ops?.url, stateDir: this.stateDir, halted: halted.map((h) => h.id) }, 'andon runtime started');
  }

  private async startObservability(): Promise<void> {
    const { createObservability } = await import('../observability/observability.js');
    const { loadAlertsConfig } = await import('../observability/alerts/config.js');
    const o = this.opts.observability || {};
    const file = process.env.ANDON_ALERTS_CONFIG;
    const alerts = o.alerts ?? (file ? loadAlertsConfig(file) : undefined);
    this.obs = createObservability({
      ...o,
      alerts,
      server: this.server,
      logger: this.log,
      stateDir: this.stateDir,
      onSecret: (v) => (this.log as { addSecret?: (v: string) => void }).addSecret?.(v),
    });
    this.obs.health.register('store', async () => {
      await this.store.get('health', 'probe');
    }, { critical: true });
    this.obs.health.register('transport:http', () => {
      if (this.http && !this.http.handler.isAccepting && this.phase === 'running' && !this.halts.isHalted('node') && !this.halts.isHalted('transport:http')) {
        throw new Error('HTTP transport is not accepting requests');
      }
    });
    this.feedHealth();
  }

  /** Has the halt registry publish the full halt set (health and metrics follow it; readiness fails on a critical one). */
  private feedHealth(): void {
    this.halts.publishState();
  }

  private async loadAdminToken(): Promise<string> {
    if (this.opts.adminToken) return this.opts.adminToken;
    if (process.env.ANDON_ADMIN_TOKEN) return process.env.ANDON_ADMIN_TOKEN;
    const file = join(this.stateDir, 'admin-token');
    try {
      const t = (await readFile(file, 'utf8')).trim();
      if (t) return t;
    } catch {
      // First start: generate below.
    }
    const token = randomBytes(24).toString('base64url');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    this.log.info({ file }, 'generated an admin token (mode 0600); ANDON_ADMIN_TOKEN overrides it');
    return token;
  }

  // ───────────────────────────── components ─────────────────────────────

  private toolSpec(name: string) {
    const id = `tool:${name}`;
    return {
      id,
      kind: 'tool',
      start: (link: ChildLink) => {
        this.toolLinks.set(name, link);
        this.toolStats.set(name, { consecutive: 0, window: [] });
        this.server.setToolUnavailable(name, null);
        this.server.setToolHalted(name, null);
        return {
          stop: (reason: string) => {
            this.toolLinks.delete(name);
            // Halted: hidden and refused with the operator's reason. Restarting: still listed,
            // refused with a clear error until the supervisor brings it back.
            if (this.halts.isHalted(id)) this.server.setToolHalted(name, this.halts.get(id)!.reason);
            else this.server.setToolUnavailable(name, `restarting after failures (${reason})`);
          },
        };
      },
    };
  }

  private httpSpec() {
    const o = this.opts.http || {};
    return {
      id: 'transport:http',
      kind: 'transport',
      critical: true,
      start: async (link: ChildLink) => {
        if (!this.http) {
          this.http = await serveHttp(this.server, { ...o, port: o.port ?? Number(process.env.PORT ?? 3000), host: o.host ?? '127.0.0.1', logger: this.log });
          this.http.httpServer.on('error', (err) => link.crashed(err));
        }
        this.http.handler.setAccepting(this.phase === 'running' && !this.halts.isHalted('node'));
        return {
          stop: async (reason: string) => {
            this.http?.handler.setAccepting(false, `Service Unavailable: transport halted (${reason})`);
            await this.server.whenIdle(5000);
          },
        };
      },
    };
  }

  private stdioSpec() {
    const s = typeof this.opts.stdio === 'object' ? this.opts.stdio : {};
    return {
      id: 'transport:stdio',
      kind: 'transport',
      restart: 'transient' as const,
      start: (link: ChildLink) => {
        this.stdio = serveStdio(this.server, s);
        void this.stdio.closed.then(() => link.exited());
        return { stop: () => this.stdio?.close() };
      },
    };
  }

  private installServerHooks(): void {
    this.server.toolScope = this.toolScope;
    const consecutive = this.opts.toolFailures?.consecutive ?? 5;
    const rate = this.opts.toolFailures?.rate;
    this.server.observer = {
      toolResult: (name, error) => {
        const st = this.toolStats.get(name);
        if (!st) return;
        const now = Date.now();
        if (rate) {
          st.window.push([now, error === undefined]);
          while (st.window.length && now - st.window[0]![0] > rate.windowMs) st.window.shift();
        }
        if (!error) {
          st.consecutive = 0;
          return;
        }
        st.consecutive++;
        let crash: string | null = null;
        if (st.consecutive >= consecutive) crash = `${st.consecutive} consecutive failures; last: ${error.message}`;
        else if (rate && st.window.length >= rate.minCalls) {
          const failed = st.window.filter(([, ok]) => !ok).length;
          if (failed / st.window.length >= rate.threshold) crash = `failure rate ${Math.round((100 * failed) / st.window.length)}% over ${st.window.length} calls; last: ${error.message}`;
        }
        if (crash) {
          st.consecutive = 0;
          st.window = [];
          this.toolLinks.get(name)?.crashed(new Error(crash));
        }
      },
      session: (s, change) => {
        if (!this.persistSessions) return;
        const b = bucketOf(s.id);
        let m = this.sessionsByBucket.get(b);
        if (!m) this.sessionsByBucket.set(b, (m = new Map()));
        if (change === 'close') m.delete(s.id);
        else m.set(s.id, s);
        this.dirtyBuckets.add(b);
      },
    };
    this.server.gate = (inc) => {
      if (this.phase !== 'running') return new McpError(ErrorCode.Unavailable, 'Server is draining; retry on another instance');
      const node = this.halts.get('node');
      if (node) return new McpError(ErrorCode.Unavailable, `Node is halted: ${node.reason}`);
      if (this.serverHalted !== null) return new McpError(ErrorCode.Unavailable, `Server ${this.server.info.name} is halted: ${this.serverHalted}`);
      void inc;
      return null;
    };
  }

  // ───────────────────────────── operator actions ─────────────────────────────

  /** Component table: the tree plus the node itself. */
  components(): ComponentInfo[] {
    const node = this.halts.get('node');
    const nodeInfo: ComponentInfo = {
      id: 'node',
      kind: 'node',
      state: node ? (node.state as ComponentInfo['state']) : this.phase === 'running' ? 'running' : 'stopped',
      restarts: 0,
      lastError: null,
      haltReason: node?.reason ?? null,
      critical: true,
    };
    // In-flight counts are derived on demand from the server's set, not kept on the hot path.
    const perTool = new Map<string, number>();
    const all = this.server.inflightRequests();
    for (const inc of all) {
      if (inc.request.method !== 'tools/call') continue;
      const id = `tool:${String(inc.request.params?.name)}`;
      perTool.set(id, (perTool.get(id) ?? 0) + 1);
    }
    nodeInfo.inflight = all.length;
    const rest = this.root.list().filter((c) => c.id !== 'tools');
    for (const c of rest) if (c.kind === 'transport' || c.kind === 'server') c.inflight = all.length;
    return [nodeInfo, ...rest, ...this.tools.list().map((c) => ({ ...c, inflight: perTool.get(c.id) ?? 0 }))];
  }

  private supervisorOf(id: string): Supervisor {
    if (this.tools.has(id)) return this.tools;
    if (this.root.has(id)) return this.root;
    throw new UnknownComponentError(id);
  }

  /** Pulls the cord on one component (or `node`). Persisted; survives restarts. */
  async halt(id: string, reason: string, by = 'operator'): Promise<HaltRecord> {
    if (id === 'node') {
      const rec = await this.halts.set('node', 'halted_manual', reason, by);
      this.applyNodeHalt(reason);
      this.feedHealth();
      await this.server.whenIdle(this.graceMs);
      return rec;
    }
    await this.supervisorOf(id).halt(id, reason, 'halted_manual', by);
    this.feedHealth();
    return this.halts.get(id)!;
  }

  /** Resumes a halted component (or `node`). */
  async resume(id: string, by = 'operator'): Promise<void> {
    if (id === 'node') {
      await this.halts.clear('node', by);
      if (this.phase === 'running') this.http?.handler.setAccepting(true);
      this.feedHealth();
      return;
    }
    await this.supervisorOf(id).resume(id, by);
    this.feedHealth();
  }

  private applyNodeHalt(reason: string): void {
    this.http?.handler.setAccepting(false, `Service Unavailable: node halted (${reason})`);
  }

  // ───────────────────────────── persistence ─────────────────────────────

  private async restoreSessions(): Promise<void> {
    if (!this.http) return;
    let n = 0;
    for (const e of await this.store.list<Record<string, SessionRecord>>('sessions')) {
      for (const rec of Object.values(e.value)) {
        const s = new Session(rec.id);
        s.protocolVersion = rec.protocolVersion;
        s.clientInfo = rec.clientInfo;
        s.clientCapabilities = rec.clientCapabilities;
        s.logLevel = rec.logLevel;
        for (const u of rec.subscriptions) s.subscriptions.add(u);
        if (rec.completed?.length) s.completed = new Map(rec.completed);
        this.http.handler.restoreSession(s);
        n++;
      }
    }
    if (n) this.log.info({ sessions: n }, 'restored sessions from the previous run');
  }

  private record(s: Session): SessionRecord {
    const r: SessionRecord = { id: s.id, protocolVersion: s.protocolVersion, clientCapabilities: s.clientCapabilities, subscriptions: [...s.subscriptions], lastActivity: s.lastActivity };
    if (s.clientInfo) r.clientInfo = s.clientInfo;
    if (s.logLevel) r.logLevel = s.logLevel;
    if (s.completed?.size) r.completed = [...s.completed];
    return r;
  }

  /** Writes dirty session buckets and, if it moved, the in-flight journal. */
  async flush(): Promise<void> {
    const buckets = [...this.dirtyBuckets];
    this.dirtyBuckets.clear();
    const writes: Promise<void>[] = [];
    for (const b of buckets) {
      const m = this.sessionsByBucket.get(b);
      const value: Record<string, SessionRecord> = {};
      for (const s of m?.values() ?? []) if (!s.closed) value[s.id] = this.record(s);
      writes.push(Object.keys(value).length ? this.store.set('sessions', b, value) : this.store.delete('sessions', b));
    }
    const v = this.server.inflightVersion;
    if (v !== this.journaledVersion) {
      this.journaledVersion = v;
      const entries: JournalEntry[] = [];
      for (const inc of this.server.inflightRequests()) {
        if (inc.era !== '2025' || !inc.session || inc.request.method !== 'tools/call') continue;
        const p = inc.request.params ?? {};
        entries.push({ sessionId: inc.session.id, requestId: inc.request.id, tool: String(p.name), arguments: (p.arguments ?? {}) as Record<string, unknown>, protocolVersion: inc.session.protocolVersion });
      }
      if (entries.length || this.journalCount) writes.push(this.store.set('journal', 'inflight', entries));
      this.journalCount = entries.length;
    }
    const results = await Promise.allSettled(writes);
    for (const r of results) if (r.status === 'rejected') this.log.error({ err: String(r.reason) }, 'failed to persist runtime state');
  }

  /**
   * Requests in flight when the previous process died: an idempotent tool is replayed once, any
   * other gets a clear error. Either way the outcome is kept on the session so a retry of the
   * same request id gets it, and the id is never executed twice.
   */
  private async recoverJournal(): Promise<void> {
    const entries = (await this.store.get<JournalEntry[]>('journal', 'inflight')) ?? [];
    if (!entries.length) return;
    await this.store.set('journal', 'inflight', []);
    for (const e of entries) {
      const session = this.http?.handler.sessions.get(e.sessionId);
      if (!session) continue;
      const settle = (response: JsonRpcResponse) => {
        session.inflight.delete(e.requestId);
        (session.completed ??= new Map()).set(e.requestId, response);
        this.server.observer.session?.(session, 'update');
      };
      if (!this.server.toolOptions(e.tool)?.idempotent) {
        this.log.warn({ session: e.sessionId, requestId: e.requestId, tool: e.tool }, 'request interrupted by the previous run failed (tool not idempotent)');
        settle(
          errorResponse(
            e.requestId,
            new McpError(ErrorCode.Unavailable, `Request interrupted by a server restart and not replayed: tool "${e.tool}" is not marked idempotent. It may or may not have taken effect; check before retrying with a new request id.`),
          ),
        );
        continue;
      }
      // Replayed in the background (it may take as long as the original); until it settles the id
      // counts as in flight, so a retry is told so instead of running it a second time.
      const ac = new AbortController();
      session.inflight.set(e.requestId, ac);
      this.log.warn({ session: e.sessionId, requestId: e.requestId, tool: e.tool }, 'replaying an idempotent request interrupted by the previous run');
      const ctx = new RequestContext(e.requestId, 'tools/call', '2025', e.protocolVersion, ac.signal, {}, session.clientCapabilities, session.clientInfo, { send: () => {} }, undefined, undefined, undefined, undefined);
      void this.server.callTool({ name: e.tool, arguments: e.arguments }, ctx, '2025').then(
        (result) => settle(resultResponse(e.requestId, result)),
        (err: unknown) => settle(errorResponse(e.requestId, err)),
      );
    }
    await this.flush();
  }

  // ───────────────────────────── drain ─────────────────────────────

  private setPhase(phase: DrainEvent['phase'], extra: Partial<DrainEvent> = {}): void {
    const now = Date.now();
    const durationMs = now - this.phaseSince;
    this.phase = phase;
    this.phaseSince = now;
    channels.drain.publish({ phase, durationMs, inflight: this.server.inflightRequests().length, ...extra });
    this.log.info({ phase, previousPhaseMs: durationMs, ...extra }, `drain: ${phase}`);
  }

  private get graceMs(): number {
    return this.opts.drain?.graceMs ?? envInt('ANDON_DRAIN_GRACE_MS') ?? 30_000;
  }

  /** Current drain phase. */
  get drainPhase(): DrainEvent['phase'] {
    return this.phase;
  }

  /**
   * Drains the node in three phases: DRAINING (refuse new work with 503/-32001, let in-flight
   * requests finish within the grace), HALTING (abort what is left with notifications/cancelled,
   * close streams and listeners, save state), STOPPED. Idempotent: a second call returns the same drain.
   */
  drain(reason = 'shutdown'): Promise<DrainResult> {
    this.drainPromise ??= this.runDrain(reason);
    return this.drainPromise;
  }

  private async runDrain(reason: string): Promise<DrainResult> {
    const started = Date.now();
    const graceMs = this.graceMs;
    const haltMs = this.opts.drain?.haltMs ?? envInt('ANDON_DRAIN_HALT_MS') ?? 10_000;
    const before = this.server.inflightRequests().length;
    this.http?.handler.setAccepting(false, `Service Unavailable: draining (${reason})`);
    this.setPhase('draining', { drained: 0, forced: 0 });
    const idle = await this.server.whenIdle(graceMs);
    const left = this.server.inflightRequests().length;
    const drained = Math.max(0, before - left);
    this.setPhase('halting', { drained, forced: left });
    let forced = 0;
    if (!idle) {
      forced = this.server.abortInflight(`server shutting down: drain grace of ${graceMs} ms ran out`);
      await this.server.whenIdle(Math.min(haltMs, 2000));
    }
    const halting = (async () => {
      await this.flush();
      this.persistSessions = false;
      await this.http?.close();
      this.stdio?.close();
      await this.root.stop(reason);
      if (this.flushTimer) clearInterval(this.flushTimer);
      await this.flush();
      await this.halts.settled();
      await this.store.close();
    })();
    const timedOut = await Promise.race([halting.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), haltMs).unref())]);
    if (timedOut) this.log.error({ haltMs }, 'halting phase ran out of time; stopping anyway');
    this.setPhase('stopped', { drained, forced });
    // Observability goes last: the stopped phase is logged and alerts in flight get to finish.
    await this.obs?.stop();
    await this.ops?.close();
    await new Promise<void>((r) => ((this.log as { flush?: (cb: () => void) => void }).flush ? (this.log as { flush: (cb: () => void) => void }).flush(() => r()) : r()));
    return { graceExpired: !idle, drained, forced, durationMs: Date.now() - started };
  }

  /** Re-reads the configuration and applies what can change live; undefined when no reloader is set. */
  reload(): ReloadReport | undefined {
    return this.reloader?.reload();
  }

  /** @internal Exits after an admin-initiated drain, as after a signal. */
  exitAfterDrain(code: number): void {
    (this.opts.exit ?? ((c: number) => process.exit(c)))(code);
  }

  private installSignals(): void {
    const exit = this.opts.exit ?? ((code: number) => process.exit(code));
    const onSignal = (sig: string) => {
      this.signalCount++;
      if (this.signalCount > 1) {
        this.log.warn({ signal: sig }, 'second signal: forcing exit now');
        void this.flush().finally(() => exit(EXIT.forced));
        return;
      }
      this.log.info({ signal: sig }, 'signal received: draining');
      void this.drain(`signal ${sig}`).then(
        (r) => exit(r.graceExpired ? EXIT.graceExpired : EXIT.ok),
        () => exit(EXIT.fatal),
      );
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    // SIGHUP reloads the configuration; without a reloader it is logged, not fatal (its default).
    process.on('SIGHUP', () => {
      if (!this.reload()) this.log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: this node has no configuration reloader');
    });
    // An error that escaped a tool handler is that tool's crash (its supervisor decides); any
    // other is fatal: save state, drain briefly, exit 70.
    const onEscaped = (err: unknown, how: string) => {
      const tool = this.toolScope.getStore();
      const error = err instanceof Error ? err : new Error(String(err));
      if (tool !== undefined && this.toolLinks.has(tool)) {
        this.log.error({ component: `tool:${tool}`, err: error.message, how }, 'error escaped a tool handler; contained as a crash of that tool');
        this.toolLinks.get(tool)!.crashed(new Error(`${how}: ${error.message}`));
        return;
      }
      this.log.error({ err: error.message, stack: error.stack, how }, 'fatal: error outside any component; saving state and exiting');
      this.opts.drain = { graceMs: Math.min(this.graceMs, 2000), haltMs: 3000 };
      void this.drain(`fatal ${how}`).finally(() => exit(EXIT.fatal));
    };
    process.on('uncaughtException', (err) => onEscaped(err, 'uncaught exception'));
    process.on('unhandledRejection', (err) => onEscaped(err, 'unhandled rejection'));
  }
}

/** Creates (does not start) a runtime around `server`. */
export function createRuntime(options: RuntimeOptions): Runtime {
  return new Runtime(options);
}
