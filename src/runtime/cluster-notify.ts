/**
 * Notifications across nodes that share sessions (Redis): a 2025 session's server→client messages
 * that are not part of a request (resources/updated, list_changed, broadcasts such as log
 * messages) reach its standalone GET stream on whichever node holds it.
 *
 * The rule that makes each session get one copy: exactly one node holds a session's standalone
 * stream. A node that opens a GET stream announces it on the store channel `notify`; every other
 * node releases the stream it kept for that session (closed, or detached and buffering). A change
 * made on a node (a tool calling `notifyResourceUpdated`, a registration changing a list) is
 * delivered to the streams held there and published once; every other node delivers it to the
 * streams it holds. Subscriptions made through one node are published too, so a node that adopted
 * the session earlier (and holds a copy of its record from then) delivers the updates.
 *
 * A client's DELETE of its session is announced too: nodes holding a copy drop it (a later request
 * naming it is looked up, and answered 404).
 *
 * Changes every node applies itself (an operator's halt, announced by src/runtime/cluster-halts.ts)
 * are not published: each node tells its own streams ({@link applyLocally}).
 *
 * Messages from the store are hostile input: a malformed one is logged and dropped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { ListKind, Relayed } from '../server/fanout.js';
import type { McpServer } from '../server/server.js';
import type { Session } from '../server/session.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';

const CHANNEL = 'notify';
const MAX_MESSAGE = 64 * 1024;
const MAX_TEXT = 4096;
const KINDS: readonly string[] = ['tools', 'resources', 'prompts'];

const localOnly = new AsyncLocalStorage<true>();

/** Runs `fn` so that the list changes it causes are delivered on this node only (not published). */
export function applyLocally<T>(fn: () => T): T {
  return localOnly.run(true, fn);
}

type Own = { op: 'stream'; session: string } | { op: 'gone'; session: string };
type Message = (Relayed | Own) & { from: string };

/** The HTTP handler's side: its sessions by id and its standalone streams. */
export interface StreamHolder {
  readonly sessions: Map<string, Session>;
  readonly limits: { sessionClosed(id: string): void };
  onStreamAttached: ((sessionId: string) => void) | undefined;
  releaseStream(sessionId: string): void;
}

const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;

