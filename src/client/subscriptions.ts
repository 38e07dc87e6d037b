/**
 * Subscriptions to what changes on the server: one resource's updates (`subscribeResource`) and the
 * 2026 `subscriptions/listen` stream, with its 2025 equivalent on the session's own stream.
 */
import type { JsonRpcNotification, RequestId } from '../protocol/jsonrpc.js';
import { ClientError } from './errors.js';
import { backoffDelay, reconnectPolicy } from './backoff.js';
import { ClientLifecycle } from './lifecycle.js';
import type { RequestOptions, Subscription, SubscriptionFilter, SubscriptionNotification } from './types.js';
import { isObject, sleep } from './util.js';

/** The fourth layer of the client: resource subscriptions and listen streams. */
export abstract class ClientSubscriptions extends ClientLifecycle {
  /**
   * Subscribes to updates of one resource. 2025: resources/subscribe, updates on the session's
   * stream. 2026: a `subscriptions/listen` stream for that URI. `onUpdate` runs for each update.
   */
  async subscribeResource(uri: string, onUpdate: (uri: string) => void, opts: RequestOptions = {}): Promise<Subscription> {
    await this.ready();
    if (this.era_ === '2026') {
      const sub = await this.listen({ resourceSubscriptions: [uri] }, (n) => {
        if (n.method === 'notifications/resources/updated' && n.params.uri === uri) onUpdate(uri);
      }, opts);
      if (!sub.notifications.resourceSubscriptions?.includes(uri)) {
        await sub.close();
        throw new ClientError('UNSUPPORTED', `The server did not agree to send updates for ${uri} (its subscriptions/listen acknowledgement leaves it out)`);
      }
      return sub;
    }
    let set = this.resourceCallbacks.get(uri);
    const first = !set;
    if (!set) this.resourceCallbacks.set(uri, (set = new Set()));
    set.add(onUpdate);
    if (first) {
      try {
        await this.request('resources/subscribe', { uri }, opts);
      } catch (err) {
        this.resourceCallbacks.delete(uri);
        throw err;
      }
    }
    let open = true;
    return {
      notifications: { resourceSubscriptions: [uri] },
      close: async () => {
        if (!open) return;
        open = false;
        const s = this.resourceCallbacks.get(uri);
        s?.delete(onUpdate);
        if (s && s.size === 0) {
          this.resourceCallbacks.delete(uri);
          if (this.state === 'connected') await this.request('resources/unsubscribe', { uri }).catch((err: unknown) => this.warn('UNSUBSCRIBE_FAILED', (err as Error).message, { uri }));
        }
      },
    };
  }

  /**
   * 2026 `subscriptions/listen`: opens a stream for the notifications in `filter` and resolves once
   * the server acknowledged it (with what it agreed to send). A stream that breaks is re-opened
   * with backoff. In 2025 the session stream already carries these notifications, so this resolves
   * at once and forwards the matching ones.
   */
  async listen(filter: SubscriptionFilter, onNotification: (n: SubscriptionNotification) => void = () => {}, opts: RequestOptions = {}): Promise<Subscription> {
    await this.ready();
    if (this.era_ !== '2026') return this.listen2025(filter, onNotification, opts);
    const policy = reconnectPolicy(this.options.reconnect);
    let closed = false;
    let currentId: RequestId | undefined;
    let agreed: SubscriptionFilter = {};
    const deliver = (n: SubscriptionNotification) => {
      try {
        onNotification(n);
      } catch (err) {
        this.warn('LISTEN_CALLBACK_THREW', `A subscription callback threw: ${(err as Error).message}`);
      }
    };
    const open = (): Promise<void> =>
      new Promise<void>((acked, failed) => {
        let isAcked = false;
        const ackTimer = this.clock.setTimeout(() => {
          if (isAcked || currentId === undefined) return;
          const p = this.pending.get(currentId);
          if (p) {
            this.cancel(p, 'no acknowledgement');
            this.settle(p, new ClientError('TIMEOUT', `subscriptions/listen was not acknowledged within ${opts.timeoutMs ?? this.options.timeoutMs ?? 60_000} ms`));
          }
        }, opts.timeoutMs ?? this.options.timeoutMs ?? 60_000);
        this.roundTrip('subscriptions/listen', { notifications: filter }, {
          noTimeout: true,
          meta: opts.meta,
          onId: (id) => {
            currentId = id;
          },
          onSubscription: (n) => {
            if (n.method === 'notifications/subscriptions/acknowledged') {
              if (!isAcked) {
                isAcked = true;
                this.clock.clearTimeout(ackTimer);
                agreed = (isObject(n.params.notifications) ? n.params.notifications : {}) as SubscriptionFilter;
                acked();
              }
              return;
            }
            deliver(n);
          },
        }).then(
          () => {
            // The server ended the stream normally (e.g. shutting down): listen again.
            this.clock.clearTimeout(ackTimer);
            if (!isAcked) failed(new ClientError('STREAM_CLOSED', 'subscriptions/listen ended before it was acknowledged'));
            else void reopen(1);
          },
          (err: unknown) => {
            this.clock.clearTimeout(ackTimer);
            if (!isAcked) failed(err as Error);
            else void reopen(1);
          },
        );
      });
    const reopen = async (attempt: number): Promise<void> => {
      if (closed || this.state !== 'connected') return;
      if (attempt > policy.maxAttempts) {
        this.warn('LISTEN_LOST', `Gave up re-opening subscriptions/listen after ${attempt - 1} attempts`);
        return;
      }
      const delay = backoffDelay(policy, attempt);
      this.emit('reconnect', { reason: 'listen', attempt, delayMs: delay });
      await sleep(delay, undefined, this.clock).catch(() => {});
      if (closed || this.state !== 'connected') return;
      try {
        await open();
      } catch {
        await reopen(attempt + 1);
      }
    };
    await open();
    return {
      get notifications() {
        return agreed;
      },
      close: async () => {
        closed = true;
        const p = currentId === undefined ? undefined : this.pending.get(currentId);
        if (p) {
          this.cancel(p, 'subscription closed');
          this.settle(p, undefined, {});
        }
      },
    };
  }

  private async listen2025(filter: SubscriptionFilter, onNotification: (n: SubscriptionNotification) => void, opts: RequestOptions): Promise<Subscription> {
    const subs: Subscription[] = [];
    for (const uri of filter.resourceSubscriptions ?? []) {
      subs.push(await this.subscribeResource(uri, () => onNotification({ method: 'notifications/resources/updated', params: { uri } }), opts));
    }
    const wanted = new Set<string>();
    if (filter.toolsListChanged) wanted.add('notifications/tools/list_changed');
    if (filter.resourcesListChanged) wanted.add('notifications/resources/list_changed');
    if (filter.promptsListChanged) wanted.add('notifications/prompts/list_changed');
    const onNote = (msg: JsonRpcNotification) => {
      if (wanted.has(msg.method)) onNotification({ method: msg.method, params: (msg.params ?? {}) as Record<string, unknown> });
    };
    this.on('notification', onNote);
    return {
      notifications: filter,
      close: async () => {
        this.off('notification', onNote);
        for (const s of subs) await s.close();
      },
    };
  }
}
