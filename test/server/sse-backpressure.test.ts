/**
 * 6f: SSE writes honour a per-connection bound. A client that opens a stream and never reads gets
 * its connection dropped once more than `maxStreamBufferBytes` sit unread (logged as
 * ANDON_SSE_BACKLOG); the events stay in the event store and the client resumes with Last-Event-ID.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { serveHttp, MemoryEventStore, type HttpEndpoint } from '../../src/index.js';
import type { Logger } from '../../src/util/logger.js';
import { buildTestServer } from './test-server.js';

const LIMIT = 512 * 1024;
const EVENT_BYTES = 10_000;

interface Captured {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A raw HTTP client whose socket can stop reading; resolves once `until` matches what arrived. */
function rawStream(port: number, head: string, body: string, until: RegExp): Promise<{ sock: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    const timer = setTimeout(() => reject(new Error(`stream did not start: ${JSON.stringify(text.slice(0, 300))} … ${JSON.stringify(text.slice(-400))} (${text.length} chars)`)), 10_000);
    sock.on('error', () => {});
    sock.on('data', (c: Buffer) => {
      const piece = c.toString('latin1');
      // Match on a bounded tail: testing the whole (tens of MB) text per chunk would be quadratic.
      const tail = text.slice(-16_384) + piece;
      if (text.length < 1_000_000) text += piece;
      else text = text.slice(0, 500_000) + text.slice(-16_384) + piece;
      if (!done && until.test(tail)) {
        done = true;
        clearTimeout(timer);
        resolve({ sock, text: () => text, closed });
      }
    });
    sock.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SSE backpressure (6f)', () => {
  let ep: HttpEndpoint;
  let sid: string;
  const warns: Captured[] = [];
  const server = buildTestServer();
  // Floods its POST stream with 10 KB log events until told to stop; reports how many it sent.
  let stopFlood = false;
  let floodDone: (n: number) => void = () => {};
  server.tool('flood', {}, async (_a, ctx) => {
    const pad = 'x'.repeat(EVENT_BYTES);
    let i = 0;
    for (; i < 20_000 && !stopFlood; i++) {
      ctx.log('info', { i, pad });
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    floodDone(i);
    return 'flooded';
  });
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (obj, msg) => warns.push({ obj: obj as Record<string, unknown>, msg }) };
  const H = (extra = '') => `Host: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: 2025-11-25\r\n${extra}`;

  before(async () => {
    ep = await serveHttp(server, { maxStreamBufferBytes: LIMIT, logger, eventStore: new MemoryEventStore({ maxEventsPerStream: 10_000 }) });
    const res = await fetch(ep.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
    sid = res.headers.get('mcp-session-id')!;
    await res.text();
    const post = (body: unknown) => fetch(ep.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify(body) }).then((r) => r.text());
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await post({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'debug' } });
  });
  after(async () => {
    await ep.close();
  });

  test('an unread GET stream is dropped past the bound, and resumes with Last-Event-ID', async () => {
    warns.length = 0;
    const s = await rawStream(ep.port, `GET /mcp HTTP/1.1\r\n${H()}`, '', /id: (\S+)\n/);
    const primeId = /id: (\S+)\n/.exec(s.text())![1]!;
    s.sock.pause();
    const pad = 'y'.repeat(EVENT_BYTES);
    let sent = 0;
    // Far more than socket buffers and the bound together can hold; stop once the drop happened.
    while (sent < 8000 && !warns.some((w) => w.obj.code === 'ANDON_SSE_BACKLOG')) {
      for (let i = 0; i < 50; i++) server.broadcast('notifications/message', { level: 'info', data: { n: sent++, pad } });
      await new Promise((r) => setImmediate(r));
    }
    const w = warns.find((x) => x.obj.code === 'ANDON_SSE_BACKLOG');
    assert.ok(w, `the stream was dropped (sent ${sent} events)`);
    assert.equal(w.obj.streamId, `${sid}-standalone`);
    assert.ok((w.obj.queuedBytes as number) <= LIMIT + 2 * EVENT_BYTES, `queued bytes bounded: ${String(w.obj.queuedBytes)}`);
    // Later events go to the store only: nothing more is queued for the dead connection.
    for (let i = 0; i < 200; i++) server.broadcast('notifications/message', { level: 'info', data: { n: sent++, pad } });
    s.sock.resume();
    await Promise.race([s.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('dropped connection did not close')), 10_000))]);
    // Resume from the priming event: the stored events are replayed, the newest included.
    const again = await rawStream(ep.port, `GET /mcp HTTP/1.1\r\n${H(`Last-Event-ID: ${primeId}\r\n`)}`, '', new RegExp(`"n":${sent - 1},`));
    assert.match(again.text(), /^HTTP\/1\.1 200/);
    again.sock.destroy();
  });

  test('an unread POST stream of log notifications is dropped; the result is kept for Last-Event-ID', async () => {
    warns.length = 0;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 50, method: 'tools/call', params: { name: 'flood', arguments: {} } });
    const s = await rawStream(ep.port, `POST /mcp HTTP/1.1\r\n${H()}`, body, /id: (\S+)\n/);
    const firstId = /id: (\S+)\n/.exec(s.text())![1]!;
    s.sock.pause();
    await until(() => warns.some((x) => x.obj.code === 'ANDON_SSE_BACKLOG'), 'the POST stream to be dropped');
    const w = warns.find((x) => x.obj.code === 'ANDON_SSE_BACKLOG')!;
    assert.notEqual(w.obj.streamId, `${sid}-standalone`);
    assert.ok((w.obj.queuedBytes as number) <= LIMIT + 2 * EVENT_BYTES);
    s.sock.destroy();
    // The handler runs on (disconnect is not cancellation in 2025) and finishes; its last events
    // and its response wait in the store. Resume from near the end.
    const sent = await new Promise<number>((resolve) => {
      floodDone = resolve;
      stopFlood = true;
    });
    assert.ok(firstId.endsWith('.1') || firstId.endsWith('.2'), firstId);
    const streamId = firstId.slice(0, firstId.lastIndexOf('.'));
    const seq0 = Number(firstId.slice(firstId.lastIndexOf('.') + 1)) - (firstId.endsWith('.2') ? 1 : 0);
    // Event seq numbers: the priming event is seq0 (1), log i is seq0 + 1 + i.
    const from = `${streamId}.${seq0 + sent - 2}`;
    const again = await rawStream(ep.port, `GET /mcp HTTP/1.1\r\n${H(`Last-Event-ID: ${from}\r\n`)}`, '', /"id":50,"result":\{"content":\[\{"type":"text","text":"flooded"\}/);
    assert.match(again.text(), new RegExp(`"i":${sent - 1},`), 'the last log event is replayed');
    assert.doesNotMatch(again.text(), new RegExp(`"i":${sent - 3},`), 'nothing before the Last-Event-ID');
    again.sock.destroy();
  });
});
