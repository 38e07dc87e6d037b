/**
 * Operator commands: `andon status`, `andon halt`, `andon resume`, `andon drain`. They call the
 * admin API of a running node: ANDON_OPS_URL (default http://127.0.0.1:9464) with the bearer
 * token from ANDON_ADMIN_TOKEN, else from <state dir>/admin-token.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface OpsFlags {
  json?: boolean;
  reason?: string;
  stateDir?: string;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function token(stateDir?: string): string {
  if (process.env.ANDON_ADMIN_TOKEN) return process.env.ANDON_ADMIN_TOKEN;
  const file = join(resolve(stateDir ?? process.env.ANDON_STATE_DIR ?? './.andon'), 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`no admin token: set ANDON_ADMIN_TOKEN or run where ${file} exists`);
  }
}

/** Calls the admin API; throws with the server's own error message on a non-2xx answer. */
export async function adminCall(method: string, path: string, body?: unknown, stateDir?: string): Promise<any> {
  const base = (process.env.ANDON_OPS_URL ?? 'http://127.0.0.1:9464').replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token(stateDir)}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach the ops API at ${base} (${(err as Error).message}); is the node running? set ANDON_OPS_URL`);
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) throw new Error(`${res.status}: ${String(data.error ?? text)}`);
  return data;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function registerOpsCommands(program: Command): void {
  program
    .command('status')
    .description('components of a running node with their state and restart counts')
    .option('--json', 'machine-readable output')
    .option('--state-dir <dir>', 'where to find admin-token if ANDON_ADMIN_TOKEN is unset')
    .action(async (flags: OpsFlags) => {
      const data = (await adminCall('GET', '/admin/components', undefined, flags.stateDir)) as { phase: string; components: Array<Record<string, unknown>> };
      if (flags.json) return out(JSON.stringify({ phase: data.phase, components: data.components }, null, 2));
      out(`phase: ${data.phase}`);
      out(
        table([
          ['COMPONENT', 'KIND', 'STATE', 'RESTARTS', 'REASON / LAST ERROR'],
          ...data.components.map((c) => [String(c.id), String(c.kind), String(c.state), String(c.restarts), String(c.haltReason ?? c.lastError ?? '')]),
        ]),
      );
    });

  program
    .command('halt')
    .description('halt a component (stays halted across restarts until resumed)')
    .argument('<component>', 'e.g. tool:echo, transport:http, node')
    .requiredOption('-r, --reason <reason>', 'why: shown to clients and to whoever resumes it')
    .option('--json', 'machine-readable output')
    .option('--state-dir <dir>')
    .action(async (id: string, flags: OpsFlags) => {
      const c = await adminCall('POST', `/admin/components/${encodeURIComponent(id)}/halt`, { reason: flags.reason, by: `cli:${process.env.USER ?? 'operator'}` }, flags.stateDir);
      out(flags.json ? JSON.stringify(c) : `halted ${id}: ${String(c.haltReason)}`);
    });

  program
    .command('resume')
    .description('resume a halted component')
    .argument('<component>')
    .option('--json', 'machine-readable output')
    .option('--state-dir <dir>')
    .action(async (id: string, flags: OpsFlags) => {
      const c = await adminCall('POST', `/admin/components/${encodeURIComponent(id)}/resume`, {}, flags.stateDir);
      out(flags.json ? JSON.stringify(c) : `resumed ${id}: ${String(c.state)}`);
    });

  program
    .command('drain')
    .description('drain the node: refuse new work, finish in-flight requests, then stop')
    .option('-r, --reason <reason>')
    .option('--state-dir <dir>')
    .action(async (flags: OpsFlags) => {
      const r = await adminCall('POST', '/admin/drain', flags.reason ? { reason: flags.reason } : {}, flags.stateDir);
      out(`drain started (${String(r.reason)})`);
    });
}
