/**
 * WebSocket client transport (`ws://` / `wss://` targets): subprotocol `mcp`, one JSON-RPC message
 * per text frame, every server message on the one socket. No reconnect: a closed socket closes the
 * client (the caller connects again), as stdio does.
 */
import WebSocket from 'ws';
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.js';
import { ClientError } from './errors.js';
import type { ClientTransport, TransportSink } from './transport.js';

/** Options of {@link WebSocketClientTransport}. */
export interface WebSocketClientOptions {
  /** Extra headers on the upgrade request. Default none. */
  headers?: Record<string, string>;
  /** Largest accepted message from the server, bytes. Default 64 MiB. */
  maxPayloadBytes?: number;
}

/** MCP over WebSocket (subprotocol `mcp`). */
export class WebSocketClientTransport implements ClientTransport {
  readonly kind = 'websocket' as const;
  readonly url: URL;
  private ws: WebSocket | undefined;
  private sink!: TransportSink;
  private closing = false;

  constructor(
    url: string | URL,
    private readonly options: WebSocketClientOptions = {},
  ) {
    this.url = new URL(url);
  }

  start(sink: TransportSink): Promise<void> {
    this.sink = sink;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, 'mcp', { headers: this.options.headers, maxPayload: this.options.maxPayloadBytes ?? 64 * 1024 * 1024, perMessageDeflate: false });
      this.ws = ws;
      let open = false;
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8').slice(0, 2000)));
        res.on('end', () => reject(new ClientError('CONNECTION_FAILED', `WebSocket upgrade refused: HTTP ${res.statusCode ?? 0}${body ? `: ${body.slice(0, 500)}` : ''}`, { status: res.statusCode })));
      });
      ws.once('open', () => {
        open = true;
        if (ws.protocol !== 'mcp') {
          ws.terminate();
          reject(new ClientError('CONNECTION_FAILED', `the server did not accept the WebSocket subprotocol "mcp" (got "${ws.protocol}")`));
          return;
        }
        resolve();
      });
      ws.on('error', (err) => {
        if (!open) reject(new ClientError('CONNECTION_FAILED', `WebSocket connection to ${this.url.href} failed: ${err.message}`, { cause: err }));
      });
      ws.on('message', (data, isBinary) => {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
        if (isBinary) {
          this.sink.malformed('a binary WebSocket frame from the server');
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          this.sink.malformed(`WebSocket message from the server is not JSON: ${(err as Error).message}: ${text.slice(0, 200)}`);
          return;
        }
        this.sink.message(value);
      });
      ws.on('close', (code, reason) => {
        if (!open) return;
        this.sink.closed(new ClientError('CONNECTION_CLOSED', `WebSocket closed (${code}${reason.length ? ` ${reason.toString('utf8')}` : ''})`, { details: { code } }));
      });
    });
  }

  private write(message: JsonRpcMessage): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new ClientError('NOT_CONNECTED', 'the WebSocket is not open');
    ws.send(JSON.stringify(message));
  }

  sendRequest(request: JsonRpcRequest): void {
    try {
      this.write(request);
    } catch (err) {
      this.sink.requestFailed(request.id, err instanceof ClientError ? err : new ClientError('CONNECTION_CLOSED', (err as Error).message));
    }
  }

  sendMessage(message: JsonRpcMessage): Promise<void> {
    try {
      this.write(message);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  abandon(_id: RequestId): void {
    // One socket for everything: nothing to close per request (the core sends notifications/cancelled).
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (!ws || this.closing || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      t.unref();
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000);
    });
  }
}
