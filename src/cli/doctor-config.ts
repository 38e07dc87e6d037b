/**
 * `andon doctor`: the checks of the configuration itself and of what it points at — log level,
 * secrets in the environment, limits, a test send per alert channel, halted components.
 */
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsConfigFromSection } from '../config/runtime-options.js';
import { buildAlertChannels } from '../observability/alerts/config.js';
import { AlertManager } from '../observability/alerts/manager.js';
import { FileStore } from '../store/file-store.js';
import { checkHaltRecord } from '../store/records.js';
import type { QuarantineReport } from '../store/store.js';
import { adminCall } from './ops-client.js';
import { fail, pass, skip, warn, type CheckResult, type DoctorContext } from './doctor-types.js';

/** logging.level is not debug or trace. */
export function checkLogLevel(ctx: DoctorContext): CheckResult {
  const id = 'log-level';
  const title = 'log level not debug/trace';
  const level = ctx.loaded.config.logging.level;
  const from = ctx.loaded.sources.get('logging.level');
  if (level === 'debug' || level === 'trace') return warn(id, title, `logging.level is ${level}${from ? ` (from ${from})` : ''}: verbose, slower, and request details end up in the logs`, 'set logging.level to info (ANDON_LOG_LEVEL=info); raise it live with `andon config reload` when debugging');
  return pass(id, title, `logging.level ${level}`);
}

/** The names of the enabled alert channels. */
function enabledChannels(ctx: DoctorContext): string[] {
  const a = ctx.loaded.config.alerts;
  if (!a) return [];
  return Object.entries(a.channels)
    .filter(([, c]) => c.enabled ?? c.type !== 'twilio')
    .map(([n]) => n);
}

