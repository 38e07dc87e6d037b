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
 * (two with `p95Ms` set) and one bucket write; no closure, no timer.
 */
import { AndonError } from '../errors/catalogue.js';
import type { AdmissionResult, Next, Stage } from '../admission/pipeline.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import type { IncomingRequest } from '../server/incoming.js';
import type { McpServer } from '../server/server.js';
import { NOT_COUNTED } from '../server/tools.js';
import { Outcome, REFUSED, type CircuitBreaker } from './breaker.js';
import type { BreakerRegistry } from './breakers.js';
import type { Clock } from '../util/clock.js';

/** The outcome of a call that threw (a protocol error or a refusal). */
function thrownOutcome(err: unknown): Outcome {
  if (err instanceof AndonError) return Outcome.Skip;
  if (err instanceof McpError) return err.code === ErrorCode.InternalError ? Outcome.Fail : Outcome.Skip;
  return Outcome.Fail;
}

function settle(b: CircuitBreaker, token: number, outcome: Outcome, t0: number, clock: Clock): void {
  if (!b.timed) return b.settle(token, outcome, 0);
  const now = clock.now();
  b.settle(token, outcome, now - t0, now);
}

/** The `breakers` stage over `registry` (see the module comment). */
export class BreakerStage implements Stage {
  readonly name = 'breakers';
  readonly phase = 'breaker' as const;

  constructor(private readonly registry: BreakerRegistry) {}

  around(req: IncomingRequest, next: Next): Promise<AdmissionResult> {
    if (req.request.method !== 'tools/call') return next(req);
    const name = req.request.params?.name;
    if (typeof name !== 'string') return next(req);
    const b = this.registry.tool(name);
    if (b === undefined) return this.first(name, req, next);
    const token = b.acquire();
    if (token === REFUSED) return Promise.reject(b.refusal());
    return this.guarded(b, token, req, next);
  }

  private async guarded(b: CircuitBreaker, token: number, req: IncomingRequest, next: Next): Promise<AdmissionResult> {
    const clock = this.registry.clock;
    // Timed only when a latency threshold is set: one clock read per call otherwise (the window's).
    const t0 = b.timed ? clock.now() : 0;
    let result: AdmissionResult;
    try {
      result = await next(req);
    } catch (err) {
      settle(b, token, thrownOutcome(err), t0, clock);
      throw err;
    }
    settle(b, token, result.isError !== true ? Outcome.Ok : (result as { [NOT_COUNTED]?: true })[NOT_COUNTED] === true ? Outcome.Skip : Outcome.Fail, t0, clock);
    return result;
  }

  /** A tool with no breaker yet: the breaker is made by the first counted outcome. */
  private async first(name: string, req: IncomingRequest, next: Next): Promise<AdmissionResult> {
    const clock = this.registry.clock;
    // The first call of a tool: its breaker (and whether it is timed) does not exist yet.
    const t0 = clock.now();
    let result: AdmissionResult;
    let outcome: Outcome;
    try {
      result = await next(req);
      outcome = result.isError !== true ? Outcome.Ok : (result as { [NOT_COUNTED]?: true })[NOT_COUNTED] === true ? Outcome.Skip : Outcome.Fail;
    } catch (err) {
      outcome = thrownOutcome(err);
      if (outcome !== Outcome.Skip) this.registry.toolBreaker(name)?.settle(0, outcome, clock.now() - t0);
      throw err;
    }
    if (outcome !== Outcome.Skip) this.registry.toolBreaker(name)?.settle(0, outcome, clock.now() - t0);
    return result;
  }
}

/**
 * Installs the breakers on `server` (the runtime calls it once): the `breakers` stage and
 * `server.downstreams` for `ctx.downstream`. Nothing when the registry is disabled.
 */
export function installBreakers(server: McpServer, registry: BreakerRegistry): void {
  if (!registry.enabled) return;
  server.use(new BreakerStage(registry));
  server.downstreams = registry;
}
