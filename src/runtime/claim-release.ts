/**
 * A claim whose answer was lost: the shared store (Redis) did not answer in time, so the call was
 * refused — but Redis may apply the claim when it wakes up (a SIGSTOPped or overloaded server
 * keeps its queue). The id would then look taken by another node until the claim expires, and a
 * retry would be refused for the journal's whole retention. So the claim is given back once the
 * store answers again: retried with a backoff capped at 1 s, for about 40 s, and only if this node
 * still holds it.
 */
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

// Tried again at most every second (a client told to retry after 1 s finds the id free soon after
// the store returns), for about 40 s in all.
const ATTEMPTS = 40;
const FIRST_MS = 250;
const MAX_MS = 1_000;

export function releaseLost(store: Store, ns: string, key: string, owner: string, clock: Clock, log: Logger): void {
  if (!store.unclaim) return;
  const attempt = (n: number, wait: number): void => {
    const t = clock.setTimeout(() => {
      store.unclaim!(ns, key, owner).then(
        () => log.info({ claim: key }, 'gave back a request-id claim whose answer was lost; a retry of the id can run'),
        (err: unknown) => {
          if (n + 1 < ATTEMPTS) attempt(n + 1, Math.min(wait * 2, MAX_MS));
          else log.error({ claim: key, err: String(err) }, 'could not give back a request-id claim; retries of the id are refused until it expires');
        },
      );
    }, wait);
    t.unref?.();
  };
  attempt(0, FIRST_MS);
}