/** Why channel `name` cannot be built in this environment (an unset secret variable), or undefined. */
function channelProblem(ctx: DoctorContext, name: string): string | undefined {
  try {
    const built = buildAlertChannels(alertsConfigFromSection(ctx.loaded.config.alerts!), ctx.env, [name]);
    for (const c of built.channels) c.close?.();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Secrets come from the environment only: the schema refuses literals, so this checks that every
 * variable the configuration names (alert channels, auth introspection, the Redis URL) is set here.
 */
export function checkSecrets(ctx: DoctorContext): CheckResult {
  const id = 'secrets';
  const title = 'secrets only from the environment, all set';
  const c = ctx.loaded.config;
  const failures: string[] = [];
  const warnings: string[] = [];
  const checked: string[] = [];
  for (const name of enabledChannels(ctx)) {
    const problem = channelProblem(ctx, name);
    if (problem) failures.push(problem);
    else checked.push(`alerts.channels.${name}`);
  }
  if (c.auth.enabled && c.auth.introspection) {
    for (const v of [c.auth.introspection.clientIdEnv, c.auth.introspection.clientSecretEnv]) {
      if (ctx.env[v]) checked.push(v);
      else failures.push(`auth.introspection: environment variable ${v} is not set`);
    }
  }
  if (c.store.kind === 'redis' && !c.store.url && !c.store.cluster && !c.store.sentinel) {
    if (ctx.env[c.store.urlEnv]) checked.push(c.store.urlEnv);
    else warnings.push(`store.urlEnv: ${c.store.urlEnv} is not set, the node connects to redis://127.0.0.1:6379`);
  }
  const fix = 'export each named variable in the node\'s environment (systemd EnvironmentFile, a Kubernetes Secret), never in the config file';
  const literals = 'no secret literals in the configuration';
  if (failures.length) return fail(id, title, failures.join('; '), fix);
  if (warnings.length) return warn(id, title, warnings.join('; '), fix);
  return pass(id, title, checked.length ? `${literals}; set: ${checked.join(', ')}` : `${literals}; none needed`);
}

/** Rate limits on and the connection limit set. */
export function checkLimits(ctx: DoctorContext): CheckResult {
  const id = 'limits';
  const title = 'rate limits and connection limits set';
  const c = ctx.loaded.config;
  const desc = `connections.max ${c.connections.max}, maxPerClient ${c.connections.maxPerClient}, limits.maxSessions ${c.limits.maxSessions}`;
  if (!c.rateLimits.enabled) return warn(id, title, `rateLimits.enabled is false (${desc}): one client can take the whole node`, 'set rateLimits.enabled: true and size rateLimits.perClient / rateLimits.global (docs/configuration.md)');
  return pass(id, title, `rate limits on (per client ${c.rateLimits.perClient.messagesPerSec} msg/s, global ${c.rateLimits.global.messagesPerSec} msg/s); ${desc}`);
}

/** One test alert per enabled channel, through the alert manager (the path of `andon alerts test --config`). */
export async function checkAlertChannels(ctx: DoctorContext): Promise<CheckResult[]> {
  const a = ctx.loaded.config.alerts;
  const names = enabledChannels(ctx);
  if (!a || names.length === 0) return [skip('alert-channels', 'alert channels answer a test send', a ? 'no enabled alert channel' : 'no alerts section: alerting is off')];
  return Promise.all(names.map((name) => sendTest(ctx, name)));
}

async function sendTest(ctx: DoctorContext, name: string): Promise<CheckResult> {
  const id = `alert-channel:${name}`;
  const title = `alert channel ${name} answers a test send`;
  if (!ctx.send) return skip(id, title, '--no-send');
  const a = ctx.loaded.config.alerts!;
  let built;
  try {
    built = buildAlertChannels(alertsConfigFromSection(a), ctx.env, [name]);
  } catch (err) {
    return fail(id, title, `not sent: ${(err as Error).message}`, 'set the variable it names (see the secrets check)');
  }
  // Two attempts, short backoff: a doctor run answers in seconds; the node itself retries longer.
  const alerts = new AlertManager({ channels: built.channels, fallbacks: {}, retry: { attempts: 2, baseMs: 250, maxMs: 1_000 }, timeoutMs: Math.min(a.timeoutMs, 10_000), source: a.source });
  try {
    const record = await alerts.test({ channel: name, severity: 'info', title: 'Test alert from andon doctor' }).delivered;
    const d = record?.deliveries.find((x) => x.channel === name);
    if (record?.status === 'sent' && d?.ok) return pass(id, title, `${built.channels[0]?.type ?? 'channel'} delivered in ${d.durationMs} ms (${d.attempts} attempt(s))`);
    return fail(id, title, `not delivered after ${d?.attempts ?? 0} attempt(s): ${d?.error ?? record?.status ?? 'no record'}`, `make the endpoint of alerts.channels.${name} reachable from this host (URL, firewall, credentials), then \`andon alerts test --channel ${name}\``);
  } finally {
    await alerts.close(1_000);
  }
}

/**
 * No halted component: asked of the running node when there is one, else read from the state
 * directory's halt records. The records are read from a copy, so a corrupt one is moved aside in
 * the copy only: the node, on its next start, still finds it and keeps its component halted.
 */
export async function checkHalts(ctx: DoctorContext): Promise<CheckResult> {
  const id = 'halts';
  const title = 'no halted components';
  const fix = 'find out why (`andon status`, docs/runbooks/), fix it, then `andon resume <component>`';
  if (ctx.running) {
    let data: { components: Array<{ id: string; state: string; haltReason?: string | null }> };
    try {
      data = (await adminCall('GET', '/admin/components', undefined, { opsUrl: ctx.running.opsUrl, token: ctx.token, stateDir: ctx.stateDir })) as typeof data;
    } catch (err) {
      return warn(id, title, `a node runs at ${ctx.running.opsUrl} but its components could not be listed: ${(err as Error).message}`, 'pass --token (or ANDON_ADMIN_TOKEN) to let doctor ask the node');
    }
    const halted = data.components.filter((c) => c.state.startsWith('halted'));
    if (halted.length) return fail(id, title, `running node: ${halted.map((c) => `${c.id} ${c.state}${c.haltReason ? ` (${c.haltReason})` : ''}`).join('; ')}`, fix);
    return pass(id, title, `running node at ${ctx.running.opsUrl}: ${data.components.length} component(s), none halted`);
  }
  if (ctx.loaded.config.store.kind !== 'file') return warn(id, title, `no running node found and the store is ${ctx.loaded.config.store.kind}: halt records not read`, 'run doctor while a node runs (or check `andon status`)');
  const dir = join(ctx.stateDir, 'halt');
  try {
    await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return pass(id, title, `no running node; no halt records in ${ctx.stateDir}`);
    return warn(id, title, `no running node; cannot read ${dir} (${code ?? (err as Error).message})`, `make ${ctx.stateDir} a readable directory (see the state-dir check)`);
  }
  const copy = await mkdtemp(join(tmpdir(), 'andon-doctor-'));
  try {
    await cp(dir, join(copy, 'halt'), { recursive: true });
    const rejected: QuarantineReport[] = [];
    const entries = await new FileStore({ dir: copy }).list<{ state: string; reason: string; by?: string }>('halt', { validate: checkHaltRecord, onReject: (r) => rejected.push(r) });
    const halted = entries.filter((e) => e.value.state !== 'normal').map((e) => `${e.key} ${e.value.state} (${e.value.reason})`);
    halted.push(...rejected.map((r) => `${r.key}: unreadable record (${r.reason}), the node keeps it halted_fatal`));
    if (halted.length) return fail(id, title, `state directory ${ctx.stateDir} (no running node): ${halted.join('; ')}`, fix);
    return pass(id, title, `no running node; ${entries.length} halt record(s) in ${ctx.stateDir}, none halted`);
  } catch (err) {
    return fail(id, title, `cannot read the halt records in ${dir}: ${(err as Error).message}`, `make ${dir} readable by the node's user`);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}
