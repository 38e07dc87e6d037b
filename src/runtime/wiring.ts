/**
 * How the runtime plugs into the server and the ops listener: the escaped-error scope, session
 * persistence, the journal's before/after hooks, the admission gate, observability and the admin API.
 */
import { OpsServer } from '../admin/ops-server.js';
import { mountAdminApi, type AdminTarget } from '../admin/admin-api.js';
import { mountRecoveryApi, type RecoveryTarget } from '../admin/recovery-api.js';
import { mountBreakersApi, type BreakersAdminTarget } from '../admin/breakers-api.js';
import { mountGuardianApi, type GuardianTarget } from '../admin/guardian-api.js';
import { mountFlagsApi, type FlagsAdminTarget } from '../admin/flags-api.js';
import { mountRolloutsApi, type RolloutsAdminTarget } from '../admin/rollouts-api.js';
import { mountNodesApi, type NodesAdminTarget } from '../admin/nodes-api.js';
import type { McpServer } from '../server/server.js';
import type { Store } from '../store/store.js';
import { FileStore } from '../store/file-store.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { DashboardOptions } from '../dashboard/sources.js';
import type { Observability } from '../observability/observability.js';
import { installGate, type GateState } from './admission-gate.js';
import type { FailureDetector } from './failure-detection.js';
import type { HaltRegistry } from './halt.js';
import { registerHealthChecks } from './health-feed.js';
import { listenFailed } from './http-listen.js';
import { RecordedAnswer, type Journal } from './journal.js';
import { McpError } from '../protocol/errors.js';
import type { RuntimeOptions } from './options.js';
import type { SessionPersistence } from './session-persistence.js';
import type { Session } from '../server/session.js';
import { AndonError } from '../errors/catalogue.js';
import { RuntimeErrors } from '../errors/runtime.js';
import { RateLimits } from '../resilience/rate-limits.js';
import { redisRateLimitStore, type RateLimitRedis } from '../resilience/redis-rate-limits.js';
import { mountRateLimitsApi } from '../admin/rate-limits-api.js';
import { flagActions, resiliencePanels, type PanelSource } from './dashboard-panels.js';

const SUBSCRIPTION_METHODS = new Set(['resources/subscribe', 'resources/unsubscribe']);

async function persistSubscription(sessions: SessionPersistence, session: Session): Promise<void> {
  try {
    await sessions.persistNow(session);
  } catch (err) {
    throw new AndonError(RuntimeErrors.SessionNotSaved, `Subscription change not saved: the session record could not be written to the store (${String(err)}); retry`, { retryAfterMs: 1000 });
  }
}

