/**
 * The runtime's options, its drain result and its exit codes: the public shapes of
 * {@link createRuntime}, kept apart from the composition root so every runtime module can read them.
 */
import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '../server/server.js';
import type { Store } from '../store/store.js';
import type { HttpTransportOptions } from '../transports/streamable-http.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ObservabilityOptions } from '../observability/observability.js';
import type { RecoveryOptions } from './recovery/strategist.js';
import type { HttpSecurityOptions } from './http-security.js';
import type { BreakersOptions } from '../resilience/breakers.js';
import type { FlagInput } from '../flags/model.js';
import type { RolloutThresholds } from '../flags/rollout-monitor.js';
import type { NetTransportOptions } from './net-transports.js';
import type { RateLimitsOptions } from '../resilience/rate-limits.js';
import type { RuntimeGuardianOptions } from './guardian-wiring.js';
import type { DashboardOptions } from '../dashboard/sources.js';

/** Options of {@link createRuntime}. Every field has a production default. */
export interface RuntimeOptions extends NetTransportOptions {
  server: McpServer;
  /** Streamable HTTP listener. Default `{ port: PORT or 3000, host: '127.0.0.1' }`; false for none. `tls`/`auth`: docs/security.md. */
  http?: (HttpTransportOptions & HttpSecurityOptions & { port?: number; host?: string }) | false;
  /** Serve stdio too (or only, with `http: false`). Default false. */
  stdio?: boolean | { input?: Readable; output?: Writable };
  /** State directory for the file store and the admin token. Default `ANDON_STATE_DIR` or `./.andon`. */
  stateDir?: string;
  /** Store backend. Default a FileStore in `stateDir`. */
  store?: Store;
  /**
   * This node's stable name among nodes sharing a store (Redis): its own halts (`node`,
   * `transport:*`) are kept under it. Default `<host name>-<HTTP port>`.
   */
  nodeId?: string;
  /** Shared store: how often this node writes its membership heartbeat (`andon nodes`); down after 3 missed. Default 2000 ms. */
  heartbeatMs?: number;
  /** Ops listener (admin API, metrics, health). Default `{ port: OPS_PORT or 9464, host: '127.0.0.1' }`; false for none. */
  ops?: { port?: number; host?: string; /** The operations dashboard at /dashboard (default on); false for none. */ dashboard?: DashboardOptions | false } | false;
  /** Admin bearer token. Default `ANDON_ADMIN_TOKEN`, else generated once into `<stateDir>/admin-token` (0600). */
  adminToken?: string;
  /** Drain phases: in-flight grace (default 30 s, `ANDON_DRAIN_GRACE_MS`) and halting budget (default 10 s, `ANDON_DRAIN_HALT_MS`). */
  drain?: { graceMs?: number; haltMs?: number };
  /**
   * Exactly-once journal of 2025 `tools/call` requests: completed outcomes are kept this long
   * (default 10 min) and at most this many (default 1000, oldest first out) so a retried id gets
   * its recorded result. `false` turns journaling off (no write before side-effecting handlers).
   */
  journal?: { retainMs?: number; maxCompleted?: number } | false;
  /** Restart intensity (default 5 in 60 s) and backoff (default 100 ms doubling to 5 s). */
  intensity?: { maxRestarts: number; windowMs: number };
  backoff?: { baseMs: number; maxMs: number };
  /** State older than this is removed on start. Default 7 days. */
  staleMs?: number;
  /** How often session changes (log level, subscriptions, closes) are flushed to the store. Default 200 ms. */
  flushMs?: number;
  /** Install SIGTERM/SIGINT handlers that drain and exit. Default true. */
  signals?: boolean;
  /**
   * Metrics, request logs, health and alerts (see docs/operations.md). Alerts are configured by
   * `observability.alerts`, or by the JSON file named in ANDON_ALERTS_CONFIG. `false` turns it off.
   */
  observability?: Omit<ObservabilityOptions, 'server' | 'logger' | 'stateDir'> | false;
  /** The recovery strategist (classification, plans, decisions; src/runtime/recovery/). `false` turns it off. */
  recovery?: RecoveryOptions | false;
  /**
   * Circuit breakers per tool and per `ctx.downstream` name (src/resilience/breakers.ts). Default
   * on: opens at ≥ 50 % errors of ≥ 20 calls in 60 s, half-open after 30 s with 3 probes. `false` for none.
   */
  breakers?: BreakersOptions | false;
  /** Feature flags seeded into the store when absent (src/flags; docs/flags.md). Later changes (admin API, CLI) win over these. */
  flags?: Record<string, FlagInput>;
  /** Thresholds of automatic rollback of rollouts (src/flags/rollouts.ts; docs/flags.md "Rollouts"). */
  rollouts?: Partial<RolloutThresholds>;
  /**
   * Rate limits per client, per tool and global (defaults: 100 messages/s and 50 tools/call/s per
   * client, 10,000 messages/s for the node). `false` or `{ enabled: false }` turns them off.
   */
  rateLimits?: Omit<RateLimitsOptions, 'clock' | 'logger'> | false;
  /**
   * The resource guardian, degradation mode and emergency stop (src/resilience/guardian.ts). Off
   * unless given (a node started from a configuration file has it on: `guardian.enabled`).
   */
  guardian?: RuntimeGuardianOptions | false;
  /** Called with the exit code after a signal-initiated drain. Default process.exit. */
  exit?: (code: number) => void;
  /** Time for drain grace and halting timers, flushes and phase timestamps. Default the system clock. */
  clock?: Clock;
  logger?: Logger;
}

export { EXIT, envInt, type DrainResult } from './exit.js';
