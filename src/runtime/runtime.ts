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
import { hostname } from 'node:os';
import { ClusterHalts } from './cluster-halts.js';
import { ClusterNotify, applyLocally } from './cluster-notify.js';
import { ClusterMembers } from './cluster-members.js';
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
import { defaultStore, finishDrain, installRateLimits, startObservability, startOps, wireServer } from './wiring.js';
import type { RateLimits } from '../resilience/rate-limits.js';
import { listenHttp } from './http-listen.js';
import { startRecovery, type RecoveryStrategist } from './recovery/index.js';
import { BreakerRegistry } from '../resilience/breakers.js';
import { installBreakers } from '../resilience/breaker-stage.js';
import { FlagRegistry } from '../flags/registry.js';
import { RolloutManager } from '../flags/rollouts.js';
import { listenNetTransports, type NetTransport } from './net-transports.js';
import { startGuardian, type RuntimeGuardian } from './guardian-wiring.js';

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
  /** Rate limits per client, per tool and global (`rateLimits: false`: undefined). `setFactor`, `snapshot`. */
  readonly rateLimits: RateLimits | undefined;
  /** Metrics, health, alerts; undefined when turned off. */
  obs: Observability | undefined;
  /** The recovery strategist (src/runtime/recovery/); undefined with `recovery: false`. */
  recovery: RecoveryStrategist | undefined;
  adminToken = '';
  /** This node's name among nodes sharing a store (`RuntimeOptions.nodeId`; default host name and HTTP port). */
  readonly nodeId: string;
  /** Halts announced to and from the other nodes; undefined unless the store is shared. */
  private readonly clusterHalts: ClusterHalts | undefined;
  /** Notifications to sessions whose GET stream is on another node; undefined unless the store is shared. */
  private readonly clusterNotify: ClusterNotify | undefined;
  /** Membership (heartbeats, `andon nodes`, `andon drain --node`); undefined unless the store is shared. */
  readonly members: ClusterMembers | undefined;
  /** Circuit breakers: `tool:<name>` and `downstream:<name>` (GET /admin/breakers, `andon breakers`). */
  readonly breakers: BreakerRegistry;
  /** Feature flags (src/flags; GET /admin/flags, `andon flags`); gate entries with `flag: 'x'`. */
  readonly flags: FlagRegistry;
  /** Rollouts of feature flags with automatic rollback (src/flags/rollouts.ts; /admin/rollouts, `andon rollout`). */
  readonly rollouts: RolloutManager;
  /** The resource guardian and degradation mode (src/resilience); undefined unless `guardian` is set. */
  guardian: RuntimeGuardian | undefined;
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
    this.nodeId = options.nodeId ?? `${hostname()}-${options.http ? (options.http.port ?? 'http') : 'stdio'}`;
    // On a shared store, halts of this node and its transports are its own (stored under its id).
    this.halts = new HaltRegistry(this.store, this.clock, this.store.shared ? this.nodeId : undefined);
    this.clusterHalts = this.store.shared ? new ClusterHalts(this.store, { halt: (id, r, by) => applyLocally(() => this.tree.halt(id, r, by)), resume: (id, by) => applyLocally(() => this.tree.resume(id, by)) }, this.log, this.nodeId) : undefined;
    this.clusterNotify = this.store.shared ? new ClusterNotify(this.store, this.server, () => this.http?.handler, this.log) : undefined;
    this.members = this.store.shared ? new ClusterMembers(this.store, this.clock, this.log, this.nodeId, options.heartbeatMs ?? 2_000, { mcpUrl: () => this.url, opsUrl: () => this.ops?.url, phase: () => this.drainer.phase, degraded: () => (this.guardian?.status() as { mode?: string } | undefined)?.mode === 'degraded', sessions: () => this.server.sessionCount(), journalKey: () => this.journal?.journalKey, drain: (r) => void this.drain(r).then((x) => this.exitAfterDrain(x.graceExpired ? EXIT.graceExpired : EXIT.ok)) }) : undefined;
    this.sessions = new SessionPersistence(this.store, this.log, { clock: this.clock, staleMs: options.staleMs ?? 7 * DAY });
    this.journal = options.journal === false ? undefined : new Journal(this.server, this.store, this.clock, this.log, options.journal);
    // Another node's unfinished call becomes ANDON_INTERRUPTED only once its node is seen down.
    if (this.journal && this.members) this.journal.writerAlive = (key, since) => this.members!.journalWriterAlive(key, since);
    this.failures = new FailureDetector(this.log);
    this.breakers = new BreakerRegistry(options.breakers === false ? { enabled: false } : (options.breakers ?? {}), this.clock, this.log);
    this.flags = new FlagRegistry(this.store, this.clock, this.log, { initial: options.flags, nodeId: this.nodeId });
    this.flags.attach(this.server);
    this.rollouts = new RolloutManager(this.store, this.flags, this.server, this.clock, this.log, options.rollouts);
    this.rateLimits = installRateLimits(this.server, options.rateLimits, this.clock, this.log, this.store);
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
  /** The WebSocket, TCP and legacy SSE transports that are open. */
  get transports(): readonly NetTransport[] {
    return this.tree.net;
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
    await this.flags.start();
    await this.rollouts.start();
    this.recovery = await startRecovery(this.opts.recovery, { host: { components: () => this.components(), halt: (id, r, by) => this.tree.halt(id, r, by), canNotify: () => !!this.obs?.alerts, breakerState: (n) => this.breakers.get(n)?.state.kind }, clock: this.clock, log: this.log, store: this.store });
    wireServer(this.server, { failures: this.failures, sessions: this.sessions, journal: this.journal, gate: { phase: d.phase, halts: this.halts, serverHalted: () => this.tree.serverHalted } });
    installBreakers(this.server, this.breakers);
    await this.tree.start();
    await this.clusterHalts?.start();
    try {
      await this.listen();
    } catch (err) {
      // Nothing was served and no halt is persisted: undo what started so the caller can exit cleanly.
      await this.root.stop('start failed');
      await this.tree.closeNet();
      await this.http?.close();
      await this.recovery?.stop();
      await this.clusterHalts?.stop();
      await this.obs?.stop();
      await this.store.close();
      throw err;
    }
    await this.clusterNotify?.start();
    this.scheduleFlush();
    if (this.opts.guardian) {
      // Degradation refuses new connections (HTTP listener) and scales the rate limits, unless the embedder gave its own hooks.
      const actuators = { refuseNewConnections: (r: string | null) => this.http?.refuseNew(r), scaleRateLimits: (f: number) => this.rateLimits?.setFactor(f), ...this.opts.guardian.actuators };
      const node = { server: this.server, halts: this.halts, clock: this.clock, log: this.log, flush: () => this.flush(), closeListeners: () => this.http?.close(), alertsIdle: () => this.obs?.alerts?.idle(), exit: (c: number) => this.exitAfterDrain(c) };
      this.guardian = startGuardian(node, { ...this.opts.guardian, actuators });
    }
    if (this.opts.ops !== false) this.ops = await startOps(this, this.opts.ops ?? {}, this.log);
    await this.members?.start();
    if (this.opts.signals !== false) {
      installProcessHandlers({
        log: this.log,
        exit: (code) => this.exitAfterDrain(code),
        drain: (reason) => this.drain(reason),
        flush: () => this.flush(),
        escaped: (err, how) => this.failures.escaped(err, how),
        reload: () => {
          // SIGHUP also re-reads the TLS certificate files (docs/security.md).
          const tls = this.http?.tls?.reload() ?? this.transports.find((t) => t.tls)?.tls?.reload();
          if (!this.reload() && !tls) this.log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: this node has no configuration reloader');
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
      const http = await listenHttp(this.server, this.opts.http ?? {}, this.log, { halts: this.halts, sessions: this.sessions, journal: this.journal, sharedStore: this.store.shared === true, eventLog: this.store.eventLog }, this.clock);
      await this.tree.addHttp(http);
    }
    for (const t of await listenNetTransports(this.server, this.opts, this.http, this.log, this.clock)) await this.tree.addNet(t);
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

  /**
   * Pulls the cord on one component (or `node`). Persisted; survives restarts. On a shared store
   * an operator's halt of a component (not of the node or a transport) applies on every node;
   * automatic halts (supervisor, recovery) stay on the node that decided them.
   */
  async halt(id: string, reason: string, by = 'operator'): Promise<HaltRecord> {
    const rec = await applyLocally(() => this.tree.halt(id, reason, by));
    this.clusterHalts?.announce('halt', id, by, reason);
    return rec;
  }

  /** Resumes a halted component (or `node`). */
  async resume(id: string, by = 'operator'): Promise<void> {
    await applyLocally(() => this.tree.resume(id, by));
    this.clusterHalts?.announce('resume', id, by);
  }

  /**
   * Drains the node in three phases: DRAINING (refuse new work with 503/-32001, let in-flight
   * requests finish within the grace), HALTING (abort what is left with notifications/cancelled,
   * close streams and listeners, save state), STOPPED. Idempotent: a second call returns the same drain.
   */
  drain(reason = 'shutdown'): Promise<DrainResult> {
    this.guardian?.stop();
    const d = this.drainer.drain(reason);
    void this.members?.beat(); // the others see `draining` at once
    return d;
  }

  private async halting(): Promise<void> {
    // The last request to finish resolves the idle wait a few promise jobs before its transport
    // writes the response: let those jobs run before the streams are closed.
    await new Promise<void>((r) => setImmediate(r));
    await this.flush();
    this.sessions.stop();
    await this.tree.closeNet();
    this.rateLimits?.stop();
    await this.http?.close();
    this.stdio?.close();
    await this.root.stop('drain');
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.breakers.dispose();
    await this.sessions.settled();
    await this.journal?.settled();
    await this.recovery?.stop();
    await this.clusterHalts?.stop();
    await this.rollouts.stop();
    await this.flags.stop();
    await this.clusterNotify?.stop();
    await this.members?.stop();
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
