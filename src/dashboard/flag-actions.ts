/**
 * The flags panel's actions (issue 12: flags and rollbacks from the dashboard):
 *
 * | route                                        | needs          | does                                     |
 * |----------------------------------------------|----------------|------------------------------------------|
 * | POST /dashboard/api/flags/:name/enable       | session + CSRF | the flag on (as `andon flags enable`)    |
 * | POST /dashboard/api/flags/:name/disable      | session + CSRF | the flag off for every client            |
 * | POST /dashboard/api/flags/:name/percent      | session + CSRF | `{ percent }` 0–100 (a percentage flag)  |
 * | POST /dashboard/api/rollouts/:flag/rollback  | session + CSRF | `{ reason }`: rolls the rollout back     |
 *
 * Each calls the same registry / rollout-manager operation as the admin API, audited `by:
 * 'dashboard'`. Only existing flags are changed (an unknown one is a 400, never created).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isError, type AndonError } from '../errors/catalogue.js';
import { FlagErrors } from '../errors/flags.js';
import { RolloutInputError } from '../flags/rollout-model.js';
import { RolloutNotFound } from '../flags/rollouts.js';
import { OpsError, sendJson, type OpsRequest, type OpsServer } from '../admin/ops-server.js';
import type { DashboardSources } from './sources.js';

const BY = 'dashboard';

/** What the routes need from mountDashboard. */
export interface FlagActionContext {
  /** The session with its CSRF token checked, else it answered 401/403 and returns false. */
  guarded(req: IncomingMessage, res: ServerResponse): boolean;
  /** Pushes fresh state to the open pages. */
  changed(): void;
  headers: Record<string, string>;
}

function mapped(err: unknown): never {
  if (isError(err, FlagErrors.Invalid)) throw new OpsError(400, (err as AndonError).message);
  if (err instanceof RolloutNotFound) throw new OpsError(400, err.message);
  if (err instanceof RolloutInputError) throw new OpsError(409, err.message);
  throw err;
}

/** Mounts the flag and rollback action routes (only those whose operations `src` provides). */
export function mountFlagActions(ops: OpsServer, src: DashboardSources, c: FlagActionContext): void {
  const open = { auth: false };
  const flags = src.flagActions;
  if (flags) {
    const act = (verb: 'enable' | 'disable' | 'percent') => async (req: IncomingMessage, res: ServerResponse, ctx: OpsRequest) => {
      if (!c.guarded(req, res)) return;
      const name = ctx.params.name!;
      if (!flags.has(name)) throw new OpsError(400, `unknown feature flag "${name}"; the dashboard changes existing flags only (create one: andon flags set ${name})`);
      let input: { enabled?: boolean; percent?: number };
      if (verb === 'percent') {
        const p = (await ctx.json()).percent;
        if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) throw new OpsError(400, `percent ${JSON.stringify(p ?? null)}: a number from 0 to 100`);
        input = { percent: p };
      } else input = { enabled: verb === 'enable' };
      const f = await flags.set(name, input, BY).catch(mapped);
      c.changed();
      sendJson(res, 200, f, { ...c.headers, 'cache-control': 'no-store' });
    };
    ops.route('POST', '/dashboard/api/flags/:name/enable', act('enable'), open);
    ops.route('POST', '/dashboard/api/flags/:name/disable', act('disable'), open);
    ops.route('POST', '/dashboard/api/flags/:name/percent', act('percent'), open);
  }
  const rollouts = src.rolloutActions;
  if (rollouts) {
    ops.route('POST', '/dashboard/api/rollouts/:flag/rollback', async (req, res, ctx) => {
      if (!c.guarded(req, res)) return;
      const reason = (await ctx.json()).reason;
      if (typeof reason !== 'string' || reason.trim() === '') throw new OpsError(400, 'a rollback needs a non-empty "reason": say why, for the audit');
      const p = await rollouts.rollback(ctx.params.flag!, BY, reason.trim().slice(0, 500)).catch(mapped);
      c.changed();
      sendJson(res, 200, p, { ...c.headers, 'cache-control': 'no-store' });
    }, open);
  }
}
