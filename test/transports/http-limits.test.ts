/**
 * Connection and session limits of the Streamable HTTP endpoint, on a real server on 127.0.0.1
 * with real sockets: slow headers and never-ending bodies cut by node:http's timeouts, the global
 * body budget, session caps (global and per remote address), SSE stream cap, subscriptions per
 * session, URI length, and refuseNew (degradation) on and off.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import { serveHttp, type HttpEndpoint, type ServeHttpOptions } from '../../src/transports/streamable-http.js';
import { events, type LimitEvent } from '../../src/events/index.js';
import { buildTestServer } from '../server/test-server.js';
import { initialize, openSession, rawSocket, rpc, sessionHeaders, untilClosed } from './limits-helpers.js';

const endpoints: HttpEndpoint[] = [];
after(async () => {
  for (const e of endpoints) await e.close();
});

async function serve(o: ServeHttpOptions): Promise<HttpEndpoint> {
  const e = await serveHttp(buildTestServer(), o);
  endpoints.push(e);
  return e;
}

const limitEvents: LimitEvent[] = [];
events.limit.subscribe((m) => limitEvents.push(m as LimitEvent));

test('slow headers are cut at headersTimeoutMs; a never-ending chunked body at requestTimeoutMs', async () => {
  const e = await serve({ connections: { headersTimeoutMs: 400, requestTimeoutMs: 1200 } });
  const slow = await rawSocket(e.port);
  slow.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty');
  const chunked = await rawSocket(e.port);
  chunked.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
  const drip = setInterval(() => chunked.writable && chunked.write('1\r\n \r\n'), 100);
  try {
    const [h, b] = await Promise.all([untilClosed(slow, 5000), untilClosed(chunked, 6000)]);
    assert.ok(h.closed, 'the slow-header connection is closed');
    assert.match(h.text, /^HTTP\/1\.1 408/, 'with 408 Request Timeout');
    assert.ok(h.afterMs < 1200, `closed ${h.afterMs} ms after the last byte (headersTimeoutMs 400)`);
    assert.ok(b.closed, 'the never-ending body is cut');
    assert.ok(b.afterMs >= 1000 && b.afterMs < 2500, `cut after ${b.afterMs} ms (requestTimeoutMs 1200)`);
  } finally {
    clearInterval(drip);
    slow.destroy();
    chunked.destroy();
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.limitsSnapshot().bodyBytesInFlight, 0, 'the cut body gave its bytes back');
  // The timeouts bound receiving a request, not answering it: a handler slower than
  // requestTimeoutMs and an SSE stream open longer than it are not cut.
  const sid = await openSession(e.port);
  const stream = await openGet(e.port, sid);
  assert.equal(stream.res.statusCode, 200);
  const slowCall = await rpc(e.port, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1600 } } }, sessionHeaders(sid));
  assert.equal(slowCall.body.result.content[0].text, 'done slow');
  assert.equal(stream.res.destroyed, false, 'the GET stream is still open');
  stream.req.destroy();
});

test('the global body budget: a body that would pass maxBufferedBodyBytes gets 503 + Retry-After', async () => {
  const e = await serve({ connections: { maxBufferedBodyBytes: 1000 } });
  const body = JSON.stringify(initialize()).padEnd(800, ' ');
  // A reads 800 declared bytes slowly: they are reserved while it is being read.
  const a = await rawSocket(e.port);
  a.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 100)}`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.limitsSnapshot().bodyBytesInFlight, 800);
  const b = await rpc(e.port, JSON.stringify(initialize()).padEnd(400, ' '));
  assert.equal(b.status, 503);
  assert.equal(b.headers['retry-after'], '5');
  assert.equal(b.body.error.data.code, 'ANDON_BODY_BUDGET');
  assert.match(b.body.error.message, /maxBufferedBodyBytes/);
  // Chunked bodies count as they arrive.
  const c = await rawSocket(e.port);
  const cClosed = untilClosed(c, 3000);
  c.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
  c.write(`12c\r\n${' '.repeat(300)}\r\n`);
  const cr = await cClosed;
  assert.match(cr.text, /^HTTP\/1\.1 503/);
  assert.match(cr.text, /ANDON_BODY_BUDGET/);
  // A finishes: answered, and its bytes are given back; the next body fits.
  const aDone = untilClosed(a, 3000);
  a.write(body.slice(100));
  assert.match((await aDone).text, /^HTTP\/1\.1 200/);
  assert.equal(e.limitsSnapshot().bodyBytesInFlight, 0);
  assert.equal((await rpc(e.port, JSON.stringify(initialize()).padEnd(400, ' '))).status, 200);
  assert.equal(e.limitsSnapshot().refused.bodyBudget, 2);
  // A client that vanishes mid-body gives its bytes back too.
  const d = await rawSocket(e.port);
  d.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 900\r\n\r\n{`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.limitsSnapshot().bodyBytesInFlight, 900);
  d.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(e.limitsSnapshot().bodyBytesInFlight, 0);
});

test('max sessions: global and per remote address; 503 + Retry-After naming the cap; a closed session frees its slot', async () => {
  const e = await serve({ limits: { maxSessions: 4, maxSessionsPerClient: 2 } });
  const a1 = await openSession(e.port);
  await openSession(e.port);
  const third = await rpc(e.port, initialize(7));
  assert.equal(third.status, 503);
  assert.equal(third.headers['retry-after'], '5');
  assert.equal(third.headers['mcp-session-id'], undefined);
  assert.equal(third.body.id, 7);
  assert.equal(third.body.error.data.code, 'ANDON_TOO_MANY_SESSIONS');
  assert.match(third.body.error.message, /limits\.maxSessionsPerClient = 2/);
  // Another address (127.0.0.2 is loopback too) has its own per-client quota…
  await openSession(e.port, { localAddress: '127.0.0.2' });
  await openSession(e.port, { localAddress: '127.0.0.3' });
  // …until the global cap.
  const fifth = await rpc(e.port, initialize(), {}, { localAddress: '127.0.0.4' });
  assert.equal(fifth.status, 503);
  assert.match(fifth.body.error.message, /limits\.maxSessions = 4/);
  // The first session still works; deleting it frees a slot for its address.
  const call = await rpc(e.port, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, sessionHeaders(a1));
  assert.equal(call.body.result.content[0].text, 'hi');
  assert.equal((await rpc(e.port, undefined, sessionHeaders(a1), { method: 'DELETE' })).status, 200);
  await openSession(e.port);
  const snap = e.limitsSnapshot();
  assert.equal(snap.sessions, 4);
  assert.equal(snap.sessionsMax, 4);
  assert.equal(snap.refused.sessions, 2);
  assert.ok(limitEvents.some((l) => l.limit === 'sessions_per_client') && limitEvents.some((l) => l.limit === 'sessions'));
});

test('concurrent initializes cannot overshoot maxSessions: each holds its slot while it runs', async () => {
  const server = buildTestServer();
  // A slow initialize (like the runtime's durable one): the twelve overlap.
  server.use({ name: 'slow-init', phase: 'handler', admit: (inc) => (inc.request.method === 'initialize' ? new Promise<void>((r) => setTimeout(r, 100)) : undefined) });
  const e = await serveHttp(server, { limits: { maxSessions: 3 } });
  endpoints.push(e);
  const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => rpc(e.port, initialize(i + 1))));
  assert.equal(replies.filter((r) => r.status === 200).length, 3);
  assert.equal(replies.filter((r) => r.status === 503).length, 9);
  assert.equal(e.limitsSnapshot().sessions, 3);
});

test('max subscriptions per session and max URI length: -32602 naming the limit; a long request target gets 414', async () => {
  const e = await serve({ limits: { maxSubscriptionsPerSession: 3, maxUriLength: 100 } });
  const sid = await openSession(e.port);
  let id = 10;
  const call = (method: string, uri: string) => rpc(e.port, { jsonrpc: '2.0', id: id++, method, params: { uri } }, sessionHeaders(sid));
  for (const n of [1, 2, 3]) assert.deepEqual((await call('resources/subscribe', `test://items/${n}`)).body.result, {});
  const over = await call('resources/subscribe', 'test://items/4');
  assert.equal(over.status, 200);
  assert.equal(over.body.error.code, -32602);
  assert.equal(over.body.error.data.code, 'ANDON_TOO_MANY_SUBSCRIPTIONS');
  assert.match(over.body.error.message, /maxSubscriptionsPerSession = 3/);
  // Subscribing again to a held URI is not a new subscription; unsubscribing frees one.
  assert.deepEqual((await call('resources/subscribe', 'test://items/1')).body.result, {});
  assert.deepEqual((await call('resources/unsubscribe', 'test://items/1')).body.result, {});
  assert.deepEqual((await call('resources/subscribe', 'test://items/4')).body.result, {});

  const long = `test://items/${'x'.repeat(100)}`;
  for (const method of ['resources/read', 'resources/subscribe']) {
    const r = await call(method, long);
    assert.equal(r.body.error.code, -32602, method);
    assert.equal(r.body.error.data.code, 'ANDON_URI_TOO_LONG');
    assert.match(r.body.error.message, /113 characters, longer than the limit of 100/);
  }
  assert.equal((await call('resources/read', 'test://items/42')).body.result.contents[0].text, 'item 42');
  const target = await rpc(e.port, initialize(), {}, { path: `/mcp?pad=${'y'.repeat(100)}` });
  assert.equal(target.status, 414);
  assert.match(target.body.error.message, /URI Too Long/);
  const snap = e.limitsSnapshot();
  assert.deepEqual([snap.refused.subscriptions, snap.refused.uriLength, snap.refused.targetLength], [1, 2, 1]);
});

/** Opens a GET stream; resolves with its response once the headers are in. */
function openGet(port: number, sid: string): Promise<{ res: IncomingMessage; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'GET', agent: false, headers: { accept: 'text/event-stream', ...sessionHeaders(sid) } }, (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end();
  });
}

