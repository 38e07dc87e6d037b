/**
 * Built-in stage of the `halt` phase: component halts below the node. A halted server or
 * transport refuses new requests (ANDON_HALTED, 503 + Retry-After); a halted tool is hidden from
 * `tools/list` and a call to it answers an `isError` result with the operator's reason (the
 * model reads it; the session goes on). A tool its supervisor is restarting stays listed and
 * answers the same way with "unavailable". Every server has this stage; idle, it costs two size
 * checks per request.
 */
import { AndonError, Errors } from '../../errors/catalogue.js';
import type { IncomingRequest } from '../../server/incoming.js';
import type { AdmissionResult, EntryKind, Next, Stage } from '../pipeline.js';

/** Which transport carried `req`: the exchange says so (HTTP), else the peer's session (stdio). */
export function transportOf(req: IncomingRequest): string {
  const t = (req.exchange as { transport?: string }).transport ?? (req.peer as { transport?: string } | undefined)?.transport;
  return t ?? 'http';
}

/** The halts of one server's components: `server:<name>`, `transport:<kind>`, `tool:<name>`. */
export class HaltStage implements Stage {
  readonly name = 'halts';
  readonly phase = 'halt' as const;
  /** `server:*` and `transport:*` halts: id → [reason, refusal message]. */
  private readonly components = new Map<string, [string, string]>();
  /** Halted tools (hidden, refused): name → reason. */
  private readonly halted = new Map<string, string>();
  /** Restarting tools (listed, refused): name → reason. */
  private readonly unavailable = new Map<string, string>();
  /** Refusals' `Retry-After`, ms. */
  retryAfterMs = 5000;

  /**
   * Halts (`reason`) or resumes (null) a server or transport component, e.g. `transport:http`.
   * `reason` becomes the refusal's `data.reason`; `message` its message (default
   * `Service Unavailable: <id> halted (<reason>)`).
   */
  setComponent(id: string, reason: string | null, message?: string): void {
    if (reason === null) this.components.delete(id);
    else this.components.set(id, [reason, message ?? `Service Unavailable: ${id} halted (${reason})`]);
  }

  /** The halt reason of a server or transport component, or null. */
  componentHalt(id: string): string | null {
    return this.components.get(id)?.[0] ?? null;
  }

  /** Halts (hidden and refused) or resumes a tool; returns whether the tool list changed. */
  setToolHalted(name: string, reason: string | null): boolean {
    const was = this.halted.has(name);
    if (reason === null) this.halted.delete(name);
    else this.halted.set(name, reason);
    return was !== (reason !== null);
  }

  /** Marks a tool unavailable (listed, refused) while it restarts, or available again (null). */
  setToolUnavailable(name: string, reason: string | null): void {
    if (reason === null) this.unavailable.delete(name);
    else this.unavailable.set(name, reason);
  }

  /** Why a call to `name` is refused right now (halted first, then restarting), or null. */
  toolRefusal(name: string): string | null {
    const h = this.halted.get(name);
    if (h !== undefined) return `Tool "${name}" is halted: ${h}`;
    const u = this.unavailable.get(name);
    return u === undefined ? null : `Tool "${name}" is unavailable: ${u}`;
  }

  admit(req: IncomingRequest): AndonError | undefined {
    if (this.components.size === 0) return undefined;
    for (const [id, [reason, message]] of this.components) {
      // A server component covers every request; a transport only its own.
      if (id.startsWith('server:') || id === `transport:${transportOf(req)}`) {
        return new AndonError(Errors.ComponentHalted, message, { retryAfterMs: this.retryAfterMs, reason, component: id });
      }
    }
    return undefined;
  }

  around(req: IncomingRequest, next: Next): Promise<AdmissionResult> {
    if ((this.halted.size === 0 && this.unavailable.size === 0) || req.request.method !== 'tools/call') return next(req);
    const name = req.request.params?.name;
    const refusal = typeof name === 'string' ? this.toolRefusal(name) : null;
    if (refusal === null) return next(req);
    // A tool-level answer, not a protocol error: the client's model reads why and carries on.
    return Promise.resolve({ content: [{ type: 'text', text: refusal }], isError: true });
  }

  visible(kind: EntryKind, name: string): boolean {
    return kind !== 'tool' || this.halted.size === 0 || !this.halted.has(name);
  }
}
