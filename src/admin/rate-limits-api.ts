/**
 * `GET /admin/rate-limits` (admin token): the node's rate limits as `RateLimits.snapshot()` gives
 * them — configured and effective rates, the factor, refusals per limit, whether throttling is
 * sustained, the most-throttled client identities. `andon limits` reads it.
 */
import type { RateLimits } from '../resilience/rate-limits.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** Mounts the rate-limit routes; `rt.rateLimits` is undefined when the node runs without them. */
export function mountRateLimitsApi(ops: OpsServer, rt: { readonly rateLimits?: RateLimits | undefined }): void {
  ops.route('GET', '/admin/rate-limits', (_req, res) => {
    const limits = rt.rateLimits;
    if (!limits) throw new OpsError(404, 'this node runs without rate limits (created with rateLimits: false)');
    sendJson(res, 200, limits.snapshot());
  });
}
