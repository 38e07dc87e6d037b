/**
 * The andon runtime: runs an McpServer inside a supervision tree, with persistent halt states,
 * a three-phase drain, crash-safe persistence of sessions and an exactly-once journal, and an
 * operator API on a separate ops listener. Every way of serving (npm start, the examples,
 * `andon serve`) goes through here, so halt, drain and persistence work the same everywhere.
 *
 * This file is the composition root; each concern is its own module: components.ts (tree,
 * halt/resume), drain.ts, session-persistence.ts, journal.ts, failure-detection.ts,
 * process-signals.ts, admin-token.ts, http-listen.ts, admission-gate.ts, health-feed.ts.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { McpServer } from '../server/server.js';
import type { AdmissionPipeline } from '../admission/pipeline.js';
import type { Store } from '../store/store.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import { serveStdio, type StdioConnection } from '../transports/stdio.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import type { OpsServer } from '../admin/ops-server.js';
// Observability pulls in prom-client, nodemailer and OpenTelemetry (30-40 ms of imports each);
// it is loaded when a runtime starts, so `import 'andon-mcp'` alone stays quick to cold-start.
import type { Observability } from '../observability/observability.js';
import { HaltRegistry, type HaltRecord } from './halt.js';
import type { Supervisor, ComponentInfo } from './supervisor.js';
import { EXIT, envInt, type DrainResult, type RuntimeOptions } from './options.js';
import { Drainer, type DrainPhase } from './drain.js';
import { SessionPersistence } from './session-persistence.js';
import { Journal } from './journal.js';
import { FailureDetector } from './failure-detection.js';
import { installProcessHandlers } from './process-signals.js';
import { loadAdminToken } from './admin-token.js';
import { ComponentTree } from './components.js';
import { feedHalted } from './health-feed.js';
import type { ReloadReport } from '../config/reload.js';
import { defaultStore, finishDrain, startObservability, startOps, wireServer } from './wiring.js';
import { listenHttp } from './http-listen.js';

export { EXIT, type DrainResult, type RuntimeOptions } from './options.js';
const DAY = 24 * 60 * 60 * 1000;

export class Runtime {
  readonly server: McpServer;
  readonly store: Store;
  readonly halts: HaltRegistry;
  readonly stateDir: string;
  readonly clock: Clock;
  /** Session persistence and the exactly-once journal (undefined with `journal: false`). */
  readonly sessions: SessionPersistence;
  readonly journal: Journal | undefined;
  ops: OpsServer | undefined;
  /** Metrics, health, alerts; undefined when turned off. */
  obs: Observability | undefined;
  adminToken = '';
  private readonly opts: RuntimeOptions;
  private readonly log: Logger;
  private readonly tree: ComponentTree;
  private readonly drainer: Drainer;
  private readonly failures: FailureDetector;
  private flushTimer: Timer | undefined;
  /** Re-applies the configuration (src/config/reload.ts); set by whoever loaded it. SIGHUP and POST /admin/config/reload call {@link reload}. */
  reloader: { reload(): ReloadReport } | undefined;

  constructor(options: RuntimeOptions) {
    this.opts = options;
    this.server = options.server;
    this.log = options.logger ?? nullLogger;
    // One clock for the whole node: the runtime's, else the server's; transports read server.clock.
    this.clock = options.clock ?? this.server.clock ?? systemClock;
    this.server.clock = this.clock;
    this.stateDir = resolve(options.stateDir ?? process.env.ANDON_STATE_DIR ?? './.andon');
    this.store = options.store ?? defaultStore(this.stateDir, this.log);
    this.halts = new HaltRegistry(this.store, this.clock);
    this.sessions = new SessionPersistence(this.store, this.log);
    this.journal = options.journal === false ? undefined : new Journal(this.server, this.store, this.clock, this.log, options.journal);
    this.failures = new FailureDetector(this.log);
    const phase = () => this.drainer.phase;
    const { server, log, clock, halts, failures } = this;
    const { intensity, backoff } = options;
    this.tree = new ComponentTree({ server, halts, log, clock, failures, intensity, backoff, phase, graceMs: () => this.graceMs, onChange: () => feedHalted(this.halts), onEscalate: (err) => this.escalated(err) });
    this.drainer = new Drainer({
      server,
      clock,
      log,
      graceMs: () => this.graceMs,
      haltMs: () => this.opts.drain?.haltMs ?? envInt('ANDON_DRAIN_HALT_MS') ?? 10_000,
      stopAccepting: (reason) => this.http?.handler.setAccepting(false, reason),
      halting: () => this.halting(),
      finish: () => finishDrain(this.obs, this.ops, this.log),
    });
  }

  private escalated(err: Error): void {
    this.log.error({ err: err.message }, 'root supervisor restart intensity exceeded; draining the node');
    void this.drain('restart intensity exceeded at the root').then((r) => this.opts.exit?.(r.graceExpired ? EXIT.graceExpired : EXIT.fatal));
  }

  /** The supervision tree's root and the tools' supervisor. */
  /** The server's admission pipeline: `runtime.admission.use({ name, phase, admit, around, visible })`. */
  get admission(): AdmissionPipeline {
    return this.server.admission;
  }
  get root(): Supervisor {
    return this.tree.root;
  }
  get tools(): Supervisor {
    return this.tree.tools;
  }
  get http(): HttpEndpoint | undefined {
    return this.tree.http;
  }
  get stdio(): StdioConnection | undefined {
    return this.tree.stdio;
  }
  /** Base URL of the MCP endpoint, when HTTP is served. */
  get url(): string | undefined {
    return this.http?.url;
  }
  /** Current drain phase. */
  get drainPhase(): DrainPhase {
    return this.drainer.phase;
  }
  private get graceMs(): number {
    return this.opts.drain?.graceMs ?? envInt('ANDON_DRAIN_GRACE_MS') ?? 30_000;
  }

  /**
   * Opens state, restores what was saved, starts the tree, then listens. Nothing is served before
   * sessions and the journal are restored. A busy MCP port rejects with ANDON_LISTEN_FAILED.
   */
  async start(): Promise<void> {
    await this.store.open();
    await mkdir(this.stateDir, { recursive: true });
    const removed = await this.store.prune(this.clock.now() - (this.opts.staleMs ?? 7 * DAY));
    if (removed) this.log.info({ removed }, 'removed stale state');
    const halted = await this.halts.load();
    for (const h of halted) this.log.warn({ component: h.id, state: h.state, reason: h.reason, since: new Date(h.since).toISOString() }, 'component is halted from a previous run');
    this.adminToken = await loadAdminToken(this.stateDir, this.log, this.opts.adminToken);
    (this.log as { addSecret?: (v: string) => void }).addSecret?.(this.adminToken);
    const d = { log: this.log, stateDir: this.stateDir, store: this.store, halts: this.halts, http: () => this.http, phase: () => this.drainer.phase };
    if (this.opts.observability !== false) this.obs = await startObservability(this.opts, d);
    wireServer(this.server, { failures: this.failures, sessions: this.sessions, journal: this.journal, gate: { phase: d.phase, halts: this.halts, serverHalted: () => this.tree.serverHalted } });
    await this.tree.start();
    try {
      await this.listen();
    } catch (err) {
      // Nothing was served and no halt is persisted: undo what started so the caller can exit cleanly.
      await this.root.stop('start failed');
      await this.obs?.stop();
      await this.store.close();
      throw err;
    }
    this.scheduleFlush();
    if (this.opts.ops !== false) this.ops = await startOps(this, this.opts.ops ?? {}, this.log);
    if (this.opts.signals !== false) {
      installProcessHandlers({
        log: this.log,
        exit: (code) => this.exitAfterDrain(code),
        drain: (reason) => this.drain(reason),
        flush: () => this.flush(),
        escaped: (err, how) => this.failures.escaped(err, how),
        reload: () => {
          if (!this.reload()) this.log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: this node has no configuration reloader');
        },
        shortenDrain: () => void (this.opts.drain = { graceMs: Math.min(this.graceMs, 2000), haltMs: 3000 }),
      });
    }
    // Halts restored from the previous run reach readiness and the gauges now that the tree knows them.
    feedHalted(this.halts);
    this.log.info({ url: this.http?.url, ops: this.ops?.url, stateDir: this.stateDir, halted: halted.map((h) => h.id) }, 'andon runtime started');
  }

  /** Restores sessions and the journal into the HTTP handler, then listens; then stdio. */
  private async listen(): Promise<void> {
    if (this.opts.http !== false) {
      const http = await listenHttp(this.server, this.opts.http ?? {}, this.log, { halts: this.halts, sessions: this.sessions, journal: this.journal });
      await this.tree.addHttp(http);
    }
    if (this.opts.stdio) {
      const s = typeof this.opts.stdio === 'object' ? this.opts.stdio : {};
      await this.tree.addStdio(() => serveStdio(this.server, s));
    }
  }

  private scheduleFlush(): void {
    const every = this.opts.flushMs ?? 200;
    this.flushTimer = this.clock.setTimeout(() => {
      void this.flush().finally(() => {
        if (this.flushTimer) this.scheduleFlush();
      });
    }, every);
    this.flushTimer.unref?.();
  }

  /** Writes changed session buckets now (the journal is written as calls start and end). */
  async flush(): Promise<void> {
    await this.sessions.flush();
  }

  /** Component table: the tree plus the node itself. */
  components(): ComponentInfo[] {
    return this.tree.components();
  }

  /** Pulls the cord on one component (or `node`). Persisted; survives restarts. */
  halt(id: string, reason: string, by = 'operator'): Promise<HaltRecord> {
    return this.tree.halt(id, reason, by);
  }

  /** Resumes a halted component (or `node`). */
  resume(id: string, by = 'operator'): Promise<void> {
    return this.tree.resume(id, by);
  }

  /**
   * Drains the node in three phases: DRAINING (refuse new work with 503/-32001, let in-flight
   * requests finish within the grace), HALTING (abort what is left with notifications/cancelled,
   * close streams and listeners, save state), STOPPED. Idempotent: a second call returns the same drain.
   */
  drain(reason = 'shutdown'): Promise<DrainResult> {
    return this.drainer.drain(reason);
  }

  private async halting(): Promise<void> {
    // The last request to finish resolves the idle wait a few promise jobs before its transport
    // writes the response: let those jobs run before the streams are closed.
    await new Promise<void>((r) => setImmediate(r));
    await this.flush();
    this.sessions.stop();
    await this.http?.close();
    this.stdio?.close();
    await this.root.stop('drain');
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.sessions.settled();
    await this.journal?.settled();
    await this.halts.settled();
    await this.store.close();
  }

  /** Re-reads the configuration and applies what can change live; undefined when no reloader is set. */
  reload(): ReloadReport | undefined {
    return this.reloader?.reload();
  }

  /** @internal Exits after an admin-initiated drain, as after a signal. */
  exitAfterDrain(code: number): void {
    (this.opts.exit ?? ((c: number) => process.exit(c)))(code);
  }
}

/** Creates (does not start) a runtime around `server`. */
export function createRuntime(options: RuntimeOptions): Runtime {
  return new Runtime(options);
}
