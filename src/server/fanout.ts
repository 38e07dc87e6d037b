/**
 * The server's fan-out: live 2025 sessions, resource subscribers and 2026 `subscriptions/listen`
 * listeners, and the notifications sent to them (list changes, resource updates, broadcasts).
 * Kept apart from the dispatcher: it is the "who hears about what" side of a server.
 */
import { channels } from '../runtime/events.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { META } from '../protocol/versions.js';
import type { Session, Sink } from './session.js';

/** A 2026 `subscriptions/listen` stream. */
export interface Listener {
  id: RequestId;
  filter: { toolsListChanged?: boolean; resourcesListChanged?: boolean; promptsListChanged?: boolean; resourceSubscriptions?: string[] };
  send: Sink;
}

/** The kinds of list whose changes clients are told about. */
export type ListKind = 'tools' | 'resources' | 'prompts';

/**
 * A change other nodes sharing the sessions must hear about (src/runtime/cluster-notify.ts): they
 * deliver it to the streams they hold with the `deliver*` methods, which do not relay again.
 */
export type Relayed =
  | { op: 'resource'; uri: string }
  | { op: 'list'; kind: ListKind }
  | { op: 'broadcast'; method: string; params?: Record<string, unknown> }
  | { op: 'sub'; session: string; uri: string; on: boolean };

const sessionChannel = channels.session;

/** Sessions, subscribers and listeners of one server. */
export class Fanout {
  readonly sessions = new Set<Session>();
  private readonly subscribers = new Map<string, Set<Session>>();
  private readonly listeners = new Set<Listener>();
  private changed = { tools: false, resources: false, prompts: false, scheduled: false };
  /**
   * Set by degradation mode (src/resilience/degradation.ts) while the node sheds load: true for a
   * low-priority notification. Broadcasts it answers true for are dropped; list changes and
   * resource updates are held and sent once, coalesced, by {@link releaseHeld}.
   */
  shed: ((method: string) => boolean) | undefined;
  private held: { kinds: Set<ListKind>; uris: Set<string> } | undefined;
  /** Set on nodes sharing sessions: told of each change made here (not of the ones delivered for other nodes). */
  relay: ((r: Relayed) => void) | undefined;

  /** `onSession` is the runtime's observer (persistence); `capabilities` the server's 2026 ones. */
  constructor(
    private readonly onSession: (s: Session, change: 'open' | 'update' | 'close') => void,
    private readonly capabilities: () => Record<string, unknown>,
  ) {}

  addSession(s: Session): void {
    this.sessions.add(s);
    // A restored session comes back with its subscriptions: index them so updates fire.
    for (const uri of s.subscriptions) this.index(s, uri);
    this.onSession(s, 'open');
    if (sessionChannel.hasSubscribers) sessionChannel.publish({ action: 'open', era: '2025', transport: s.transport });
  }

  removeSession(s: Session): void {
    if (this.sessions.delete(s)) {
      this.onSession(s, 'close');
      if (sessionChannel.hasSubscribers) sessionChannel.publish({ action: 'close', era: '2025', transport: s.transport });
    }
    for (const uri of s.subscriptions) this.subscribers.get(uri)?.delete(s);
    s.subscriptions.clear();
    s.closed = true;
    s.abortAll('session closed');
    s.rejectAll('session closed');
  }

  /** 2025 `resources/subscribe`. */
  subscribe(s: Session, uri: string): void {
    this.index(s, uri);
    this.relay?.({ op: 'sub', session: s.id, uri, on: true });
  }

  /** 2025 `resources/unsubscribe`. */
  unsubscribe(s: Session, uri: string): void {
    this.unindex(s, uri);
    this.relay?.({ op: 'sub', session: s.id, uri, on: false });
  }

  /** Records a subscription of `s` (made here or, on nodes sharing sessions, on another node). */
  index(s: Session, uri: string): void {
    s.subscriptions.add(uri);
    let set = this.subscribers.get(uri);
    if (!set) this.subscribers.set(uri, (set = new Set()));
    set.add(s);
  }

  unindex(s: Session, uri: string): void {
    s.subscriptions.delete(uri);
    this.subscribers.get(uri)?.delete(s);
  }

  addListener(l: Listener): void {
    this.listeners.add(l);
  }

