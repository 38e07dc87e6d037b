/**
 * The one HTTP call the webhook-style channels make (Slack, PagerDuty, webhook, Twilio), with
 * the error classification the retry loop needs: network failures, timeouts, 408, 425, 429 and
 * 5xx are worth retrying; any other 4xx means the request or the credential is wrong and a retry
 * would only repeat it.
 */
import { DeliveryError } from './types.js';

/** What came back from a successful call. */
export interface HttpReply {
  status: number;
  body: string;
}

const RETRYABLE = new Set([408, 425, 429]);

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * POSTs `body` to `url` and resolves on 2xx; rejects with a classified {@link DeliveryError}.
 * `what` names the integration in error messages ("Slack", "PagerDuty"…). The URL is left out of
 * messages because for Slack it is the secret.
 */
export async function post(what: string, url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpReply> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'user-agent': 'andon-mcp-alerts/0.1', ...headers }, body, signal, redirect: 'error' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.cause?.code ?? e.message);
    throw new DeliveryError(`${what}: request failed (${why})`, true, undefined, { cause: err });
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { status: res.status, body: text };
  const retryable = res.status >= 500 || RETRYABLE.has(res.status);
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  throw new DeliveryError(`${what}: HTTP ${res.status}${snippet ? ` ${snippet}` : ''}`, retryable, retryAfterMs(res.headers.get('retry-after')));
}
