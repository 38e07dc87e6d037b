/** Raw WebSocket and TCP clients for transport tests: send messages, await the answer with an id. */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

/** A raw message connection: everything received is kept; `answer(id)` waits for one. */
export interface RawPeer {
  received: Array<Record<string, unknown>>;
  send(m: unknown): void;
  sendRaw(text: string | Buffer): void;
  /** The message with this id (waits up to `ms`). */
  answer(id: unknown, ms?: number): Promise<Record<string, any>>;
  /** The next message matching `pred`. */
  next(pred: (m: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  /** Resolves with the close code (WebSocket) or 0 (TCP). */
  closed: Promise<number>;
  close(): void;
}

/** A RawPeer over any framing (the transports' tests build TLS variants on it). */
export function peer(sendText: (t: string | Buffer) => void, close: () => void, closed: Promise<number>): RawPeer & { push(text: string): void } {
  const received: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  const p = {
    received,
    push(text: string) {
      received.push(JSON.parse(text) as Record<string, unknown>);
      for (const w of [...waiters]) w();
    },
    send: (m: unknown) => sendText(JSON.stringify(m)),
    sendRaw: sendText,
    next(pred: (m: Record<string, any>) => boolean, ms = 5000): Promise<Record<string, any>> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = received.findIndex(pred);
          if (i === -1) return false;
          const [m] = received.splice(i, 1);
          waiters.delete(check2);
          clearTimeout(t);
          resolve(m!);
          return true;
        };
        const check2 = () => void check();
        const t = setTimeout(() => {
          waiters.delete(check2);
          reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(received).slice(0, 500)}`));
        }, ms);
        if (!check()) waiters.add(check2);
      });
    },
    answer(id: unknown, ms?: number) {
      return p.next((m) => m.id === id && ('result' in m || 'error' in m), ms);
    },
    closed,
    close,
  };
  return p;
}

/** Opens a WebSocket with subprotocol `mcp` (or `protocols`) and waits until it is open. */
export async function wsPeer(url: string, protocols: string | string[] = 'mcp'): Promise<RawPeer & { ws: WebSocket }> {
  const ws = new WebSocket(url, protocols);
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const p = peer((t) => ws.send(t, { binary: Buffer.isBuffer(t) }), () => ws.close(), closed);
  ws.on('message', (d, isBinary) => {
    if (!isBinary) p.push(String(d));
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return Object.assign(p, { ws });
}

/** Opens a TCP connection speaking newline-delimited JSON-RPC. */
export async function tcpPeer(port: number, host = '127.0.0.1'): Promise<RawPeer & { socket: Socket }> {
  const socket = connect(port, host);
  const closed = new Promise<number>((r) => socket.once('close', () => r(0)));
  let buf = '';
  const p = peer((t) => socket.write(typeof t === 'string' ? `${t}\n` : t), () => socket.end(), closed);
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => {
    buf += c;
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      p.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return Object.assign(p, { socket });
}

export const INIT = (id: unknown = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
