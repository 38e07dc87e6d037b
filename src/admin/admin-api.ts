/**
 * The admin API (bearer token required): list components, halt one with a reason, resume it,
 * start a drain. Bad input gets a clear 4xx: unknown component 404, missing reason 400, bad token 401.
 */
import { EXIT, type DrainResult } from '../runtime/exit.js';
import type { HaltRecord } from '../runtime/halt.js';
import type { ComponentInfo } from '../runtime/supervisor.js';
import { UnknownComponentError } from '../runtime/supervisor.js';
import type { ReloadReport } from '../config/reload.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the admin API acts on (the Runtime). */
export interface AdminTarget {
  readonly drainPhase: string;
  components(): ComponentInfo[];
  halt(id: string, reason: string, by?: string): Promise<HaltRecord>;
  resume(id: string, by?: string): Promise<void>;
  drain(reason?: string): Promise<DrainResult>;
  exitAfterDrain(code: number): void;
  /** Re-reads the configuration; undefined when the node has no reloader. */
  reload(): ReloadReport | undefined;
}

/** Mounts the admin routes on `ops`. */
export function mountAdminApi(ops: OpsServer, rt: AdminTarget): void {
  ops.route('GET', '/admin/components', (_req, res) => {
    sendJson(res, 200, { phase: rt.drainPhase, components: rt.components() });
  });

  ops.route('GET', '/admin/components/:id', (_req, res, ctx) => {
    const c = rt.components().find((x) => x.id === ctx.params.id);
    if (!c) throw new OpsError(404, `unknown component "${ctx.params.id}"; GET /admin/components lists them`);
    sendJson(res, 200, c);
  });

  ops.route('POST', '/admin/components/:id/halt', async (_req, res, ctx) => {
    const body = await ctx.json();
    const reason = body.reason;
    if (typeof reason !== 'string' || reason.trim() === '') throw new OpsError(400, 'a halt needs a non-empty "reason" (string): say why, for whoever resumes it');
    const id = ctx.params.id!;
    try {
      await rt.halt(id, reason.trim(), typeof body.by === 'string' ? body.by : 'admin-api');
    } catch (err) {
      if (err instanceof UnknownComponentError) throw new OpsError(404, `unknown component "${id}"; GET /admin/components lists them`);
      throw err;
    }
    sendJson(res, 200, rt.components().find((c) => c.id === id));
  });

  ops.route('POST', '/admin/components/:id/resume', async (_req, res, ctx) => {
    const id = ctx.params.id!;
    try {
      await rt.resume(id, 'admin-api');
    } catch (err) {
      if (err instanceof UnknownComponentError) throw new OpsError(404, `unknown component "${id}"; GET /admin/components lists them`);
      throw err;
    }
    sendJson(res, 200, rt.components().find((c) => c.id === id));
  });

  ops.route('POST', '/admin/config/reload', (_req, res) => {
    const report = rt.reload();
    if (!report) throw new OpsError(409, 'this node was not started from a configuration it can re-read (ANDON_CONFIG_RELOAD_UNAVAILABLE)');
    // A rejected config answers 422 with the report and an ops-style `error` line, so every client reads it.
    sendJson(res, report.ok ? 200 : 422, report.ok ? report : { error: `configuration rejected: ${report.errors.join('; ')}`, ...report });
  });

  ops.route('POST', '/admin/drain', async (_req, res, ctx) => {
    const body = await ctx.json();
    const reason = typeof body.reason === 'string' && body.reason ? body.reason : 'drain requested through the admin API';
    sendJson(res, 202, { phase: 'draining', reason });
    // The response goes out first; the drain ends with the process exiting, as on SIGTERM.
    setImmediate(() => {
      void rt.drain(reason).then((r) => rt.exitAfterDrain(r.graceExpired ? EXIT.graceExpired : EXIT.ok));
    });
  });
}
