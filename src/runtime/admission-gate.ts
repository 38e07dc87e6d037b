/**
 * The runtime's admission gate on the server: refuse new requests while draining, while the node
 * is halted, or while the server component is halted. (The admission pipeline replaces this.)
 */
import { ErrorCode, McpError } from '../protocol/errors.js';
import type { McpServer } from '../server/server.js';
import type { HaltRegistry } from './halt.js';

/** What the gate reads. */
export interface GateState {
  phase(): string;
  halts: HaltRegistry;
  /** The server component's halt reason, or null when it runs. */
  serverHalted(): string | null;
}

/** Installs the gate on `server`. */
export function installGate(server: McpServer, st: GateState): void {
  server.gate = () => {
    if (st.phase() !== 'running') return new McpError(ErrorCode.Unavailable, 'Server is draining; retry on another instance');
    const node = st.halts.get('node');
    if (node) return new McpError(ErrorCode.Unavailable, `Node is halted: ${node.reason}`);
    const reason = st.serverHalted();
    if (reason !== null) return new McpError(ErrorCode.Unavailable, `Server ${server.info.name} is halted: ${reason}`);
    return null;
  };
}
