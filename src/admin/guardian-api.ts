/**
 * GET /admin/guardian (bearer token): the resource guardian's state — mode (normal, degraded,
 * restoring, stopped), pressure and each resource's ratio, the predicted time to the hard limit,
 * the last sample, and degradation mode's counters. 404 names the setting when the guardian is off.
 */
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the route reads (the Runtime). */
export interface GuardianTarget {
  readonly guardian?: { status(): Record<string, unknown> } | undefined;
}

/** Mounts GET /admin/guardian on `ops`. */
export function mountGuardianApi(ops: OpsServer, rt: GuardianTarget): void {
  ops.route('GET', '/admin/guardian', (_req, res) => {
    if (!rt.guardian) throw new OpsError(404, 'the resource guardian is off on this node (guardian.enabled: false)');
    sendJson(res, 200, rt.guardian.status());
  });
}
