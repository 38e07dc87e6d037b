/**
 * Serving a 2025 session this process does not hold: nodes that share a store (Redis) each serve
 * any session, so an unknown `Mcp-Session-Id` is looked up before it is answered 404. Hostile ids
 * must not turn into a flood of store reads: lookups of one id are coalesced, a miss is remembered
 * for a few seconds (bounded), and at most a bounded number of lookups run at once (beyond that
 * the id is answered as unknown now, and may be retried).
 */
import type { IncomingMessage } from 'node:http';
import type { Session } from '../server/session.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ErrorDef } from '../errors/catalogue.js';
import { HttpErrors } from '../errors/http.js';
import type { EventStore } from './event-store.js';

/** Longest session id worth a lookup (ours are 43 characters). */
const MAX_ID = 128;
const MISS_TTL_MS = 5_000;
const MAX_MISSES = 10_000;
const MAX_INFLIGHT = 256;

export class SessionAdopter {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly load: (id: string) => Promise<Session | undefined>,
    private readonly clock: Clock,
    private readonly register: (s: Session) => void,
    private readonly log: Logger,
    private readonly refusal: (def: ErrorDef, message: string) => Error,
    /** A shared event store: a resumed stream (GET with Last-Event-ID) is read from it first. */
    private readonly events?: EventStore,
    /**
     * A GET stream makes this node the one that delivers the session's notifications: before it
     * opens, the subscriptions in the store (`peek`: the record, without adopting it) are added to
     * the held copy (`subscribe`: the fan-out's index), which may predate a subscription made on
     * another node whose announcement it missed (pub/sub is at most once).
     */
    private readonly refreshing?: { peek: (id: string) => Promise<Session | undefined>; subscribe: (held: Session, uri: string) => void },
  ) {}

  /**
   * When `req` names a session not in `held` that is worth a lookup, looks it up, then calls
   * `next` (found or not: the usual path answers 404 for a miss) or `fail` with a 503 when the
   * store does not answer; returns true. Returns false when there is nothing to look up.
   */
  intercept(req: IncomingMessage, held: ReadonlyMap<string, Session>, next: () => void, fail: (err: Error) => void): boolean {
    const sid = req.headers['mcp-session-id'];
    if (typeof sid !== 'string') return false;
    // Only for a session that exists (held or found), so random ids cannot turn into store reads.
    const last = req.method === 'GET' && this.events?.prefetch ? req.headers['last-event-id'] : undefined;
    const resume = typeof last === 'string' && last.startsWith(sid) ? () => (held.has(sid) ? this.events!.prefetch!(last) : undefined) : undefined;
    const lookup = !held.has(sid) && this.wants(sid);
    const refresh = req.method === 'GET' && this.refreshing !== undefined && held.has(sid);
    if (!lookup && !resume && !refresh) return false;
    (lookup ? this.adopt(sid) : refresh ? this.refresh(sid, held) : Promise.resolve()).then(resume).then(next, (err: unknown) => {
      this.log.warn({ session: sid, err: String(err) }, 'session lookup in the shared store failed');
      fail(this.refusal(HttpErrors.SessionStoreUnavailable, `Service Unavailable: session ${sid} is not held by this node and the shared store did not answer (${err instanceof Error ? err.message : String(err)})`));
    });
    return true;
  }

  /** Whether `id` is worth a lookup (well-formed, not a recent miss, lookup capacity left). */
  wants(id: string): boolean {
    if (id.length === 0 || id.length > MAX_ID || !/^[\x21-\x7e]+$/.test(id)) return false;
    const missed = this.misses.get(id);
    if (missed !== undefined) {
      if (this.clock.now() - missed < MISS_TTL_MS) return false;
      this.misses.delete(id);
    }
    return this.inflight.has(id) || this.inflight.size < MAX_INFLIGHT;
  }

  /** Loads and registers session `id` (resolves either way; a miss is remembered). Rejects when the store fails. */
  adopt(id: string): Promise<void> {
    let p = this.inflight.get(id);
    if (!p) {
      p = this.load(id)
        .then((s) => {
          if (s) this.register(s);
          else this.miss(id);
        })
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  /**
   * Adds the subscriptions the store has for held session `id` to the held copy (never removes
   * one: an unsubscribe is announced, and a stale read must not undo a newer subscription). A store
   * that does not answer leaves the copy as it is: the stream still opens.
   */
  private refresh(id: string, held: ReadonlyMap<string, Session>): Promise<void> {
    const r = this.refreshing!;
    return r.peek(id).then(
      (fresh) => {
        const s = held.get(id);
        if (!fresh || !s) return;
        for (const uri of fresh.subscriptions) {
          if (s.subscriptions.has(uri)) continue;
          r.subscribe(s, uri);
          this.log.info({ session: id, uri }, 'a subscription made on another node was missing here; added from the store');
        }
      },
      (err: unknown) => this.log.warn({ session: id, err: String(err) }, 'could not read the session record before opening its GET stream; its subscriptions are the ones held here'),
    );
  }

  private miss(id: string): void {
    if (this.misses.size >= MAX_MISSES) {
      // Oldest first: Map iteration is insertion order.
      const oldest = this.misses.keys().next().value;
      if (oldest !== undefined) this.misses.delete(oldest);
    }
    this.misses.set(id, this.clock.now());
  }
}
