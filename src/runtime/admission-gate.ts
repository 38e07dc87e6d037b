/**
 * The runtime's stages in the server's admission pipeline (src/admission): the `node` stage
 * refuses new requests while draining or while the node is halted; the `server-halt` stage while
 * the server component is halted. The stages read the runtime's state through {@link GateState}.
 */
import { nodeStage } from '../admission/stages/node.js';
import { serverHaltStage } from '../admission/stages/server-halt.js';
import type { McpServer } from '../server/server.js';
import type { HaltRegistry } from './halt.js';

/** What the stages read. */
export interface GateState {
  phase(): string;
  halts: HaltRegistry;
  /** The server component's halt reason, or null when it runs. */
  serverHalted(): string | null;
}

/** Registers the runtime's admission stages on `server` (idempotent: stages are named). */
export function installGate(server: McpServer, st: GateState): void {
  server.use(nodeStage({ drainPhase: st.phase, nodeHalt: () => st.halts.get('node') }));
  server.use(serverHaltStage(server.info.name, st.serverHalted));
}