/** Connects `server` to the runtime's failure detection, persistence, journal and gate. */
export function wireServer(server: McpServer, p: { failures: FailureDetector; sessions: SessionPersistence; journal: Journal | undefined; gate: GateState }): void {
  server.toolScope = p.failures.scope;
  const { sessions, journal } = p;
  server.observer = {
    session: (s, change) => sessions.changed(s, change),
    // An acknowledged deletion must survive a kill -9 too: durable before the DELETE is answered.
    sessionDeleted: (s) => sessions.persistDeletion(s),
    settle: (inc, response) => {
      // An acknowledged session must survive a kill -9: durable before initialize is answered.
      if (inc.request.method === 'initialize') return inc.session && 'result' in response ? sessions.persistNow(inc.session) : undefined;
      // A subscription is state the client relies on: durable before it is acknowledged, so a node
      // that adopts the session afterwards (shared store) or a restart sees it.
      if (SUBSCRIPTION_METHODS.has(inc.request.method) && inc.session && 'result' in response) return persistSubscription(sessions, inc.session);
      return journal?.settle(inc, response);
    },
  };
  // The journal's write-ahead is an admission stage of the last phase: durable before the handler starts.
  if (journal && !journal.shared) server.use({ name: 'journal', phase: 'handler', admit: (inc) => journal.begin(inc) });
  // On a shared store a retried id may have been answered by another node: its recorded answer is returned.
  if (journal?.shared) {
    server.use({
      name: 'journal',
      phase: 'handler',
      around: async (inc, next) => {
        try {
          await journal.begin(inc);
        } catch (err) {
          if (!(err instanceof RecordedAnswer)) throw err;
          const r = err.response as { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
          if (r.result) return r.result;
          throw new McpError(r.error!.code, r.error!.message, r.error!.data);
        }
        return next(inc);
      },
    });
  }
  installGate(server, p.gate);
}

/** Creates the node's rate limits and installs their stage (`false`: none); on a Redis store the counts are shared (src/resilience/redis-rate-limits.ts). */
export function installRateLimits(server: McpServer, o: RuntimeOptions['rateLimits'], clock: Clock, logger: Logger, store?: Store): RateLimits | undefined {
  if (o === false) return undefined;
  const redis = store?.shared && !o?.store && typeof (store as Partial<RateLimitRedis>).commandClient === 'function' ? { store: redisRateLimitStore(store as unknown as RateLimitRedis, clock, logger) } : {};
  return new RateLimits({ ...o, ...redis, clock, logger }).install(server.admission);
}

/** Creates metrics, health and alerts (loaded lazily: heavy imports) and registers the runtime's health checks. */
export async function startObservability(
  opts: RuntimeOptions,
  d: { log: Logger; stateDir: string; store: Store; halts: HaltRegistry; http(): HttpEndpoint | undefined; phase(): string },
): Promise<Observability> {
  const { createObservability } = await import('../observability/observability.js');
  const { loadAlertsConfig } = await import('../observability/alerts/config.js');
  const o = opts.observability || {};
  const file = process.env.ANDON_ALERTS_CONFIG;
  const alerts = o.alerts ?? (file ? loadAlertsConfig(file) : undefined);
  const obs = createObservability({ clock: opts.server.clock, ...o, alerts, server: opts.server, logger: d.log, stateDir: d.stateDir, onSecret: (v) => (d.log as { addSecret?: (v: string) => void }).addSecret?.(v) });
  registerHealthChecks(obs, d.store, d);
  return obs;
}

/** Opens the ops listener: admin API (bearer token) plus metrics and health when observability is on. */
export async function startOps(
  rt: AdminTarget & RecoveryTarget & BreakersAdminTarget & GuardianTarget & FlagsAdminTarget & RolloutsAdminTarget & NodesAdminTarget & PanelSource & { adminToken: string; obs: Observability | undefined; rateLimits?: RateLimits | undefined; halts: HaltRegistry; clock: Clock; server: McpServer },
  o: { port?: number; host?: string; dashboard?: DashboardOptions | false },
  log?: Logger,
): Promise<OpsServer> {
  const ops = new OpsServer({ token: rt.adminToken, port: o.port, host: o.host });
  mountAdminApi(ops, rt);
  mountRecoveryApi(ops, rt);
  mountBreakersApi(ops, rt);
  mountRateLimitsApi(ops, rt);
  mountGuardianApi(ops, rt);
  mountFlagsApi(ops, rt);
  mountRolloutsApi(ops, rt);
  mountNodesApi(ops, rt);
  if (rt.obs) (await import('../observability/mount.js')).mountObservability(ops, rt.obs);
  // The dashboard (src/dashboard): later parts add their panel providers here (breakers, rateLimits, guardian, recovery, flags, nodes).
  if (o.dashboard !== false) {
    const panels = { ...resiliencePanels(rt), ...flagActions(rt) };
    (await import('../dashboard/mount.js')).mountDashboard(ops, { target: rt, halts: rt.halts, alerts: rt.obs?.alerts, clock: rt.clock, logger: log, name: rt.server.info.name, ...panels }, rt.adminToken, o.dashboard);
  }
  try {
    await ops.listen();
  } catch (err) {
    // A busy ops port is a start failure named like a busy MCP port (exit 2), not a bare EADDRINUSE.
    throw listenFailed('the ops API', o.host ?? '127.0.0.1', o.port ?? Number(process.env.OPS_PORT ?? 9464), err);
  }
  return ops;
}

/** The default store: a FileStore in the state directory; quarantined files are logged loudly. */
export function defaultStore(dir: string, log: Logger): Store {
  return new FileStore({
    dir,
    onQuarantine: (r) => log.error({ ns: r.ns, key: r.key, file: r.file, reason: r.reason }, 'CORRUPT STATE FILE QUARANTINED: it was not loaded; inspect it and restore by hand if needed'),
  });
}

/** The end of a drain: observability (alerts in flight finish), the ops listener, the logger's buffer. */
export async function finishDrain(obs: Observability | undefined, ops: OpsServer | undefined, log: Logger): Promise<void> {
  await obs?.stop();
  await ops?.close();
  const flushable = log as { flush?: (cb: () => void) => void };
  if (flushable.flush) await new Promise<void>((r) => flushable.flush!(() => r()));
}
