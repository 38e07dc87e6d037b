/**
 * Built-in stage of the `node` phase: while the node drains or an operator halted it, every new
 * request is refused (in-flight work finishes). The runtime owns the state; this stage only reads
 * it through {@link NodeStatus}, so it runs the same under any transport and in tests.
 */
import { AndonError, Errors } from '../../errors/catalogue.js';
import type { Stage } from '../pipeline.js';

/** What the node stage reads per request; the runtime implements it. */
export interface NodeStatus {
  /** The drain phase: `running` admits; any other (`draining`, `halting`, `stopped`) refuses. */
  drainPhase(): string;
  /** The node's halt, when an operator pulled the cord on the whole node. */
  nodeHalt(): { reason: string } | undefined;
}

/** Options of {@link nodeStage}. */
export interface NodeStageOptions {
  /** `Retry-After` of the refusals, ms. Default 5000. */
  retryAfterMs?: number;
}

/** The `node` stage: ANDON_DRAINING while draining, ANDON_NODE_HALTED while the node is halted. */
export function nodeStage(status: NodeStatus, options: NodeStageOptions = {}): Stage {
  const retryAfterMs = options.retryAfterMs ?? 5000;
  return {
    name: 'node',
    phase: 'node',
    admit() {
      const phase = status.drainPhase();
      if (phase !== 'running') return new AndonError(Errors.Draining, undefined, { retryAfterMs, reason: `node is ${phase}`, component: 'node' });
      const halt = status.nodeHalt();
      if (halt) return new AndonError(Errors.NodeHalted, `Service Unavailable: node halted (${halt.reason})`, { retryAfterMs, reason: halt.reason, component: 'node' });
      return undefined;
    },
  };
}
