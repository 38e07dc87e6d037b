/**
 * The ceiling: a bare node:http JSON-RPC responder (not MCP). It reads the body, parses it once,
 * and answers with a tools/call-shaped result, so it does the minimum any HTTP JSON-RPC server
 * must do: parse, build a result, serialise, write.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { config, control, ready } from './control.js';

const cfg = config({ port: 0 });

const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const msg = JSON.parse(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()) as {
      id?: number | string;
      params?: { name?: string; arguments?: { text?: string } };
    };
    if (msg.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const body = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: msg.params?.arguments?.text ?? '' }] } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': 'bare' });
    res.end(body);
  });
});
http.listen(cfg.port, '127.0.0.1', () => {
  control();
  ready((http.address() as AddressInfo).port);
});
