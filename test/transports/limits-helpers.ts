/** Raw HTTP helpers for the connection and session limit tests (node:http / node:net, no pooling surprises). */
import { request, type Agent, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export const ACCEPT = 'application/json, text/event-stream';

export interface RawReply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  /** The JSON-RPC message of a JSON body, or the last `data:` of an SSE body. */
  body: any;
}

export interface RpcOptions {
  localAddress?: string;
  agent?: Agent | false;
  path?: string;
  method?: string;
}

/** One HTTP request to the endpoint; resolves with the whole reply. */
export function rpc(port: number, body: unknown, headers: Record<string, string> = {}, o: RpcOptions = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: o.path ?? '/mcp',
        method: o.method ?? 'POST',
        localAddress: o.localAddress,
        agent: o.agent ?? false,
        headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: any;
          const ct = String(res.headers['content-type'] ?? '');
          try {
            if (ct.startsWith('text/event-stream')) {
              const datas = text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6);
              parsed = datas.length ? JSON.parse(datas.at(-1)!.slice(6)) : undefined;
            } else parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const initialize = (id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'limits-test', version: '1' } } });

/** Initializes a 2025 session (and sends notifications/initialized); returns its id. */
export async function openSession(port: number, o: RpcOptions = {}): Promise<string> {
  const r = await rpc(port, initialize(), {}, o);
  if (r.status !== 200) throw new Error(`initialize: ${r.status} ${r.text}`);
  const sid = String(r.headers['mcp-session-id']);
  await rpc(port, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionHeaders(sid), o);
  return sid;
}

export const sessionHeaders = (sid: string): Record<string, string> => ({ 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });

/** A raw TCP socket to `port`, connected. */
export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything `s` receives until it closes (or `ms` passes), and how long that took. */
export function untilClosed(s: Socket, ms: number): Promise<{ text: string; closed: boolean; afterMs: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('error', () => {});
    const timer = setTimeout(() => resolve({ text, closed: false, afterMs: Date.now() - t0 }), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, afterMs: Date.now() - t0 });
    });
  });
}
