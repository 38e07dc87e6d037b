/**
 * GET /admin/recovery: the recovery strategist's view (bearer token required): per component its
 * failure history summary (failures, rate over the window, trend, error groups, prediction of the
 * next failure), its last class and root cause, whether it is degraded or being recovered, and
 * the last decisions (`?limit=N`, default 50, newest last). 404 when the strategist is off.
 */
import type { RecoverySnapshot } from '../runtime/recovery/index.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the route reads (the Runtime). */
export interface RecoveryTarget {
  readonly recovery?: { snapshot(limit?: number): RecoverySnapshot } | undefined;
}

/** Mounts GET /admin/recovery on `ops`. */
export function mountRecoveryApi(ops: OpsServer, rt: RecoveryTarget): void {
  ops.route('GET', '/admin/recovery', (_req, res, ctx) => {
    if (!rt.recovery) throw new OpsError(404, 'the recovery strategist is off on this node (recovery.enabled: false)');
    const raw = ctx.url.searchParams.get('limit');
    const limit = raw === null ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new OpsError(400, `limit must be an integer from 0 to 10000, got ${raw}`);
    sendJson(res, 200, rt.recovery.snapshot(limit));
  });
}
