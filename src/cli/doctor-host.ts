/**
 * `andon doctor`: the checks of this machine against the configuration — state directory, admin
 * token, listeners and ports, TLS files, open-file limit, Node version, Prometheus rules.
 */
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fail, pass, skip, warn, errCode, type CheckResult, type DoctorContext } from './doctor-types.js';

const DAY_MS = 86_400_000;

/** Creates, writes, fsyncs (file and directory), renames, reads back and deletes a probe file in the state directory. */
export async function checkStateDir(ctx: DoctorContext): Promise<CheckResult> {
  const id = 'state-dir';
  const title = 'state directory writable, fsync works';
  const dir = ctx.stateDir;
  const fix = `make ${dir} a directory the node's user can write (stateDir / ANDON_STATE_DIR / --state-dir), on a local file system`;
  let step = 'create';
  const probe = join(dir, `.doctor-probe-${randomBytes(4).toString('hex')}`);
  const moved = `${probe}.renamed`;
  try {
    const existed = existsSync(dir);
    await mkdir(dir, { recursive: true });
    const st = await stat(dir);
    if (!st.isDirectory()) return fail(id, title, `${dir} is not a directory`, fix);
    step = 'write';
    const body = `andon doctor probe ${Date.now()}\n`;
    const fh = await open(probe, 'wx', 0o600);
    try {
      await fh.writeFile(body);
      step = 'fsync the file';
      await fh.sync();
    } finally {
      await fh.close();
    }
    step = 'rename';
    await rename(probe, moved);
    step = 'fsync the directory';
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    step = 'read back';
    if ((await readFile(moved, 'utf8')) !== body) return fail(id, title, `${dir}: the probe file read back differs from what was written`, fix);
    step = 'delete';
    await unlink(moved);
    return pass(id, title, `${dir}: create, write, fsync, rename, delete ok${existed ? '' : ' (directory created)'}`);
  } catch (err) {
    await unlink(probe).catch(() => {});
    await unlink(moved).catch(() => {});
    const code = errCode(err);
    const why = code === 'ENOTDIR' ? ' (a path component is a file, not a directory)' : code === 'EACCES' || code === 'EPERM' ? ' (permission denied)' : code === 'EROFS' ? ' (read-only file system)' : code === 'ENOSPC' ? ' (disk full)' : '';
    return fail(id, title, `${dir}: cannot ${step}: ${code}${why}`, fix);
  }
}

/** ANDON_ADMIN_TOKEN set, or `<stateDir>/admin-token` present, non-empty and readable by its owner only. */
export async function checkAdminToken(ctx: DoctorContext): Promise<CheckResult> {
  const id = 'admin-token';
  const title = 'admin token present, mode 0600';
  if (ctx.env.ANDON_ADMIN_TOKEN) return pass(id, title, 'from ANDON_ADMIN_TOKEN (the node uses it instead of the state directory file)');
  const file = join(ctx.stateDir, 'admin-token');
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return warn(id, title, `${file} does not exist: the node generates one (mode 0600) on first start`, 'fine for a first start; to provision it, set ANDON_ADMIN_TOKEN from your secret store');
    return fail(id, title, `${file}: ${errCode(err)}`, `make ${file} a file readable by the node's user only (chmod 600)`);
  }
  if (!st.isFile()) return fail(id, title, `${file} is not a regular file`, `remove ${file}; the node generates a token on start`);
  const mode = st.mode & 0o777;
  if (mode & 0o077) return fail(id, title, `${file} has mode 0${mode.toString(8)}: group or others can read the admin token`, `chmod 600 ${file} (and rotate the token if others may have read it)`);
  let text = '';
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    return fail(id, title, `${file}: cannot read (${errCode(err)})`, `make ${file} readable by the node's user (chmod 600, owned by it)`);
  }
  if (!text) return warn(id, title, `${file} is empty: the node generates a new token on start`, `remove ${file} or set ANDON_ADMIN_TOKEN`);
  return pass(id, title, `${file}, mode 0${mode.toString(8)}`);
}

