/**
 * `andon nodes [--json]`: the nodes sharing the store of the node the CLI talks to (GET
 * /admin/nodes), and the node lines `andon status` prints when there are several.
 */
import type { Command } from 'commander';
import { adminCall, withOpsTarget, type OpsTargetFlags } from './ops-client.js';

export interface NodeRow {
  id: string;
  status: string;
  phase: string;
  degraded: boolean;
  sessions: number;
  mcpUrl: string | null;
  opsUrl: string | null;
  pid: number;
  ageMs: number;
  self: boolean;
}

export interface NodesAnswer {
  self: string;
  shared: boolean;
  heartbeatMs?: number;
  nodes: NodeRow[];
}

export function fetchNodes(flags: OpsTargetFlags): Promise<NodesAnswer> {
  return adminCall('GET', '/admin/nodes', undefined, flags) as Promise<NodesAnswer>;
}

/** A table of the nodes, this node marked with `*`. */
export function nodeTable(nodes: NodeRow[]): string {
  const rows = [['NODE', 'STATUS', 'SESSIONS', 'DEGRADED', 'LAST BEAT', 'MCP URL', 'OPS URL'], ...nodes.map((n) => [`${n.self ? '*' : ' '}${n.id}`, n.status, String(n.sessions), n.degraded ? 'yes' : 'no', `${(n.ageMs / 1000).toFixed(1)} s ago`, n.mcpUrl ?? '-', n.opsUrl ?? '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function registerNodesCommand(program: Command): void {
  withOpsTarget(program.command('nodes').description('the nodes sharing this node\'s store (Redis): status, sessions, last heartbeat').option('--json', 'machine-readable output')).action(async (flags: OpsTargetFlags & { json?: boolean }) => {
    const data = await fetchNodes(flags);
    if (flags.json) return void process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    if (!data.shared) return void process.stdout.write(`node ${data.self} is not on a shared store: it is the only node\n`);
    process.stdout.write(`${nodeTable(data.nodes)}\n`);
  });
}
