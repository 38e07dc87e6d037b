/**
 * The feature flags' admin routes (bearer token required; docs/flags.md):
 *
 *   GET    /admin/flags              every flag
 *   GET    /admin/flags/audit        the audit trail, oldest first (`?flag=x`, `?limit=n`)
 *   GET    /admin/flags/:name        one flag
 *   PUT    /admin/flags/:name        create or change it: { kind, enabled, percent, rules, description, by }
 *   POST   /admin/flags/:name        the same (a partial update: what the body leaves out stays)
 *   DELETE /admin/flags/:name        delete it (entries gated by it are hidden from everyone)
 */
import { AndonError, isError } from '../errors/catalogue.js';
import { FlagErrors } from '../errors/flags.js';
import type { FlagInput } from '../flags/model.js';
import type { FlagRegistry } from '../flags/registry.js';
import { OpsError, sendJson, type OpsRequest, type OpsServer } from './ops-server.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the flag routes act on (the Runtime). */
export interface FlagsAdminTarget {
  readonly flags: FlagRegistry;
}

function invalid(err: unknown): never {
  if (isError(err, FlagErrors.Invalid)) throw new OpsError(FlagErrors.Invalid, (err as AndonError).message);
  throw err;
}

/** Mounts the flag routes on `ops`. */
export function mountFlagsApi(ops: OpsServer, rt: FlagsAdminTarget): void {
  ops.route('GET', '/admin/flags', (_req, res) => {
    sendJson(res, 200, { flags: rt.flags.list() });
  });

  ops.route('GET', '/admin/flags/audit', async (_req, res, ctx) => {
    const limit = Number(ctx.url.searchParams.get('limit') ?? 500);
    const flag = ctx.url.searchParams.get('flag') ?? undefined;
    sendJson(res, 200, { records: await rt.flags.audit(Number.isInteger(limit) && limit > 0 ? limit : 500, flag) });
  });

  ops.route('GET', '/admin/flags/:name', (_req, res, ctx) => {
    const f = rt.flags.get(ctx.params.name!);
    if (!f) throw new OpsError(404, `unknown feature flag "${ctx.params.name!}"; GET /admin/flags lists them`);
    sendJson(res, 200, f);
  });

  const set = async (_req: IncomingMessage, res: ServerResponse, ctx: OpsRequest): Promise<void> => {
    const body = await ctx.json();
    const by = typeof body.by === 'string' && body.by.trim() ? body.by.trim().slice(0, 200) : 'admin-api';
    const { by: _by, ...input } = body;
    for (const k of Object.keys(input)) {
      if (!['kind', 'enabled', 'percent', 'rules', 'description'].includes(k)) throw new OpsError(FlagErrors.Invalid, `Invalid feature flag: unknown key "${k}" (kind, enabled, percent, rules, description, by)`);
    }
    const existed = rt.flags.get(ctx.params.name!) !== undefined;
    const f = await rt.flags.set(ctx.params.name!, input as FlagInput, by).catch(invalid);
    sendJson(res, existed ? 200 : 201, f);
  };
  ops.route('PUT', '/admin/flags/:name', set);
  ops.route('POST', '/admin/flags/:name', set);

  ops.route('DELETE', '/admin/flags/:name', async (_req, res, ctx) => {
    const by = (ctx.url.searchParams.get('by') ?? '').trim().slice(0, 200) || 'admin-api';
    const removed = await rt.flags.remove(ctx.params.name!, by).catch(invalid);
    if (!removed) throw new OpsError(404, `unknown feature flag "${ctx.params.name!}"`);
    sendJson(res, 200, { deleted: ctx.params.name! });
  });
}
