/**
 * The operations dashboard on the ops listener:
 *
 * | route                                    | needs               | answers                                 |
 * |------------------------------------------|---------------------|-----------------------------------------|
 * | GET  /                                   | —                   | 302 to /dashboard                       |
 * | GET  /dashboard                          | session, else login | the page (or the login form)            |
 * | POST /dashboard/login                    | admin token (form)  | 303 to /dashboard with the cookie       |
 * | POST /dashboard/logout                   | session + CSRF      | 303 to /dashboard, cookie cleared       |
 * | GET  /dashboard/assets/:file             | —                   | app.js, charts.js, app.css, icon.svg    |
 * | GET  /dashboard/api/state                | session (else 401)  | the page state as JSON                  |
 * | GET  /dashboard/api/events               | session (else 401)  | the live feed (SSE)                     |
 * | POST /dashboard/api/components/:id/halt  | session + CSRF      | halts with `{ reason }`                 |
 * | POST /dashboard/api/components/:id/resume| session + CSRF      | resumes                                 |
 * | POST /dashboard/api/drain                | session + CSRF      | 202, then drains and exits like SIGTERM |
 * | POST /dashboard/api/flags/:name/…        | session + CSRF      | enable, disable, percent (./flag-actions.ts) |
 * | POST /dashboard/api/rollouts/:flag/rollback | session + CSRF   | rolls a rollout back with `{ reason }`  |
 *
 * Every answer carries a strict Content-Security-Policy (scripts, styles and connections from the
 * same origin only; no inline script or style; no framing). The admin bearer token is not
 * accepted on these routes: the page works with its session cookie and CSRF token only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardErrors } from '../errors/dashboard.js';
import type { ErrorDef } from '../errors/catalogue.js';
import { OpsError, sendJson, type OpsRequest, type OpsServer } from '../admin/ops-server.js';
import { UnknownComponentError } from '../runtime/supervisor.js';
import { EXIT } from '../runtime/exit.js';
import { systemClock } from '../util/clock.js';
import { escapeHtml, loadAssets } from './assets.js';
import { DashboardLive } from './live.js';
import { mountFlagActions } from './flag-actions.js';
import { overTls, sameSecret, SessionStore, type DashboardSession } from './sessions.js';
import type { DashboardOptions, DashboardSources } from './sources.js';

/** The Content-Security-Policy of every dashboard answer. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Longest login form body, bytes. */
const LOGIN_BODY_LIMIT = 4096;

/** The mounted dashboard; `close()` unsubscribes and ends the event streams. */
export interface Dashboard {
  live: DashboardLive;
  sessions: SessionStore;
  close(): void;
}

