/**
 * Raw peers over TLS for the transports' security tests: a WebSocket (`wss://`, extra headers such
 * as `Authorization`, a trusted CA) and newline-delimited JSON-RPC inside a TLS session.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { peer, type RawPeer } from '../helpers/wire-clients.js';

/** Opens a WebSocket with subprotocol `mcp`, `headers` on the upgrade and `ca` trusted. */
export async function wsPeerWith(url: string, opts: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<RawPeer & { ws: WebSocket }> {
  const ws = new WebSocket(url, 'mcp', { headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const p = peer((t) => ws.send(t), () => ws.close(), closed);
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

/** A refused upgrade: its status, headers and JSON body. */
export function refusedUpgrade(url: string, opts: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mcp', { headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) });
    ws.on('open', () => {
      ws.close();
      reject(new Error('upgrade was accepted'));
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(body) }));
    });
  });
}

/** Newline-delimited JSON-RPC over TLS to 127.0.0.1:`port`, trusting `ca`. */
export async function tlsPeer(port: number, ca: Buffer): Promise<RawPeer & { socket: TLSSocket }> {
  const socket = tlsConnect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
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
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return Object.assign(p, { socket });
}
