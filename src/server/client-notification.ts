/** A client's notifications to the server: `initialized`, `cancelled`; others are ignored. */
import type { JsonRpcNotification, RequestId } from '../protocol/jsonrpc.js';
import { ClientCancelled, type Peer, type Session } from './session.js';

/** Applies a client notification to its peer (a 2025 session or the stdio peer). */
export function clientNotification(msg: JsonRpcNotification, peer: Peer | undefined): void {
  switch (msg.method) {
    case 'notifications/initialized':
      if (peer && 'initialized' in peer) (peer as Session).initialized = true;
      return;
    case 'notifications/cancelled': {
      const id = msg.params?.requestId as RequestId | undefined;
      if (id === undefined || !peer) return;
      const ac = peer.inflight.get(id);
      if (ac) ac.abort(new ClientCancelled(typeof msg.params?.reason === 'string' ? msg.params.reason : 'cancelled by client'));
      return;
    }
    default:
      // Unknown notifications are ignored, as JSON-RPC requires (no response to a notification).
      return;
  }
}
