/**
 * The rollouts' admin routes (bearer token required; docs/flags.md "Rollouts"):
 *
 *   GET    /admin/rollouts                  every rollout (plan, state, windows)
 *   GET    /admin/rollouts/:flag            one rollout
 *   POST   /admin/rollouts/:flag            start one: { phases: [10, 50, 100] | [{ percent, minDurationMs, enabled, gates }], minDurationMs, by }
 *   POST   /admin/rollouts/:flag/advance    the next phase: { by, force }
 *   POST   /admin/rollouts/:flag/rollback   roll back: { by, reason, toPrevious } (default: the flag off)
 */
import { FlagErrors } from '../errors/flags.js';
import { isError, type AndonError } from '../errors/catalogue.js';
import { checkPhases, RolloutInputError } from '../flags/rollout-model.js';
import { RolloutNotFound, type RolloutManager } from '../flags/rollouts.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the rollout routes act on (the Runtime). */
export interface RolloutsAdminTarget {
  readonly rollouts: RolloutManager;
}

function mapped(err: unknown): never {
  if (err instanceof RolloutNotFound) throw new OpsError(404, err.message);
  if (err instanceof RolloutInputError) throw new OpsError(409, err.message);
  if (isError(err, FlagErrors.Invalid)) throw new OpsError(FlagErrors.Invalid, (err as AndonError).message);
  throw err;
}

const byOf = (b: Record<string, unknown>): string => (typeof b.by === 'string' && b.by.trim() ? b.by.trim().slice(0, 200) : 'admin-api');

/** Mounts the rollout routes on `ops`. */
export function mountRolloutsApi(ops: OpsServer, rt: RolloutsAdminTarget): void {
  ops.route('GET', '/admin/rollouts', (_req, res) => {
    sendJson(res, 200, { rollouts: rt.rollouts.list(), thresholds: rt.rollouts.thresholds });
  });
  ops.route('GET', '/admin/rollouts/:flag', (_req, res, ctx) => {
    try {
      sendJson(res, 200, rt.rollouts.status(ctx.params.flag!));
    } catch (err) {
      mapped(err);
    }
  });
  ops.route('POST', '/admin/rollouts/:flag', async (_req, res, ctx) => {
    const body = await ctx.json();
    const min = body.minDurationMs;
    if (min !== undefined && (typeof min !== 'number' || !Number.isFinite(min) || min < 0)) throw new OpsError(400, 'minDurationMs: a number ≥ 0');
    let phases;
    try {
      const raw = Array.isArray(body.phases) ? body.phases.map((p: unknown) => (typeof p === 'number' ? { percent: p, minDurationMs: min ?? 0 } : p)) : body.phases;
      phases = checkPhases(raw);
    } catch (err) {
      throw new OpsError(400, (err as Error).message);
    }
    const p = await rt.rollouts.begin(ctx.params.flag!, phases, byOf(body)).catch(mapped);
    sendJson(res, 201, p);
  });
  ops.route('POST', '/admin/rollouts/:flag/advance', async (_req, res, ctx) => {
    const body = await ctx.json();
    sendJson(res, 200, await rt.rollouts.advance(ctx.params.flag!, byOf(body), body.force === true).catch(mapped));
  });
  ops.route('POST', '/admin/rollouts/:flag/rollback', async (_req, res, ctx) => {
    const body = await ctx.json();
    const reason = typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim().slice(0, 500) : 'manual rollback';
    sendJson(res, 200, await rt.rollouts.rollback(ctx.params.flag!, byOf(body), reason, body.toPrevious === true).catch(mapped));
  });
}