/** One listener the configuration opens. */
export interface Listener {
  name: string;
  host: string;
  port: number;
}

/** The listeners of the configuration: MCP HTTP, ops, and transports on ports of their own. */
export function listenersOf(ctx: DoctorContext): Listener[] {
  const c = ctx.loaded.config;
  const out: Listener[] = [];
  if (c.http.enabled) out.push({ name: 'http (MCP)', host: c.http.host, port: c.http.port });
  if (c.ops.enabled ?? !(c.stdio && !c.http.enabled)) out.push({ name: 'ops', host: c.ops.host, port: c.ops.port });
  if (c.websocket.enabled && c.websocket.port !== undefined) out.push({ name: 'websocket', host: c.websocket.host ?? c.http.host, port: c.websocket.port });
  if (c.legacySse.enabled && c.legacySse.port !== undefined) out.push({ name: 'legacySse', host: c.legacySse.host ?? c.http.host, port: c.legacySse.port });
  if (c.tcp.enabled) out.push({ name: 'tcp', host: c.tcp.host, port: c.tcp.port });
  return out;
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '::0', '*']);

/** Listeners on every interface without auth and TLS in front of them. */
export function checkExposure(ctx: DoctorContext): CheckResult {
  const id = 'listeners';
  const title = 'listeners bound as intended';
  const c = ctx.loaded.config;
  const ls = listenersOf(ctx);
  if (ls.length === 0) return pass(id, title, 'no network listener (stdio only)');
  const problems: string[] = [];
  for (const l of ls) {
    if (!WILDCARD.has(l.host)) continue;
    if (l.name === 'ops') problems.push(`ops on ${l.host}:${l.port}: the admin API and /metrics are reachable from the network, without TLS`);
    else if (!(c.auth.enabled && c.tls.enabled)) problems.push(`${l.name} on ${l.host}:${l.port} without ${[!c.auth.enabled && 'auth', !c.tls.enabled && 'TLS'].filter(Boolean).join(' and ')}`);
  }
  const desc = ls.map((l) => `${l.name} ${l.host}:${l.port}`).join(', ');
  if (problems.length) return warn(id, title, problems.join('; '), 'bind 127.0.0.1 behind a TLS-terminating proxy, or turn on tls and auth (docs/security.md)');
  return pass(id, title, desc);
}

function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', (err) => res(errCode(err)));
    srv.listen({ host: host === '*' ? '0.0.0.0' : host.replace(/^\[|\]$/g, ''), port, exclusive: true }, () => srv.close(() => res(null)));
  });
}

/** Each listener's port can be bound now (or is held by the running node). */
export async function checkPorts(ctx: DoctorContext): Promise<CheckResult> {
  const id = 'ports';
  const title = 'listener ports free to bind';
  const ls = listenersOf(ctx);
  if (ls.length === 0) return skip(id, title, 'no network listener (stdio only)');
  const seen = new Map<number, string>();
  const bad: string[] = [];
  const held: string[] = [];
  const free: string[] = [];
  for (const l of ls) {
    const other = seen.get(l.port);
    if (other !== undefined && l.port !== 0) bad.push(`${l.name} and ${other} both use port ${l.port}`);
    seen.set(l.port, l.name);
    const code = await tryBind(l.host, l.port);
    if (code === null) free.push(`${l.name} ${l.port}`);
    else if (code === 'EADDRINUSE' && ctx.running) held.push(`${l.name} ${l.port}`);
    else if (code === 'EADDRINUSE') bad.push(`${l.name} ${l.host}:${l.port} is in use by another process`);
    else if (code === 'EACCES') bad.push(`${l.name} ${l.host}:${l.port}: permission denied (ports below 1024 need privileges)`);
    else if (code === 'EADDRNOTAVAIL') bad.push(`${l.name}: ${l.host} is not an address of this machine`);
    else bad.push(`${l.name} ${l.host}:${l.port}: ${code}`);
  }
  if (bad.length) return fail(id, title, bad.join('; '), 'stop what holds the port (ss -ltnp) or choose another port (http.port / ops.port / PORT / OPS_PORT)');
  const parts = [free.length ? `free: ${free.join(', ')}` : '', held.length ? `in use by a running andon node (ops at ${ctx.running!.opsUrl}): ${held.join(', ')}` : ''].filter(Boolean);
  return pass(id, title, parts.join('; '));
}

