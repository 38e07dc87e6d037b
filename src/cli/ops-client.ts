/**
 * How operator commands reach a running node's ops API: the URL (`--ops-url`, `ANDON_OPS_URL`,
 * default http://127.0.0.1:9464) and the admin token (`--token`, `ANDON_ADMIN_TOKEN`, else
 * `<state dir>/admin-token` with the state dir from `--state-dir`, `ANDON_STATE_DIR` or `./.andon`).
 * Every failure becomes a catalogued CLI error that says what went wrong and what to do: the node
 * is not there, the token is missing or wrong (and where it came from), or the URL is not an ops API.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AndonError } from '../errors/catalogue.js';
import { CliErrors } from '../errors/cli.js';

/** Flags every ops command accepts. */
export interface OpsTargetFlags {
  opsUrl?: string;
  token?: string;
  stateDir?: string;
}

/** Where the ops API is and which token to send (with where it came from, for error messages). */
export interface OpsTarget {
  base: string;
  token: string | undefined;
  /** e.g. `--token`, `ANDON_ADMIN_TOKEN`, `/srv/.andon/admin-token`. */
  tokenSource: string;
  /** The token file that was (or would have been) read. */
  tokenFile: string;
}

/** Default ops URL. */
export const DEFAULT_OPS_URL = 'http://127.0.0.1:9464';

/** The environment variables ops commands read, for `--help`. */
export const OPS_ENV_HELP = `
Environment:
  ANDON_OPS_URL       ops API of the node (default ${DEFAULT_OPS_URL}); --ops-url overrides
  ANDON_ADMIN_TOKEN   admin bearer token; --token overrides
  ANDON_STATE_DIR     state directory whose admin-token file is read when no token is given
                      (default ./.andon); --state-dir overrides
The node writes its token to <state dir>/admin-token (mode 0600) unless ANDON_ADMIN_TOKEN is set there.`;

/** Adds --ops-url, --token, --state-dir and the environment help to an ops command. */
export function withOpsTarget(cmd: Command, stateDirHelp = 'state directory holding admin-token (default $ANDON_STATE_DIR or ./.andon)'): Command {
  return cmd
    .option('--ops-url <url>', `ops API of the node (default $ANDON_OPS_URL or ${DEFAULT_OPS_URL})`)
    .option('--token <token>', 'admin token (default $ANDON_ADMIN_TOKEN, else <state dir>/admin-token)')
    .option('--state-dir <dir>', stateDirHelp)
    .addHelpText('after', OPS_ENV_HELP);
}

/** Resolves the URL and token; a missing token is not an error here (the 401 explains it). */
export function opsTarget(flags: OpsTargetFlags, env: NodeJS.ProcessEnv = process.env): OpsTarget {
  const raw = flags.opsUrl ?? (env.ANDON_OPS_URL || DEFAULT_OPS_URL);
  let base: string;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    base = u.href.replace(/\/+$/, '');
  } catch {
    throw new AndonError(CliErrors.Usage, `--ops-url / ANDON_OPS_URL must be an http(s) URL such as ${DEFAULT_OPS_URL}, got "${raw}"`);
  }
  const tokenFile = join(resolve(flags.stateDir ?? (env.ANDON_STATE_DIR || './.andon')), 'admin-token');
  if (flags.token) return { base, token: flags.token, tokenSource: '--token', tokenFile };
  if (env.ANDON_ADMIN_TOKEN) return { base, token: env.ANDON_ADMIN_TOKEN, tokenSource: 'ANDON_ADMIN_TOKEN', tokenFile };
  try {
    const t = readFileSync(tokenFile, 'utf8').trim();
    if (t) return { base, token: t, tokenSource: tokenFile, tokenFile };
  } catch {
    // No file: the request goes out without a token and the node's 401 is explained below.
  }
  return { base, token: undefined, tokenSource: 'none', tokenFile };
}

/** Options of one {@link adminCall}. */
export interface AdminCallOptions extends OpsTargetFlags {
  /** Turns a 404 from the ops API itself (no such route) into this error, e.g. alerting off. */
  onRouteNotFound?: () => AndonError;
}

function connectionProblem(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return cause?.message ?? (err as Error).message;
}

const TOKEN_ADVICE =
  `pass the node's token with --token or ANDON_ADMIN_TOKEN, or point --state-dir (ANDON_STATE_DIR) at the node's state directory, whose admin-token file holds it`;

/**
 * Calls the admin API and answers its JSON. Throws a catalogued CLI error: OpsUnreachable,
 * OpsUnauthorized, NotOpsApi, the caller's `onRouteNotFound`, or OpsFailed with the node's message.
 */
export async function adminCall(method: string, path: string, body: unknown, options: AdminCallOptions = {}): Promise<any> {
  const t = opsTarget(options);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (t.token !== undefined) headers.authorization = `Bearer ${t.token}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${t.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    text = await res.text();
  } catch (err) {
    throw new AndonError(CliErrors.OpsUnreachable, `cannot reach the ops API at ${t.base} (${connectionProblem(err)}): is the node running, and is this its ops port? pass --ops-url or set ANDON_OPS_URL`, {}, { cause: err });
  }
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = undefined;
  }
  const obj = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  // Every ops API error is `{ "error": "<message>" }` (with `code` since the catalogue); anything
  // else (an MCP endpoint's JSON-RPC error, an HTML page) means the URL is some other service.
  const opsError = typeof obj?.error === 'string' ? obj.error : undefined;
  if (res.ok && obj) return obj;
  if (!res.ok && opsError !== undefined) {
    if (res.status === 401) {
      const why = t.token === undefined ? `no admin token was sent (no --token, ANDON_ADMIN_TOKEN is unset, and ${t.tokenFile} does not exist)` : `the token from ${t.tokenSource} is not this node's`;
      throw new AndonError(CliErrors.OpsUnauthorized, `the ops API at ${t.base} answered 401 unauthorized: ${why}; ${TOKEN_ADVICE}`);
    }
    if (res.status === 404 && options.onRouteNotFound && (obj?.code === 'ANDON_OPS_NOT_FOUND' || opsError.startsWith('not found:'))) throw options.onRouteNotFound();
    throw new AndonError(CliErrors.OpsFailed, `${res.status}: ${opsError}`);
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 80);
  throw new AndonError(
    CliErrors.NotOpsApi,
    `${t.base} does not look like an andon ops API (${method} ${path} answered HTTP ${res.status}${snippet ? `: ${snippet}` : ''}); pass the node's ops URL with --ops-url or ANDON_OPS_URL (the ops port is 9464 unless the node sets --ops-port / OPS_PORT)`,
  );
}
