/**
 * The admission stage of phase `flag`: entries gated by a feature flag (`flag: 'x'` in a tool's,
 * resource's, template's or prompt's registration options) are hidden from the lists of clients
 * outside the flag's cohort, and a `tools/call`, `resources/read`, `prompts/get` or
 * `completion/complete` of one is refused with ANDON_FLAG_DISABLED, worded like an unknown entry
 * (src/errors/flags.ts).
 *
 * Per request: a few method compares; for the gated methods one Map lookup (and an evaluation
 * only when the entry is gated). Per list entry: one Map lookup.
 */
import { AndonError } from '../errors/catalogue.js';
import { FlagErrors } from '../errors/flags.js';
import type { EntryKind, Stage } from '../admission/pipeline.js';
import type { FlagEvaluator, FlagSubject } from '../server/context.js';
import { clientKey, type IncomingRequest } from '../server/incoming.js';
import type { Lists } from '../server/lists.js';
import type { Session } from '../server/session.js';
import type { Implementation } from '../server/types.js';
import { META } from '../protocol/versions.js';

/** The flag gating an entry of `lists`, or undefined. */
export function gateOf(lists: Lists, kind: EntryKind, name: string): string | undefined {
  switch (kind) {
    case 'tool':
      return lists.tools.get(name)?.options.flag;
    case 'prompt':
      return lists.prompts.get(name)?.options.flag;
    case 'resource':
      // A resource listed by a template's `list()` is gated by its template's flag.
      return gateOfUri(lists, name);
    case 'resourceTemplate':
      for (const t of lists.templates) if (t.wire.uriTemplate === name) return t.options.flag;
      return undefined;
  }
}

/** The flag gating a `resources/read` of `uri`: its resource's, else the first matching template's. */
function gateOfUri(lists: Lists, uri: string): string | undefined {
  const r = lists.resources.get(uri);
  if (r !== undefined) return r.options.flag;
  for (const t of lists.templates) if (t.template.match(uri)) return t.options.flag;
  return undefined;
}

/** The `flags` stage over one server's registry (`lists`) and the flag registry (`flags`). */
export class FlagStage implements Stage {
  readonly name = 'flags';
  readonly phase = 'flag' as const;
  /** The authenticated subject last seen on each 2025 session (so list_changed keys on it too). */
  private readonly subjects = new WeakMap<Session, string>();

  constructor(
    private readonly lists: Lists,
    private readonly flags: FlagEvaluator,
  ) {}

  /** Who `req` is, for a flag. */
  subjectOf(req: IncomingRequest): FlagSubject {
    const s = (req.session ?? req.peer) as Session | undefined;
    if (s !== undefined && req.subject !== undefined && this.subjects.get(s) !== req.subject) this.subjects.set(s, req.subject);
    const info = s?.clientInfo ?? ((req.request.params?._meta as Record<string, unknown> | undefined)?.[META.clientInfo] as Implementation | undefined);
    return { key: clientKey(req), clientName: info?.name, clientVersion: info?.version };
  }

  /** Who a live 2025 session is, for a flag (the same key its requests get). */
  sessionSubject(s: Session): FlagSubject {
    const sub = this.subjects.get(s);
    return { key: sub !== undefined ? `sub:${sub}` : `session:${s.id}`, clientName: s.clientInfo?.name, clientVersion: s.clientInfo?.version };
  }

  admit(req: IncomingRequest): AndonError | undefined {
    const m = req.request.method;
    let flag: string | undefined;
    let message: string;
    const p = req.request.params;
    if (m === 'tools/call') {
      if (typeof p?.name !== 'string') return undefined;
      flag = this.lists.tools.get(p.name)?.options.flag;
      message = `Unknown tool: ${p.name}`;
    } else if (m === 'prompts/get') {
      if (typeof p?.name !== 'string') return undefined;
      flag = this.lists.prompts.get(p.name)?.options.flag;
      message = `Unknown prompt: ${p.name}`;
    } else if (m === 'resources/read') {
      if (typeof p?.uri !== 'string') return undefined;
      flag = gateOfUri(this.lists, p.uri);
      message = `Resource not found: ${p.uri}`;
    } else if (m === 'completion/complete') {
      // Completions of a hidden prompt's arguments or template's variables would reveal it.
      const ref = p?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
        flag = this.lists.prompts.get(ref.name)?.options.flag;
        message = `Unknown prompt: ${ref.name}`;
      } else if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
        flag = gateOf(this.lists, 'resourceTemplate', ref.uri) ?? this.lists.resources.get(ref.uri)?.options.flag;
        message = `Unknown resource template: ${ref.uri}`;
      } else return undefined;
    } else {
      // Remember a session's authenticated subject, so list_changed keys on what its requests key on.
      const s = req.session;
      if (req.subject !== undefined && s !== undefined && this.subjects.get(s) !== req.subject) this.subjects.set(s, req.subject);
      return undefined;
    }
    if (flag === undefined) return undefined;
    if (this.flags.isEnabled(flag, this.subjectOf(req))) return undefined;
    return new AndonError(FlagErrors.Disabled, message, { flag });
  }

  visible(kind: EntryKind, name: string, req: IncomingRequest): boolean {
    const flag = gateOf(this.lists, kind, name);
    return flag === undefined || this.flags.isEnabled(flag, this.subjectOf(req));
  }
}
