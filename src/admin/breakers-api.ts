/**
 * The circuit breakers' admin routes (bearer token required):
 *
 *   GET  /admin/breakers                 every breaker with its state, window and settings
 *   GET  /admin/breakers/:name           one breaker (`tool%3Adivide`, `downstream%3Abilling-api`)
 *   POST /admin/breakers/:name/open      force it open: every call refused until reset ({ reason } required)
 *   POST /admin/breakers/:name/close     force it closed: every call admitted, nothing opens it, until reset
 *   POST /admin/breakers/:name/reset     clear the forced state and the window: closed, counting again
 *
 * A tool's breaker is made on its first counted call; an operator may name any registered tool
 * (or a configured downstream) before that. Any other name is a 404.
 */
import type { BreakerRegistry } from '../resilience/breakers.js';
import type { CircuitBreaker } from '../resilience/breaker.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the breaker routes act on (the Runtime). */
export interface BreakersAdminTarget {
  readonly breakers: BreakerRegistry;
  readonly server: { toolNames(): string[] };
}

/** Mounts the breaker routes on `ops`. */
export function mountBreakersApi(ops: OpsServer, rt: BreakersAdminTarget): void {
  const find = (name: string): CircuitBreaker => {
    const b = rt.breakers.get(name, { tools: rt.server.toolNames() });
    if (!b) throw new OpsError(404, `unknown circuit breaker "${name}": names are tool:<tool> or downstream:<name>; GET /admin/breakers lists them`);
    return b;
  };

  ops.route('GET', '/admin/breakers', (_req, res) => {
    sendJson(res, 200, { enabled: rt.breakers.enabled, breakers: rt.breakers.snapshots() });
  });

  ops.route('GET', '/admin/breakers/:name', (_req, res, ctx) => {
    sendJson(res, 200, find(ctx.params.name!).snapshot());
  });

  ops.route('POST', '/admin/breakers/:name/open', async (_req, res, ctx) => {
    const b = find(ctx.params.name!);
    const body = await ctx.json();
    const reason = body.reason;
    if (typeof reason !== 'string' || reason.trim() === '') throw new OpsError(400, 'forcing a breaker open needs a non-empty "reason" (string): say why, for whoever closes it');
    b.forceOpen(reason.trim());
    sendJson(res, 200, b.snapshot());
  });

  ops.route('POST', '/admin/breakers/:name/close', async (_req, res, ctx) => {
    const b = find(ctx.params.name!);
    const body = await ctx.json();
    b.forceClose(typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim() : 'closed through the admin API');
    sendJson(res, 200, b.snapshot());
  });

  ops.route('POST', '/admin/breakers/:name/reset', (_req, res, ctx) => {
    const b = find(ctx.params.name!);
    b.reset();
    sendJson(res, 200, b.snapshot());
  });
}
