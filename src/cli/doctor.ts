/**
 * `andon doctor [--json] [--config FILE] [--no-send]`: the pre-deployment checklist (docs/doctor.md).
 * Every check answers pass, warn, fail (or skip, when it does not apply) with a one-line fix. Exit
 * code 1 when any check fails, 0 otherwise (warnings alone pass), 2 on a usage error.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCliConfig } from './cli-config.js';
import type { LoadedConfig } from '../config/load.js';
import { checkAdminToken, checkExposure, checkNodeVersion, checkPorts, checkPromRules, checkStateDir, checkTls, checkUlimit, defaultRulesFile } from './doctor-host.js';
import { checkAlertChannels, checkHalts, checkLimits, checkLogLevel, checkSecrets } from './doctor-config.js';
import { fail, pass, skip, type CheckResult, type DoctorContext, type RunningNode } from './doctor-types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Flags of `andon doctor`. */
export interface DoctorFlags {
  json?: boolean;
  config?: string;
  stateDir?: string;
  /** False with --no-send. */
  send?: boolean;
  opsUrl?: string;
  token?: string;
  prometheusRules?: string;
}

/** The report `--json` prints. */
export interface DoctorReport {
  ok: boolean;
  config: string | null;
  counts: Record<CheckResult['status'], number>;
  checks: CheckResult[];
}

/** Titles of the checks that need a valid configuration, for the skip lines when it is not. */
const NEEDS_CONFIG: Array<[string, string]> = [
  ['log-level', 'log level not debug/trace'],
  ['secrets', 'secrets only from the environment, all set'],
  ['state-dir', 'state directory writable, fsync works'],
  ['admin-token', 'admin token present, mode 0600'],
  ['listeners', 'listeners bound as intended'],
  ['ports', 'listener ports free to bind'],
  ['tls', 'TLS certificate valid > 30 days, TLS >= 1.2'],
  ['alert-channels', 'alert channels answer a test send'],
  ['ulimit', 'open-file limit (ulimit -n) sufficient'],
  ['limits', 'rate limits and connection limits set'],
  ['halts', 'no halted components'],
];

function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '*') return '127.0.0.1';
  if (host === '::' || host === '[::]' || host === '::0') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The node answering GET /health/live on the configured ops listener (or --ops-url), if any. */
async function findRunning(loaded: LoadedConfig, flags: DoctorFlags): Promise<RunningNode | undefined> {
  const c = loaded.config;
  const opsOn = c.ops.enabled ?? !(c.stdio && !c.http.enabled);
  if (!opsOn && !flags.opsUrl) return undefined;
  const base = (flags.opsUrl ?? `http://${connectHost(c.ops.host)}:${c.ops.port}`).replace(/\/+$/, '');
  try {
    const res = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { status?: unknown };
    return res.ok && body.status === 'live' ? { opsUrl: base } : undefined;
  } catch {
    return undefined;
  }
}

/** Runs every check. Never throws for what it finds: a bad configuration is one failing check. */
export async function runDoctor(flags: DoctorFlags, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  let loaded: LoadedConfig | undefined;
  try {
    loaded = loadCliConfig({ config: flags.config, stateDir: flags.stateDir }, env);
    checks.push(pass('config', 'configuration valid', `${loaded.file ?? 'no file (defaults and environment)'}`));
  } catch (err) {
    const msg = (err as Error).message.replace(/^config error: /, '').replace(/\n\s*/g, '; ');
    checks.push(fail('config', 'configuration valid', msg, '`andon config check` names each bad key; fix them (docs/configuration.md)'));
  }
  const rules = flags.prometheusRules !== undefined ? resolve(flags.prometheusRules) : defaultRulesFile(here);
  if (loaded) {
    const ctx: DoctorContext = {
      loaded,
      env,
      stateDir: resolve(loaded.config.stateDir),
      running: await findRunning(loaded, flags),
      send: flags.send !== false,
      token: flags.token,
      rulesFile: rules,
    };
    checks.push(checkLogLevel(ctx), checkSecrets(ctx), await checkStateDir(ctx), await checkAdminToken(ctx), checkExposure(ctx), await checkPorts(ctx), await checkTls(ctx));
    checks.push(...(await checkAlertChannels(ctx)));
    checks.push(await checkPromRules(rules), checkUlimit(ctx), checkNodeVersion(), checkLimits(ctx), await checkHalts(ctx));
  } else {
    for (const [id, title] of NEEDS_CONFIG) checks.push(skip(id, title, 'not checked: the configuration is invalid'));
    checks.push(await checkPromRules(rules), checkNodeVersion());
  }
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, config: loaded?.file ?? null, counts, checks };
}

const MARK: Record<CheckResult['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/** The human form: one line per check, its fix indented below it when there is one. */
export function formatReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.id.length));
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.id.padEnd(width)}  ${c.title}: ${c.detail}`);
    if (c.fix && c.status !== 'pass') lines.push(`      ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  lines.push('');
  lines.push(`${r.counts.pass} passed, ${r.counts.warn} warning(s), ${r.counts.fail} failed, ${r.counts.skip} skipped: ${r.ok ? 'ready to deploy' : 'NOT ready to deploy'}`);
  return `${lines.join('\n')}\n`;
}
