/**
 * The HTTP plumbing under the client's Streamable HTTP transport: one request on a keep-alive
 * agent, the per-request exchange state, and small helpers on JSON-RPC messages and headers.
 */
import { request as httpRequest, type Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.js';
import type { Timer } from '../util/clock.js';
import { ClientError } from './errors.js';

export const ACCEPT_BOTH = 'application/json, text/event-stream';
/** Errors where the request certainly never reached the server, so sending it again is safe. */
export const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN']);
/** Requests with side effects: never re-sent after the server may have received them. */
export const UNSAFE_TO_REPEAT = new Set(['tools/call', 'resources/subscribe', 'resources/unsubscribe', 'tasks/cancel', 'subscriptions/listen']);

/** The state of one POSTed request while its answer is awaited. */
export interface Exchange {
  id: RequestId;
  method: string;
  body: string;
  headers: Record<string, string>;
  resumable: boolean;
  done: boolean;
  gotResponse: boolean;
  lastEventId: string | undefined;
  retryMs: number | undefined;
  resumeAttempts: number;
  req: ClientRequest | undefined;
  res: IncomingMessage | undefined;
  timer: Timer | undefined;
}

/** Everything an HTTP response told us, for errors. */
export interface Opened {
  res: IncomingMessage;
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * Sends one HTTP request on `agent` and resolves when the response headers arrive; a non-empty
 * `Mcp-Session-Id` on the response is passed to `onSessionId`. Rejections carry `reusedSocket`
 * (a reused keep-alive socket the server had just closed).
 */
export function openHttpRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  agent: HttpAgent,
  holder: { req?: ClientRequest } | undefined,
  onSessionId: (sid: string) => void,
): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ClientRequest;
    const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    try {
      req = send(url, { method, headers: h, agent });
    } catch (err) {
      // Invalid header characters are reported synchronously by node:http.
      reject(new ClientError('INVALID_ARGUMENT', `Cannot send the HTTP request: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (holder) holder.req = req;
    req.once('response', (res) => {
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid.length > 0) onSessionId(sid);
      res.on('error', () => {
        // Stream errors end the body; the transport's readers handle the early end.
      });
      resolve({ res, status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      err.reusedSocket = (req as unknown as { reusedSocket?: boolean }).reusedSocket === true;
      reject(err);
    });
    req.end(body);
  });
}

/** Whether `value` is the response (result or error) to request `id`. */
export function isResponseTo(value: unknown, id: RequestId): boolean {
  if (!value || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return m.id === id && !('method' in m) && ('result' in m || 'error' in m);
}

/** A message's method, or "response". */
export function describe(message: JsonRpcMessage): string {
  return 'method' in message ? message.method : 'response';
}

/** The protocol-version header of a request, which a resume GET must repeat. */
export function protocolHeader(h: Record<string, string>): Record<string, string> {
  const v = h['mcp-protocol-version'];
  return v === undefined ? {} : { 'mcp-protocol-version': v };
}