test('max SSE streams: a GET beyond the cap gets 503; a POST that would stream stays JSON; a closed stream frees its slot', async () => {
  const e = await serve({ limits: { maxSseStreams: 1 } });
  const s1 = await openSession(e.port);
  const s2 = await openSession(e.port);
  const g1 = await openGet(e.port, s1);
  assert.equal(g1.res.statusCode, 200);
  const g2 = await openGet(e.port, s2);
  assert.equal(g2.res.statusCode, 503);
  assert.equal(g2.res.headers['retry-after'], '5');
  let text = '';
  for await (const c of g2.res) text += String(c);
  assert.match(text, /ANDON_TOO_MANY_STREAMS|too many SSE streams/);
  // The progress tool would open an SSE response: at the cap its answer is plain JSON.
  const p = await rpc(e.port, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'progress', arguments: {} } }, sessionHeaders(s2));
  assert.equal(p.status, 200);
  assert.match(String(p.headers['content-type']), /^application\/json/);
  assert.equal(p.body.result.content[0].text, 'progressed');
  assert.equal(e.limitsSnapshot().sseStreams, 1);
  g1.req.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.limitsSnapshot().sseStreams, 0);
  const g3 = await openGet(e.port, s2);
  assert.equal(g3.res.statusCode, 200);
  g3.req.destroy();
  assert.equal(e.limitsSnapshot().refused.streams, 2);
});

