/**
 * Operator commands: `andon status`, `andon halt`, `andon resume`, `andon drain`. They call the
 * admin API of a running node (see ./ops-client.ts for how the URL and the token are found:
 * `--ops-url`, `--token`, `--state-dir` and their environment variables).
 */
import type { Command } from 'commander';
import { adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';
import { fetchGuardian, guardianLines } from './guardian-status.js';
import { fetchNodes, nodeTable, registerNodesCommand, type NodesAnswer } from './nodes-commands.js';

interface OpsFlags extends OpsTargetFlags {
  json?: boolean;
  reason?: string;
  node?: string;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Registers status, halt, resume and drain. */
export function registerOpsCommands(program: Command): void {
  withOpsTarget(program.command('status').description('components of a running node with their state and restart counts').option('--json', 'machine-readable output')).action(async (flags: OpsFlags) => {
    const data = (await adminCall('GET', '/admin/components', undefined, flags)) as { phase: string; components: Array<Record<string, unknown>> };
    const guardian = await fetchGuardian(flags);
    // A node without the nodes API (older) or a store that cannot be read leaves the list out.
    const cluster = await fetchNodes(flags).catch((): NodesAnswer | undefined => undefined);
    const nodes = cluster && cluster.nodes.length > 1 ? cluster.nodes : undefined;
    if (flags.json) return out(JSON.stringify({ phase: data.phase, components: data.components, ...(guardian ? { guardian } : {}), ...(nodes ? { nodes } : {}) }, null, 2));
    out(`phase: ${data.phase}`);
    if (guardian) for (const l of guardianLines(guardian)) out(l);
    if (nodes) out(`${nodeTable(nodes)}\n`);
    out(
      table([
        ['COMPONENT', 'KIND', 'STATE', 'RESTARTS', 'REASON / LAST ERROR'],
        ...data.components.map((c) => [String(c.id), String(c.kind), String(c.state), String(c.restarts), String(c.haltReason ?? c.lastError ?? '')]),
      ]),
    );
  });

  withOpsTarget(
    program
      .command('halt')
      .description('halt a component (stays halted across restarts until resumed)')
      .argument('<component>', 'e.g. tool:echo, transport:http, node')
      .requiredOption('-r, --reason <reason>', 'why: shown to clients and to whoever resumes it')
      .option('--json', 'machine-readable output'),
  ).action(async (id: string, flags: OpsFlags) => {
    const c = await adminCall('POST', `/admin/components/${encodeURIComponent(id)}/halt`, { reason: flags.reason, by: `cli:${process.env.USER ?? 'operator'}` }, flags);
    out(flags.json ? JSON.stringify(c) : `halted ${id}: ${String(c.haltReason)}`);
  });

  withOpsTarget(program.command('resume').description('resume a halted component').argument('<component>').option('--json', 'machine-readable output')).action(async (id: string, flags: OpsFlags) => {
    const c = await adminCall('POST', `/admin/components/${encodeURIComponent(id)}/resume`, {}, flags);
    out(flags.json ? JSON.stringify(c) : `resumed ${id}: ${String(c.state)}`);
  });

  withOpsTarget(program.command('drain').description('drain the node (or, on a shared store, --node ID): refuse new work, finish in-flight requests, then stop').option('-r, --reason <reason>').option('--node <id>', 'drain this node of the cluster through the store (`andon nodes` lists them)')).action(async (flags: OpsFlags) => {
    const body = flags.reason ? { reason: flags.reason } : {};
    if (flags.node) {
      const r = await adminCall('POST', `/admin/nodes/${encodeURIComponent(flags.node)}/drain`, { ...body, by: `cli:${process.env.USER ?? 'operator'}` }, flags);
      return out(`drain of node ${flags.node} requested (${String(r.reason)})`);
    }
    const r = await adminCall('POST', '/admin/drain', body, flags);
    out(`drain started (${String(r.reason)})`);
  });
  registerNodesCommand(program);
}
