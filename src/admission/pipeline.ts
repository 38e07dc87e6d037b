/**
 * The admission pipeline: one ordered list of stages that every request passes, in both eras and
 * on every transport, between the dispatcher (which decoded the message and found its era) and the
 * handler. Fastify's hook lifecycle gives the fixed, named phases; undici's composed interceptors
 * give the shape: the stages are composed once into one function per stage list, so a request
 * costs a few plain calls and no closures. Nothing here is a single callback slot that one owner
 * overwrites: every concern registers its own named stage.
 *
 * Order (docs: README "Request pipeline"):
 *
 *   node → auth → halt → limit → rate → degrade → flag → breaker → handler → (response: the transport)
 *
 * Phases no code fills yet (limit, rate, degrade, flag, breaker) are empty slots: an empty phase
 * costs nothing, because the composed chain holds only registered stages.
 */
import { AndonError } from '../errors/catalogue.js';
import type { IncomingRequest } from '../server/incoming.js';

/**
 * The phases, in the order a request passes them.
 * - `node`: node state — draining, node halted.
 * - `auth`: authentication and authorization (the OAuth resource server, src/auth): the token's
 *   subject becomes the client identity before halts, limits and rates key on it; a missing scope
 *   refuses here (403). A draining node refuses before any token is looked at.
 * - `halt`: component halts — server, transport, tool (halted tools are hidden from lists).
 * - `limit`: connection and session limits.
 * - `rate`: rate limits and quotas.
 * - `degrade`: shedding under degradation.
 * - `flag`: feature-flag visibility (hides tools/resources/prompts per client).
 * - `breaker`: circuit breakers (around the handler, to see its results).
 * - `handler`: the last phase before the handler; `server.addHook` hooks run here, timing
 *   stages wrap the handler here.
 */
export const PHASES = ['node', 'auth', 'halt', 'limit', 'rate', 'degrade', 'flag', 'breaker', 'handler'] as const;

/** One phase name of {@link PHASES}. */
export type Phase = (typeof PHASES)[number];

/** A request's result before it becomes a JSON-RPC response (a CallToolResult, a list page…). */
export type AdmissionResult = Record<string, unknown>;

/** What an around stage calls to run the rest of the pipeline and the handler. */
export type Next = (req: IncomingRequest) => Promise<AdmissionResult>;

/** Kinds of list entries a `visible` filter is asked about. */
export type EntryKind = 'tool' | 'resource' | 'resourceTemplate' | 'prompt';

/** What `admit` answers: nothing to admit, a catalogued error to refuse. Throwing refuses too. */
export type AdmitAnswer = AndonError | null | undefined | void;

/**
 * One stage. It admits (`admit` returns nothing), refuses (`admit` returns or throws an
 * {@link AndonError}, which the transport maps to 503/429 + Retry-After or a JSON-RPC error with
 * `data`), wraps execution (`around`: time it, see its result, answer without running it), and
 * may hide list entries (`visible`). Any of the three may be left out.
 */
export interface Stage {
  /** Unique name; `use()` with a name already registered replaces that stage. */
  readonly name: string;
  /** Where the stage runs. Default `handler` (the last phase before the handler). */
  readonly phase?: Phase;
  /** Decides admission. May be async (an auth lookup); a sync answer costs no promise. */
  admit?(req: IncomingRequest): AdmitAnswer | Promise<AdmitAnswer>;
  /** Wraps the rest of the pipeline and the handler: call `next(req)` to run them, or answer yourself. */
  around?(req: IncomingRequest, next: Next): Promise<AdmissionResult>;
  /** False hides the entry from `tools/list`, `resources/list`, `resources/templates/list` or `prompts/list` for this request. */
  visible?(kind: EntryKind, name: string, req: IncomingRequest): boolean;
}

/** A registered stage with its resolved phase index (the sort key). */
interface Entry {
  stage: Stage;
  phase: number;
  seq: number;
}

/**
 * The pipeline of one server. `run(req)` passes a request through every stage and the handler;
 * `visible()` asks the stages whether a list entry is shown. The chain is recomposed when a stage
 * is added or removed (rare), never per request.
 */
