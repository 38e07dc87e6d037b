/**
 * The admission stage of phase `breaker`: guards `tools/call` with the tool's circuit breaker.
 * An open breaker refuses with ANDON_BREAKER_OPEN (503 + Retry-After; over stdio the JSON-RPC
 * error with `data`) and the handler is not called. Otherwise the call runs and its outcome is
 * counted:
 *
 * - failure: an `isError` result from the handler (returned, or a thrown error the server turned
 *   into one), an output failing the tool's outputSchema, a -32603 internal error;
 * - not counted: what the client caused (unknown tool and other -32602, arguments failing the
 *   input schema, a cancellation), a refusal from a downstream breaker or a later stage, and the
 *   other protocol errors a handler throws on purpose (-32042, -32021);
 * - success: everything else.
 *
 * A call that becomes a task (2025 `task`, 2026 tasks extension) is counted when the task is
 * created; how the task ends later is not seen here.
 *
 * Other methods pass straight through. Per call: a method compare, a Map lookup, one clock read
 * (two with `p95Ms` set) and one bucket write; no promise, no closure, no timer, and no object
 * unless the call is a half-open probe or timed (the closed breaker itself is kept on the request).
 */
import { AndonError } from '../errors/catalogue.js';
import type { Stage } from '../admission/pipeline.js';
import type { JsonRpcResponse } from '../protocol/jsonrpc.js';
import { ErrorCode } from '../protocol/errors.js';
import type { IncomingRequest } from '../server/incoming.js';
import type { McpServer } from '../server/server.js';
import { NOT_COUNTED } from '../server/tools.js';
import { CircuitBreaker, Outcome, REFUSED } from './breaker.js';
import type { BreakerRegistry } from './breakers.js';

/** What the stage keeps on a request between admission and its response. */
interface Guard {
  b: CircuitBreaker | undefined;
  /** The tool's name when it has no breaker yet (made by the first counted outcome). */
  name: string;
  token: number;
  t0: number;
}


/** The outcome of a call from its response (see the module comment). */
function outcomeOf(response: JsonRpcResponse): Outcome {
  if ('error' in response) {
    const e = response.error;
    // Catalogued refusals (a downstream breaker, a later stage) carry data.code: not the tool's doing.
    if (e.data !== null && typeof e.data === 'object' && typeof (e.data as { code?: unknown }).code === 'string') return Outcome.Skip;
    return e.code === ErrorCode.InternalError ? Outcome.Fail : Outcome.Skip;
  }
  const r = response.result as { isError?: unknown; [NOT_COUNTED]?: true };
  if (r.isError !== true) return Outcome.Ok;
  return r[NOT_COUNTED] === true ? Outcome.Skip : Outcome.Fail;
}

/**
 * The `breakers` stage over `registry`. Admission is synchronous (no promise per call): an open
 * breaker refuses, else the call's token is kept on the request, and {@link BreakerStage.settle}
 * (called with every response, by {@link installBreakers}) counts the outcome.
 */
export class BreakerStage implements Stage {
  readonly name = 'breakers';
  readonly phase = 'breaker' as const;

  constructor(private readonly registry: BreakerRegistry) {}

  admit(req: IncomingRequest): AndonError | undefined {
    if (req.request.method !== 'tools/call') return undefined;
    const name = req.request.params?.name;
    if (typeof name !== 'string') return undefined;
    const b = this.registry.tool(name);
    if (b === undefined) {
      req.breakerGuard = { b: undefined, name, token: 0, t0: this.registry.clock.now() } satisfies Guard;
      return undefined;
    }
    const token = b.acquire();
    if (token === REFUSED) return b.refusal();
    // The common case (closed, no latency threshold) keeps the breaker itself: no object per call.
    if (token === 0 && !b.timed) req.breakerGuard = b;
    // Timed only when a latency threshold is set: one clock read per call otherwise (the window's).
    else req.breakerGuard = { b, name, token, t0: b.timed ? this.registry.clock.now() : 0 } satisfies Guard;
    return undefined;
  }

  /** Counts the outcome of a request this stage admitted (every other response passes untouched). */
  settle(req: IncomingRequest, response: JsonRpcResponse): void {
    const g = req.breakerGuard as Guard | CircuitBreaker | undefined;
    if (g === undefined) return;
    req.breakerGuard = undefined;
    const outcome = outcomeOf(response);
    if (g instanceof CircuitBreaker) return g.settle(0, outcome, 0);
    const clock = this.registry.clock;
    if (g.b !== undefined) {
      if (!g.b.timed) return g.b.settle(g.token, outcome, 0);
      const now = clock.now();
      return g.b.settle(g.token, outcome, now - g.t0, now);
    }
    if (outcome !== Outcome.Skip) this.registry.toolBreaker(g.name)?.settle(0, outcome, clock.now() - g.t0);
  }
}

/**
 * Installs the breakers on `server` (the runtime calls it once): the `breakers` stage and
 * `server.downstreams` for `ctx.downstream`. Nothing when the registry is disabled.
 */
export function installBreakers(server: McpServer, registry: BreakerRegistry): void {
  if (!registry.enabled) return;
  const stage = new BreakerStage(registry);
  server.use(stage);
  // The outcome is counted when the response is made, before the runtime's own settle step.
  const prev = server.observer;
  server.observer = {
    ...prev,
    settle: (inc, response) => {
      stage.settle(inc, response);
      return prev.settle?.(inc, response);
    },
  };
  server.downstreams = registry;
}
