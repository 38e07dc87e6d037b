/**
 * The 2024-11-05 HTTP+SSE transport, used only as a fallback for old servers: a long-lived GET
 * stream whose first `endpoint` event names the URL to POST messages to; every server message,
 * responses included, arrives on that stream.
 */
import { systemClock, type Clock } from '../util/clock.js';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.js';
import { ClientError } from './errors.js';
import { readBody, toClientError } from './http-response.js';
import { SseParser } from './sse-parser.js';
import type { ClientTransport, SendContext, TransportSink } from './transport.js';

/** Options of {@link LegacySseTransport}. */
export interface LegacySseOptions {
  /** Extra headers on every HTTP request. Default none. */
  headers?: Record<string, string>;
  /** How long to wait for the `endpoint` event, ms. Default 10,000. */
  endpointTimeoutMs?: number;
  /** Time for the endpoint timeout. Default {@link systemClock}. */
  clock?: Clock;
}

/** HTTP+SSE (protocol 2024-11-05) client transport. */
export class LegacySseTransport implements ClientTransport {
  readonly kind = 'sse' as const;
  readonly url: URL;
  /** Where messages are POSTed, from the server's `endpoint` event. */
  endpoint: URL | undefined;
  private sink!: TransportSink;
  private readonly agent: HttpAgent;
  private stream: { req: ClientRequest; res?: IncomingMessage } | undefined;
  private closed = false;
  private readonly clock: Clock;

  constructor(
    url: string | URL,
    private readonly options: LegacySseOptions = {},
  ) {
    this.url = new URL(url);
    this.clock = options.clock ?? systemClock;
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  start(sink: TransportSink): Promise<void> {
    this.sink = sink;
    return new Promise((resolve, reject) => {
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.url, { method: 'GET', headers: { accept: 'text/event-stream', ...this.options.headers }, agent: this.agent });
      this.stream = { req };
      let ready = false;
      const timer = this.clock.setTimeout(() => {
        if (ready) return;
        req.destroy();
        reject(new ClientError('CONNECTION_FAILED', `No "endpoint" event from the HTTP+SSE server at ${this.url.href} within ${this.options.endpointTimeoutMs ?? 10_000} ms`));
      }, this.options.endpointTimeoutMs ?? 10_000);
      req.once('error', (err) => {
        this.clock.clearTimeout(timer);
        if (!ready) reject(toClientError(err));
      });
      req.once('response', (res) => {
        this.stream!.res = res;
        const ct = String(res.headers['content-type'] ?? '');
        if (res.statusCode !== 200 || !ct.startsWith('text/event-stream')) {
          this.clock.clearTimeout(timer);
          res.resume();
          reject(new ClientError('HTTP_ERROR', `The server answered GET ${this.url.href} with HTTP ${String(res.statusCode)} (${ct || 'no content type'}); it speaks neither Streamable HTTP nor HTTP+SSE`, { status: res.statusCode }));
          return;
        }
        const parser = new SseParser({
          onEvent: (ev) => {
            if (ev.event === 'endpoint') {
              try {
                this.endpoint = new URL(ev.data.trim(), this.url);
              } catch {
                this.sink.event('warning', { code: 'BAD_ENDPOINT', message: `Unusable endpoint event: ${ev.data}` });
                return;
              }
              if (!ready) {
                ready = true;
                this.clock.clearTimeout(timer);
                resolve();
              }
              return;
            }
            if (ev.event !== 'message' || ev.data.trim() === '') return;
            let value: unknown;
            try {
              value = JSON.parse(ev.data);
            } catch (err) {
              this.sink.malformed(`SSE event is not JSON: ${(err as Error).message}`, undefined);
              return;
            }
            this.sink.message(value);
          },
        });
        res.on('data', (c: Buffer) => parser.push(c));
        res.on('error', () => {});
        const ended = () => {
          this.clock.clearTimeout(timer);
          if (!ready) {
            reject(new ClientError('CONNECTION_FAILED', 'The HTTP+SSE stream ended before the endpoint event'));
            return;
          }
          if (!this.closed) this.sink.closed(new ClientError('CONNECTION_CLOSED', 'The server closed the HTTP+SSE stream'));
        };
        res.once('close', ended);
      });
      req.end();
    });
  }

  sendRequest(request: JsonRpcRequest, ctx: SendContext): void {
    this.sendMessage(request, ctx).catch((err: unknown) => this.sink.requestFailed(request.id, toClientError(err)));
  }

  async sendMessage(message: JsonRpcMessage, _ctx: SendContext): Promise<void> {
    if (this.closed || !this.endpoint) throw new ClientError('NOT_CONNECTED', 'The HTTP+SSE transport is not connected');
    const body = JSON.stringify(message);
    const send = this.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(this.endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...this.options.headers },
        agent: this.agent,
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
    const text = await readBody(res, 64 * 1024).catch(() => '');
    if ((res.statusCode ?? 0) >= 300) throw new ClientError('HTTP_ERROR', `HTTP ${String(res.statusCode)} from ${this.endpoint.href}: ${text.slice(0, 200)}`, { status: res.statusCode });
  }

  abandon(_id: RequestId): void {
    // All answers share one stream.
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stream?.res?.destroy();
    this.stream?.req.destroy();
    this.agent.destroy();
  }
}
