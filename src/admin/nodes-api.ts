/**
 * Cluster membership on the ops listener (bearer token): `GET /admin/nodes` lists the nodes
 * sharing this node's store with their last heartbeat and status (up, draining, down, stopped);
 * `POST /admin/nodes/:id/drain` drains one of them through the store, as on SIGTERM
 * (src/runtime/cluster-members.ts). On a file store the list is empty (`shared: false`).
 */
import type { ClusterMembers } from '../runtime/cluster-members.js';
import { OpsError, sendJson, type OpsServer } from './ops-server.js';

/** What the nodes API reads (the Runtime). */
export interface NodesAdminTarget {
  readonly nodeId: string;
  readonly members?: ClusterMembers | undefined;
}

export function mountNodesApi(ops: OpsServer, rt: NodesAdminTarget): void {
  ops.route('GET', '/admin/nodes', async (_req, res) => {
    const m = rt.members;
    if (!m) return sendJson(res, 200, { self: rt.nodeId, shared: false, nodes: [] });
    let nodes;
    try {
      nodes = await m.list();
    } catch (err) {
      throw new OpsError(503, `could not read the membership from the store: ${String((err as Error).message ?? err)}`);
    }
    sendJson(res, 200, { self: rt.nodeId, shared: true, heartbeatMs: m.heartbeatMs, nodes });
  });

  ops.route('POST', '/admin/nodes/:id/drain', async (_req, res, ctx) => {
    const m = rt.members;
    if (!m) throw new OpsError(409, 'this node is not on a shared store: drain it with POST /admin/drain');
    const body = await ctx.json();
    const id = ctx.params.id!;
    const reason = typeof body.reason === 'string' && body.reason ? body.reason : `drain requested through ${rt.nodeId}'s admin API`;
    const by = typeof body.by === 'string' && body.by ? body.by : 'admin-api';
    let r;
    try {
      r = await m.requestDrain(id, reason, by);
    } catch (err) {
      throw new OpsError(503, `could not reach the store to ask node "${id}" to drain: ${String((err as Error).message ?? err)}`);
    }
    if (!r.ok) throw new OpsError(r.status, r.error);
    sendJson(res, 202, { node: id, phase: 'draining', reason });
  });
}