/** Mounts the dashboard routes on `ops`. `token` is the admin token a login must present. */
export function mountDashboard(ops: OpsServer, src: DashboardSources, token: string, options: DashboardOptions = {}): Dashboard {
  const clock = src.clock ?? systemClock;
  const sessions = new SessionStore(clock, options.sessionTtlMs);
  const live = new DashboardLive(src, sessions);
  let assets: ReturnType<typeof loadAssets> | undefined;
  let assetError = '';
  try {
    assets = loadAssets();
  } catch (err) {
    assetError = (err as Error).message;
    src.logger?.error({ err: assetError }, 'dashboard files missing: the package is incomplete; /dashboard answers 500');
  }
  const open = { auth: false };

  const page = (res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', ...extra });
    res.end(html);
  };
  const login = (res: ServerResponse, status: number, message = '', extra: Record<string, string> = {}) => {
    if (!assets) return page(res, 500, `<!doctype html><title>andon dashboard</title><p>${escapeHtml(assetError)}</p>`);
    const note = message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '';
    page(res, status, assets.pages['login.html'].replace('{{ERROR}}', note), extra);
  };
  const fail = (res: ServerResponse, def: ErrorDef) => sendJson(res, def.httpStatus ?? 400, { error: def.message, code: def.code }, { ...SECURITY_HEADERS, 'cache-control': 'no-store' });
  /** The session of an API request, or a 401 answer. */
  const session = (req: IncomingMessage, res: ServerResponse): DashboardSession | undefined => {
    const s = sessions.of(req);
    if (!s) fail(res, DashboardErrors.LoginRequired);
    return s;
  };
  /** The session of a state-changing request with its CSRF token, or a 401/403 answer. */
  const guarded = (req: IncomingMessage, res: ServerResponse): DashboardSession | undefined => {
    const s = session(req, res);
    if (!s) return undefined;
    const given = req.headers['x-csrf-token'];
    if (typeof given !== 'string' || !sameSecret(given, s.csrf)) {
      fail(res, DashboardErrors.CsrfRejected);
      return undefined;
    }
    return s;
  };
  const component = (id: string) => live.state().components.find((c) => c.id === id);

  ops.route('GET', '/', (_req, res, ctx) => {
    // Only `/` itself: `///` and the like stay the 404 they were (they look like an authority).
    if (ctx.url.pathname !== '/') throw new OpsError(404, `not found: ${ctx.url.pathname}`);
    res.writeHead(302, { ...SECURITY_HEADERS, location: '/dashboard', 'content-length': 0 });
    res.end();
  }, open);

  ops.route('GET', '/dashboard', (req, res) => {
    const s = sessions.of(req);
    if (!s) return login(res, 200);
    if (!assets) return login(res, 500);
    const html = assets.pages['index.html'].replace('{{CSRF}}', escapeHtml(s.csrf)).replaceAll('{{NAME}}', escapeHtml(src.name ?? 'andon'));
    page(res, 200, html);
  }, open);

  ops.route('POST', '/dashboard/login', async (req, res) => {
    const form = new URLSearchParams(await readSmallBody(req, res));
    const given = form.get('token')?.trim() ?? '';
    if (!given || !sameSecret(given, token)) {
      src.logger?.warn({ remote: req.socket.remoteAddress }, 'dashboard login refused: wrong admin token');
      return login(res, 401, DashboardErrors.BadToken.message);
    }
    const s = sessions.create();
    res.writeHead(303, { ...SECURITY_HEADERS, location: '/dashboard', 'set-cookie': sessions.cookie(s, overTls(req)), 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
  }, open);

  ops.route('POST', '/dashboard/logout', (req, res) => {
    const s = guarded(req, res);
    if (!s) return;
    sessions.end(s);
    live.endSession(s);
    res.writeHead(303, { ...SECURITY_HEADERS, location: '/dashboard', 'set-cookie': sessions.cookie(undefined, overTls(req)), 'content-length': 0 });
    res.end();
  }, open);

  ops.route('GET', '/dashboard/assets/:file', (req, res, ctx) => {
    const a = assets?.files.get(ctx.params.file!);
    if (!a) throw new OpsError(404, `no dashboard file ${JSON.stringify(ctx.params.file)}`);
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, { ...SECURITY_HEADERS, etag: a.etag, 'cache-control': 'no-cache' });
      return void res.end();
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': a.type, 'content-length': a.body.length, etag: a.etag, 'cache-control': 'no-cache' });
    res.end(a.body);
  }, open);

  ops.route('GET', '/dashboard/api/state', (req, res) => {
    if (!session(req, res)) return;
    sendJson(res, 200, live.snapshot(), { ...SECURITY_HEADERS, 'cache-control': 'no-store' });
  }, open);

  ops.route('GET', '/dashboard/api/events', (req, res) => {
    const s = session(req, res);
    if (!s) return;
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    live.attach(res, s);
  }, open);

  const act = (verb: 'halt' | 'resume') => async (req: IncomingMessage, res: ServerResponse, ctx: OpsRequest) => {
    if (!guarded(req, res)) return;
    const id = ctx.params.id!;
    try {
      if (verb === 'halt') {
        const reason = (await ctx.json()).reason;
        if (typeof reason !== 'string' || reason.trim() === '') throw new OpsError(400, 'a halt needs a non-empty "reason": say why, for whoever resumes it');
        await src.target.halt(id, reason.trim(), 'dashboard');
      } else await src.target.resume(id, 'dashboard');
    } catch (err) {
      if (err instanceof UnknownComponentError) throw new OpsError(404, `unknown component "${id}"`);
      throw err;
    }
    live.schedule();
    sendJson(res, 200, component(id), { ...SECURITY_HEADERS, 'cache-control': 'no-store' });
  };
  ops.route('POST', '/dashboard/api/components/:id/halt', act('halt'), open);
  ops.route('POST', '/dashboard/api/components/:id/resume', act('resume'), open);

  // The flags panel's Enable, Disable, Set percent and Roll back (./flag-actions.ts).
  mountFlagActions(ops, src, { guarded: (req, res) => guarded(req, res) !== undefined, changed: () => live.schedule(), headers: SECURITY_HEADERS });

  ops.route('POST', '/dashboard/api/drain', (req, res) => {
    if (!guarded(req, res)) return;
    sendJson(res, 202, { phase: 'draining', reason: 'drain requested from the dashboard' }, SECURITY_HEADERS);
    setImmediate(() => {
      void src.target.drain('drain requested from the dashboard').then((r) => src.target.exitAfterDrain(r.graceExpired ? EXIT.graceExpired : EXIT.ok));
    });
  }, open);

  const dashboard = { live, sessions, close: () => live.close() };
  ops.onClose(() => dashboard.close());
  return dashboard;
}

/** Reads a small form body (login); 413 beyond {@link LOGIN_BODY_LIMIT}. */
function readSmallBody(req: IncomingMessage, res: ServerResponse): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LOGIN_BODY_LIMIT) {
        res.setHeader('connection', 'close');
        req.pause();
        reject(new OpsError(413, `login body over ${LOGIN_BODY_LIMIT} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
