/**
 * Built-in stage of the `limit` phase: per-request bounds that need the parsed message — a
 * `params.uri` longer than `maxUriLength` (resources/read, subscribe, unsubscribe), and a
 * `resources/subscribe` of a new URI when the session already holds `maxSubscriptionsPerSession`.
 * Both answer JSON-RPC -32602 with a message naming the limit. Every other method costs one
 * string comparison.
 */
import { AndonError } from '../../errors/catalogue.js';
import { LimitErrors } from '../../errors/limits.js';
import { events } from '../../events/index.js';
import type { Stage } from '../pipeline.js';

/** Options of {@link limitsStage}. */
export interface LimitsStageOptions {
  maxUriLength: number;
  maxSubscriptionsPerSession: number;
  /** Called on every refusal (the HTTP endpoint counts them for `limitsSnapshot()`). */
  onRefused?: (limit: 'subscriptions' | 'uri_length') => void;
}

/** The `limits` stage. */
export function limitsStage(o: LimitsStageOptions): Stage {
  const refused = (limit: 'subscriptions' | 'uri_length'): void => {
    o.onRefused?.(limit);
    if (events.limit.hasSubscribers) events.limit.publish({ limit });
  };
  return {
    name: 'limits',
    phase: 'limit',
    admit(inc) {
      const method = inc.request.method;
      if (method.charCodeAt(0) !== 114 /* r */ || !method.startsWith('resources/')) return undefined;
      if (method !== 'resources/read' && method !== 'resources/subscribe' && method !== 'resources/unsubscribe') return undefined;
      const uri = inc.request.params?.uri;
      if (typeof uri !== 'string') return undefined;
      if (uri.length > o.maxUriLength) {
        refused('uri_length');
        return new AndonError(LimitErrors.UriTooLong, `Invalid params: uri is ${uri.length} characters, longer than the limit of ${o.maxUriLength} (limits.maxUriLength)`, { limit: o.maxUriLength });
      }
      const subs = inc.session?.subscriptions;
      if (method === 'resources/subscribe' && subs !== undefined && subs.size >= o.maxSubscriptionsPerSession && !subs.has(uri)) {
        refused('subscriptions');
        return new AndonError(
          LimitErrors.TooManySubscriptions,
          `Invalid params: this session already holds ${subs.size} subscriptions, the limit (limits.maxSubscriptionsPerSession = ${o.maxSubscriptionsPerSession}); unsubscribe from one first`,
          { limit: o.maxSubscriptionsPerSession },
        );
      }
      return undefined;
    },
  };
}