  /** Agrees the listen filter against the capabilities, acknowledges it, registers the listener. */
  openListener(request: JsonRpcRequest, send: Sink): Listener {
    const requested = ((request.params ?? {}).notifications ?? {}) as Listener['filter'];
    const caps = this.capabilities() as Record<string, Record<string, unknown> | undefined>;
    const agreed: Listener['filter'] = {};
    if (requested.toolsListChanged && caps.tools) agreed.toolsListChanged = true;
    if (requested.promptsListChanged && caps.prompts) agreed.promptsListChanged = true;
    if (requested.resourcesListChanged && caps.resources) agreed.resourcesListChanged = true;
    if (Array.isArray(requested.resourceSubscriptions) && caps.resources) agreed.resourceSubscriptions = requested.resourceSubscriptions.filter((u) => typeof u === 'string');
    const listener: Listener = { id: request.id, filter: agreed, send };
    send({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: agreed, _meta: { [META.subscriptionId]: request.id } } });
    this.listeners.add(listener);
    return listener;
  }

  /** The result that ends a listen stream gracefully (e.g. at shutdown). */
  listenerClosing(l: Listener): JsonRpcResponse {
    this.listeners.delete(l);
    return { jsonrpc: '2.0', id: l.id, result: { resultType: 'complete', _meta: { [META.subscriptionId]: l.id } } };
  }

  removeListener(l: Listener): void {
    this.listeners.delete(l);
  }

  /** Tells every subscriber (2025 resources/subscribe, 2026 subscriptions/listen) that `uri` changed. */
  notifyResourceUpdated(uri: string): number {
    if (this.shed?.('notifications/resources/updated')) {
      this.hold().uris.add(uri);
      return 0;
    }
    this.relay?.({ op: 'resource', uri });
    return this.deliverResource(uri);
  }

  /** Sends a resource update to this node's subscribers (sessions whose stream is here, listeners). */
  deliverResource(uri: string): number {
    let sent = 0;
    const msg: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } };
    const subs = this.subscribers.get(uri);
    if (subs) {
      for (const s of subs) {
        if (s.standalone) {
          s.standalone(msg);
          sent++;
        }
      }
    }
    for (const l of this.listeners) {
      if (l.filter.resourceSubscriptions?.includes(uri)) {
        l.send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: { [META.subscriptionId]: l.id } } });
        sent++;
      }
    }
    return sent;
  }

  /** Sends a notification to every live 2025 session's standalone stream. */
  broadcast(method: string, params?: Record<string, unknown>): void {
    if (this.shed?.(method)) return;
    this.relay?.(params ? { op: 'broadcast', method, params } : { op: 'broadcast', method });
    this.deliverBroadcast(method, params);
  }

  /** Sends a notification to every session whose standalone stream is on this node. */
  deliverBroadcast(method: string, params?: Record<string, unknown>): void {
    const msg: JsonRpcNotification = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    for (const s of this.sessions) if (s.initialized && s.standalone) s.standalone(msg);
  }

  /** Schedules `notifications/<kind>/list_changed`; a burst of changes makes one notification per kind. */
  listChanged(kind: ListKind): void {
    if (this.shed?.(`notifications/${kind}/list_changed`)) {
      this.hold().kinds.add(kind);
      return;
    }
    this.relay?.({ op: 'list', kind });
    this.deliverList(kind);
  }

  /** Sends `notifications/<kind>/list_changed` (coalesced per microtask) to this node's sessions and listeners. */
  deliverList(kind: ListKind): void {
    this.changed[kind] = true;
    if (this.changed.scheduled) return;
    this.changed.scheduled = true;
    queueMicrotask(() => {
      const c = this.changed;
      this.changed = { tools: false, resources: false, prompts: false, scheduled: false };
      for (const kind2 of ['tools', 'resources', 'prompts'] as const) {
        if (!c[kind2]) continue;
        const method = `notifications/${kind2}/list_changed`;
        this.deliverBroadcast(method);
        const key = `${kind2}ListChanged` as const;
        for (const l of this.listeners) {
          if (l.filter[key]) l.send({ jsonrpc: '2.0', method, params: { _meta: { [META.subscriptionId]: l.id } } });
        }
      }
    });
  }

  /**
   * Sends `notifications/<kind>/list_changed` to `sessions` only (their view of a list changed,
   * e.g. a feature flag's cohort) and to every 2026 listener of that kind (a listener has no
   * stable client identity, so each one is told). While shedding, held like {@link listChanged}.
   */
  listChangedFor(kind: ListKind, sessions: Iterable<Session>): number {
    const method = `notifications/${kind}/list_changed`;
    if (this.shed?.(method)) {
      this.hold().kinds.add(kind);
      return 0;
    }
    let sent = 0;
    const msg: JsonRpcNotification = { jsonrpc: '2.0', method };
    for (const s of sessions) {
      if (s.initialized && s.standalone && !s.closed) {
        s.standalone(msg);
        sent++;
      }
    }
    const key = `${kind}ListChanged` as const;
    for (const l of this.listeners) {
      if (l.filter[key]) {
        l.send({ jsonrpc: '2.0', method, params: { _meta: { [META.subscriptionId]: l.id } } });
        sent++;
      }
    }
    return sent;
  }

  private hold(): { kinds: Set<ListKind>; uris: Set<string> } {
    return (this.held ??= { kinds: new Set(), uris: new Set() });
  }

  /** Sends what was held while shedding: one list_changed per kind, one update per URI. */
  releaseHeld(): void {
    const h = this.held;
    this.held = undefined;
    if (!h) return;
    for (const kind of h.kinds) this.listChanged(kind);
    for (const uri of h.uris) this.notifyResourceUpdated(uri);
  }
}
