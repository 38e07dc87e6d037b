/**
 * The observability routes on the ops listener:
 *
 * | route                    | auth                         | answers                                   |
 * |--------------------------|------------------------------|-------------------------------------------|
 * | GET  /metrics            | optional (`metricsAuth`)     | Prometheus text exposition                |
 * | GET  /health/live        | none                         | 200 while the process answers             |
 * | GET  /health/ready       | none                         | 200 ready / 503 with the reasons          |
 * | GET  /health             | optional (`healthAuth`)      | per-component JSON; 200 ready / 503       |
 * | GET  /admin/alerts       | admin token                  | alert history (`?limit=`), channels, routes |
 * | POST /admin/alerts/test  | admin token                  | sends a test alert, answers its record    |
 *
 * Health endpoints are unauthenticated by default because load balancers and kubelets probe
 * them without credentials; they reveal nothing beyond component names and check errors.
 */
import type { OpsServer } from '../admin/ops-server.js';
import { OpsError, sendJson } from '../admin/ops-server.js';
import type { AndonMetrics } from './metrics.js';
import type { HealthMonitor } from './health.js';
import type { AlertManager } from './alerts/manager.js';
import { SEVERITIES, type Severity } from './alerts/types.js';

/** What {@link mountObservability} serves; each part is optional. */
export interface ObservabilityDeps {
  metrics?: AndonMetrics;
  health?: HealthMonitor;
  alerts?: AlertManager;
  /** Require the admin token on /metrics. Default false (or `ANDON_METRICS_AUTH=1`). */
  metricsAuth?: boolean;
  /** Require the admin token on /health (live and ready stay open). Default false. */
  healthAuth?: boolean;
  /** Longest POST /admin/alerts/test waits for the delivery outcome, ms. Default 60,000. */
  testWaitMs?: number;
}

/** Adds the observability routes to `ops`. */
export function mountObservability(ops: OpsServer, deps: ObservabilityDeps): OpsServer {
  const { metrics, health, alerts } = deps;
  if (metrics) {
    const auth = deps.metricsAuth ?? process.env.ANDON_METRICS_AUTH === '1';
    ops.route(
      'GET',
      '/metrics',
      async (_req, res) => {
        const body = await metrics.metrics();
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
        res.end(body);
      },
      { auth },
    );
  }
  if (health) {
    ops.route('GET', '/health/live', (_req, res) => sendJson(res, 200, { status: 'live', ...health.live() }, { 'cache-control': 'no-store' }), { auth: false });
    ops.route(
      'GET',
      '/health/ready',
      (_req, res) => {
        const r = health.readiness();
        sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r }, { 'cache-control': 'no-store' });
      },
      { auth: false },
    );
    ops.route(
      'GET',
      '/health',
      (_req, res) => {
        const r = health.report();
        sendJson(res, r.ready ? 200 : 503, r, { 'cache-control': 'no-store' });
      },
      { auth: deps.healthAuth ?? false },
    );
  }
  if (alerts) {
    ops.route('GET', '/admin/alerts', (_req, res, ctx) => {
      const raw = ctx.url.searchParams.get('limit');
      const limit = raw === null ? 50 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new OpsError(400, 'limit must be an integer from 1 to 10000');
      const routes: Record<string, string[]> = {};
      for (const s of SEVERITIES) routes[s] = alerts.route(s);
      sendJson(res, 200, { alerts: alerts.history(limit), channels: alerts.channelNames(), routes });
    });
    ops.route('POST', '/admin/alerts/test', async (_req, res, ctx) => {
      const body = await ctx.json();
      const channel = body.channel;
      const severity = body.severity ?? 'info';
      if (channel !== undefined && (typeof channel !== 'string' || !alerts.channelNames().includes(channel))) {
        throw new OpsError(400, `unknown channel ${JSON.stringify(channel)}; configured: ${alerts.channelNames().join(', ') || 'none'}`);
      }
      if (!SEVERITIES.includes(severity as Severity)) throw new OpsError(400, `severity must be one of ${SEVERITIES.join(', ')}`);
      const receipt = alerts.test({ channel: channel as string | undefined, severity: severity as Severity });
      let t: NodeJS.Timeout | undefined;
      const record = await Promise.race([receipt.delivered, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), deps.testWaitMs ?? 60_000)))]);
      clearTimeout(t);
      if (!record) return sendJson(res, 202, { id: receipt.id, status: 'sending', note: 'still delivering; see GET /admin/alerts' });
      // 200 either way: the test ran; `status` (sent, partial, failed) says how delivery went.
      sendJson(res, 200, record);
    });
  }
  return ops;
}