export class AdmissionPipeline {
  private entries: Entry[] = [];
  private seq = 0;
  private chain: Next;
  private admitChain: Next;
  private filters: Stage[] = [];

  /** `handler` runs after every stage admitted the request (the server's dispatch). */
  constructor(private readonly handler: Next) {
    this.chain = handler;
    this.admitChain = ADMITTED;
  }

  /**
   * Registers a stage in its phase, after the stages already there (a stage with the same name
   * is replaced in place). Returns a function that removes it.
   */
  use(stage: Stage): () => void {
    const phase = PHASES.indexOf(stage.phase ?? 'handler');
    if (phase < 0) throw new TypeError(`admission stage "${stage.name}": unknown phase "${String(stage.phase)}" (phases: ${PHASES.join(', ')})`);
    if (!stage.admit && !stage.around && !stage.visible) throw new TypeError(`admission stage "${stage.name}" has none of admit, around, visible`);
    const old = this.entries.findIndex((e) => e.stage.name === stage.name);
    const entry: Entry = { stage, phase, seq: old >= 0 && this.entries[old]!.phase === phase ? this.entries[old]!.seq : ++this.seq };
    if (old >= 0) this.entries.splice(old, 1);
    this.entries.push(entry);
    this.entries.sort((a, b) => a.phase - b.phase || a.seq - b.seq);
    this.compose();
    return () => this.remove(stage.name);
  }

  /** Removes the stage named `name`; returns whether it was registered. */
  remove(name: string): boolean {
    const i = this.entries.findIndex((e) => e.stage.name === name);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    this.compose();
    return true;
  }

  /** The registered stages in the order a request passes them: `[phase, name]`. */
  stages(): Array<[Phase, string]> {
    return this.entries.map((e) => [PHASES[e.phase]!, e.stage.name]);
  }

  /**
   * Passes `req` through every stage, then the handler. Rejects (or throws synchronously) with
   * the refusal; the caller turns it into the wire answer.
   */
  run(req: IncomingRequest): Promise<AdmissionResult> {
    return this.chain(req);
  }

  /**
   * Admission only, for what opens a stream instead of calling a handler (a 2026
   * `subscriptions/listen`): every stage's `admit` in order; `around` stages have nothing to wrap.
   * Resolves when admitted; rejects (or throws) with the refusal.
   */
  async admit(req: IncomingRequest): Promise<void> {
    await this.admitChain(req);
  }

  /** True when some stage filters list entries (callers skip the per-entry check otherwise). */
  get filtersLists(): boolean {
    return this.filters.length > 0;
  }

  /** Whether every `visible` stage shows `name` of `kind` to this request. */
  visible(kind: EntryKind, name: string, req: IncomingRequest): boolean {
    const f = this.filters;
    for (let i = 0; i < f.length; i++) if (!f[i]!.visible!(kind, name, req)) return false;
    return true;
  }

  /** Builds the chain from the last stage to the first, as undici composes its interceptors. */
  private compose(): void {
    let next = this.handler;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const { stage } = this.entries[i]!;
      if (stage.around) next = aroundStep(stage, next);
      if (stage.admit) next = admitStep(stage, next);
    }
    this.chain = next;
    let admitOnly: Next = ADMITTED;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const { stage } = this.entries[i]!;
      if (stage.admit) admitOnly = admitStep(stage, admitOnly);
    }
    this.admitChain = admitOnly;
    this.filters = this.entries.filter((e) => e.stage.visible).map((e) => e.stage);
  }
}

const ADMITTED_RESULT: AdmissionResult = Object.freeze({}) as AdmissionResult;
const ADMITTED: Next = () => Promise.resolve(ADMITTED_RESULT);

function aroundStep(stage: Stage, next: Next): Next {
  return (req) => stage.around!(req, next);
}

function admitStep(stage: Stage, next: Next): Next {
  return (req) => {
    const answer = stage.admit!(req);
    if (answer === undefined || answer === null) return next(req);
    if (answer instanceof AndonError) throw answer;
    // An async stage: admission waits for it (its refusal rejects the request's promise).
    return (answer as Promise<AdmitAnswer>).then((a) => {
      if (a !== undefined && a !== null) throw a;
      return next(req);
    });
  };
}