function parse(m: string): Message | string {
  if (m.length > MAX_MESSAGE) return `longer than ${MAX_MESSAGE} bytes`;
  let v: unknown;
  try {
    v = JSON.parse(m);
  } catch {
    return 'not JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not an object';
  const a = v as Record<string, unknown>;
  if (!text(a.from)) return 'from: expected a string';
  switch (a.op) {
    case 'resource':
      return text(a.uri) ? (a as Message) : 'uri: expected a string';
    case 'list':
      return typeof a.kind === 'string' && KINDS.includes(a.kind) ? (a as Message) : 'kind: expected tools, resources or prompts';
    case 'broadcast':
      if (!text(a.method) || !a.method.startsWith('notifications/')) return 'method: expected a notification method';
      return a.params === undefined || (typeof a.params === 'object' && a.params !== null && !Array.isArray(a.params)) ? (a as Message) : 'params: expected an object';
    case 'sub':
      return text(a.session) && text(a.uri) && typeof a.on === 'boolean' ? (a as Message) : 'sub: expected session, uri and on';
    case 'stream':
    case 'gone':
      return text(a.session) ? (a as Message) : 'session: expected a string';
    default:
      return 'op: unknown';
  }
}

export class ClusterNotify {
  /** This process on the channel (its own messages are skipped). */
  readonly origin = randomBytes(6).toString('hex');
  private unsubscribe: (() => Promise<void>) | undefined;
  private pendingKinds: Set<ListKind> | undefined;
  private failing = false;
  private restoreObserver: (() => void) | undefined;
  private readonly fanout: McpServer['fanout'];

  constructor(
    private readonly store: Store,
    private readonly server: McpServer,
    private readonly holder: () => StreamHolder | undefined,
    private readonly log: Logger,
  ) {
    this.fanout = server.fanout;
  }

  /** Subscribes and hooks the fan-out and the HTTP handler (no-op for a store without pub/sub). */
  async start(): Promise<void> {
    if (!this.store.subscribe || !this.store.publish) return;
    this.unsubscribe = await this.store.subscribe(CHANNEL, (m) => this.receive(m));
    this.fanout.relay = (r) => this.relay(r);
    const h = this.holder();
    if (h) h.onStreamAttached = (session) => this.send({ op: 'stream', session });
    // A client's DELETE (durable first) is announced: nodes holding a copy of the session drop it.
    const observer = this.server.observer;
    const deleted = observer.sessionDeleted?.bind(observer);
    this.restoreObserver = () => void (observer.sessionDeleted = deleted);
    observer.sessionDeleted = async (s) => {
      await deleted?.(s);
      this.send({ op: 'gone', session: s.id });
    };
  }

  async stop(): Promise<void> {
    this.fanout.relay = undefined;
    this.restoreObserver?.();
    const h = this.holder();
    if (h) h.onStreamAttached = undefined;
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.();
  }

  private relay(r: Relayed): void {
    if (r.op === 'list') {
      if (localOnly.getStore()) return;
      // A burst of changes (several registrations) is one message per kind.
      if (!this.pendingKinds) {
        this.pendingKinds = new Set();
        queueMicrotask(() => {
          const kinds = this.pendingKinds!;
          this.pendingKinds = undefined;
          for (const kind of kinds) this.send({ op: 'list', kind });
        });
      }
      this.pendingKinds.add(r.kind);
      return;
    }
    this.send(r);
  }

  private send(r: Relayed | Own): void {
    const m: Message = { ...r, from: this.origin };
    this.store.publish!(CHANNEL, JSON.stringify(m)).then(
      () => {
        if (this.failing) this.log.info({ channel: CHANNEL }, 'notifications reach the other nodes again');
        this.failing = false;
      },
      (err: unknown) => {
        // Logged once per outage: a stalled store would otherwise log every notification.
        if (!this.failing) this.log.error({ channel: CHANNEL, op: r.op, err: String(err) }, 'could not publish a notification to the other nodes; sessions whose stream is on another node miss it');
        this.failing = true;
      },
    );
  }

  private receive(raw: string): void {
    const m = parse(raw);
    if (typeof m === 'string') {
      this.log.warn({ channel: CHANNEL, problem: m }, 'dropped a malformed notification from the store');
      return;
    }
    if (m.from === this.origin) return;
    switch (m.op) {
      case 'resource': {
        const sent = this.fanout.deliverResource(m.uri);
        this.log.debug({ channel: CHANNEL, uri: m.uri, from: m.from, sent }, 'resource update from another node delivered');
        return;
      }
      case 'list':
        this.fanout.deliverList(m.kind);
        return;
      case 'broadcast':
        this.fanout.deliverBroadcast(m.method, m.params);
        return;
      case 'sub': {
        const s = this.holder()?.sessions.get(m.session);
        if (!s) return;
        if (m.on) this.fanout.index(s, m.uri);
        else this.fanout.unindex(s, m.uri);
        return;
      }
      case 'stream':
        this.log.debug({ channel: CHANNEL, session: m.session, from: m.from }, 'another node holds this session\'s GET stream now');
        this.holder()?.releaseStream(m.session);
        return;
      case 'gone': {
        const h = this.holder();
        const s = h?.sessions.get(m.session);
        if (!h || !s) return;
        h.releaseStream(m.session);
        h.sessions.delete(m.session);
        h.limits.sessionClosed(m.session);
        this.server.removeSession(s);
        this.log.info({ session: m.session }, 'dropped a session its client deleted on another node');
        return;
      }
    }
  }
}