/** The certificate and key of `tls` (when on): readable, matching, valid for more than 30 days, TLS 1.2 or later. */
export async function checkTls(ctx: DoctorContext, now = Date.now()): Promise<CheckResult> {
  const id = 'tls';
  const title = 'TLS certificate valid > 30 days, TLS >= 1.2';
  const t = ctx.loaded.config.tls;
  if (!t.enabled) return skip(id, title, 'tls.enabled is false (terminate TLS in front of the node, or turn it on)');
  const certFile = resolve(t.certFile!);
  const keyFile = resolve(t.keyFile!);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readFile(certFile));
  } catch (err) {
    return fail(id, title, `${certFile}: cannot read a PEM certificate (${errCode(err)})`, 'point tls.certFile at a readable PEM certificate (chain)');
  }
  let keyOk: boolean;
  try {
    keyOk = cert.checkPrivateKey(createPrivateKey(await readFile(keyFile)));
  } catch (err) {
    return fail(id, title, `${keyFile}: cannot read a PEM private key (${errCode(err)})`, 'point tls.keyFile at the unencrypted PEM key of the certificate');
  }
  if (t.caFile) {
    try {
      await readFile(resolve(t.caFile));
    } catch (err) {
      return fail(id, title, `tls.caFile ${resolve(t.caFile)}: ${errCode(err)}`, 'point tls.caFile at a readable PEM file, or remove it');
    }
  }
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  const days = Math.floor((notAfter - now) / DAY_MS);
  const subject = cert.subject.replace(/\n/g, ', ');
  const renew = `renew the certificate ${certFile} (the node reloads it on change when tls.reloadOnChange is on)`;
  if (!keyOk) return fail(id, title, `${keyFile} is not the key of the certificate ${certFile} (${subject})`, 'install the key that belongs to the certificate (or the certificate of this key)');
  if (notAfter <= now) return fail(id, title, `certificate ${subject} expired on ${cert.validTo}`, renew);
  if (notBefore > now) return fail(id, title, `certificate ${subject} is not valid before ${cert.validFrom}`, 'check the clock of this machine, or issue a certificate valid now');
  if (t.minVersion !== 'TLSv1.2' && t.minVersion !== 'TLSv1.3') return fail(id, title, `tls.minVersion is ${String(t.minVersion)}`, 'set tls.minVersion to TLSv1.2 or TLSv1.3');
  if (days < 30) return warn(id, title, `certificate ${subject} expires in ${days} day(s) (${cert.validTo}); minVersion ${t.minVersion}`, renew);
  return pass(id, title, `certificate ${subject} valid ${days} more days (until ${cert.validTo}), key matches, minVersion ${t.minVersion}`);
}

/** The soft limit of open files, from /proc/self/limits (Linux); null when unknown. */
export function openFilesLimit(): number | 'unlimited' | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return 'unlimited';
    const n = Number(soft);
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** Descriptors kept for files, the store, outbound sockets and the other listeners, on top of connections.max. */
export const FD_MARGIN = 256;