test('refuseNew: new connections get a raw 503 (ANDON_DEGRADED), existing connections and sessions keep working; lifting it restores', async () => {
  const e = await serve({});
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sid = await openSession(e.port, { agent });
    e.refuseNew('degraded: memory at 91%');
    // The session's open connection still serves it. (A new initialize on it is the degradation
    // stage's to refuse: test/resilience/degradation.test.ts.)
    const echo = await rpc(e.port, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'still here' } } }, sessionHeaders(sid), { agent });
    assert.equal(echo.body.result.content[0].text, 'still here');
    // A new TCP connection gets a raw 503 and is closed.
    const s = await rawSocket(e.port);
    const r = await untilClosed(s, 3000);
    assert.ok(r.closed);
    assert.match(r.text, /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close/);
    assert.match(r.text, /ANDON_DEGRADED: .*new connections are refused: degraded: memory at 91%/);
    assert.equal(e.limitsSnapshot().refusingNew, 'degraded: memory at 91%');
    e.refuseNew(null);
    await openSession(e.port);
    assert.equal(e.limitsSnapshot().refusingNew, null);
  } finally {
    agent.destroy();
  }
});

test('connections.max and maxPerClient: sockets beyond the caps get a raw 503; the admitted ones keep working', async () => {
  const e = await serve({ connections: { max: 6, maxPerClient: 4 } });
  const held = await Promise.all([1, 2, 3, 4].map(() => rawSocket(e.port)));
  await new Promise((r) => setTimeout(r, 50));
  const fifth = await untilClosed(await rawSocket(e.port), 3000);
  assert.match(fifth.text, /^HTTP\/1\.1 503/);
  assert.match(fifth.text, /connections\.maxPerClient = 4/);
  // Another address is under its own quota, up to the global cap.
  const other = await rpc(e.port, initialize(), {}, { localAddress: '127.0.0.2' });
  assert.equal(other.status, 200);
  // A held socket serves a real request.
  const h = held[0]!;
  const body = JSON.stringify(initialize());
  const got = untilClosed(h, 3000);
  h.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  assert.match((await got).text, /^HTTP\/1\.1 200 OK[\s\S]*"protocolVersion"/);
  for (const s of held) s.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.limitsSnapshot().sockets, 0);
  assert.equal(e.limitsSnapshot().refused.connections, 1);
});