/** `ulimit -n` against connections.max (+ the other transports' connection limits) plus a margin. */
export function checkUlimit(ctx: DoctorContext, limit = openFilesLimit()): CheckResult {
  const id = 'ulimit';
  const title = 'open-file limit (ulimit -n) sufficient';
  const c = ctx.loaded.config;
  const conns = c.connections.max + (c.tcp.enabled ? c.tcp.maxConnections : 0) + (c.websocket.enabled && c.websocket.port !== undefined ? c.websocket.maxConnections : 0) + (c.legacySse.enabled && c.legacySse.port !== undefined ? c.legacySse.maxConnections : 0);
  const need = conns + FD_MARGIN;
  const fix = `raise the limit to at least ${need} (LimitNOFILE=${need} in the systemd unit, ulimit -n ${need}, or --ulimit nofile=${need} for docker), or lower connections.max`;
  if (limit === null) return warn(id, title, 'cannot read the limit (/proc/self/limits)', `check \`ulimit -n\` >= ${need} by hand`);
  if (limit === 'unlimited') return pass(id, title, `unlimited (connections: ${conns})`);
  if (limit < conns) return fail(id, title, `soft limit ${limit} is below the ${conns} connections allowed (connections.max ${c.connections.max}${conns !== c.connections.max ? ' + transports' : ''})`, fix);
  if (limit < need) return warn(id, title, `soft limit ${limit} leaves fewer than ${FD_MARGIN} descriptors above the ${conns} connections allowed`, fix);
  return pass(id, title, `soft limit ${limit} >= ${need} (${conns} connections + ${FD_MARGIN})`);
}

/** Node 22 or later (an even, supported line); 20 warns (end of life upstream since April 2026). */
export function checkNodeVersion(version = process.versions.node): CheckResult {
  const id = 'node-version';
  const title = 'Node version supported';
  const major = Number(version.split('.')[0]);
  const fix = 'run Node 22 or 24 (LTS)';
  if (major < 20) return fail(id, title, `Node ${version}: andon-mcp needs Node 20 or later`, fix);
  if (major === 20) return warn(id, title, `Node ${version}: supported by andon-mcp, but Node 20 is past its end of life upstream (2026-04-30)`, fix);
  if (major % 2 === 1) return warn(id, title, `Node ${version}: an odd, short-lived release line`, fix);
  return pass(id, title, `Node ${version}`);
}

/** The rules file shipped in the repository (deploy/prometheus/alerts.yml), when this install has it. */
export function defaultRulesFile(here: string): string | undefined {
  const f = resolve(here, '../../../deploy/prometheus/alerts.yml');
  return existsSync(f) ? f : undefined;
}

function run(cmd: string, args: string[], ms: number): Promise<{ code: number | string; output: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: ms }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!err) return res({ code: 0, output });
      const e = err as NodeJS.ErrnoException & { code?: number | string };
      res({ code: e.code ?? 1, output: output || e.message });
    });
  });
}

/** `promtool check rules FILE` when promtool is on PATH. */
export async function checkPromRules(file: string | undefined): Promise<CheckResult> {
  const id = 'prometheus-rules';
  const title = 'Prometheus rules file valid';
  if (file === undefined) return warn(id, title, 'no rules file: this install has no deploy/prometheus/alerts.yml', 'pass the rules file you deploy with --prometheus-rules FILE');
  if (!existsSync(file)) return fail(id, title, `${file} does not exist`, 'pass the rules file you deploy with --prometheus-rules FILE');
  const r = await run('promtool', ['check', 'rules', file], 15_000);
  if (r.code === 'ENOENT') return warn(id, title, `promtool not installed: ${file} not checked`, 'install promtool (ships with Prometheus) and run andon doctor again');
  const summary = r.output.split('\n').map((l) => l.trim()).filter(Boolean);
  if (r.code !== 0) return fail(id, title, `promtool check rules ${file}: ${summary.slice(-3).join(' | ') || `exit ${r.code}`}`, `fix the rules promtool names in ${file}`);
  return pass(id, title, `${file}: ${summary.find((l) => /SUCCESS/.test(l)) ?? 'promtool ok'}`);
}
