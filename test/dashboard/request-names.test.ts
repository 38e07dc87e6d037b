/**
 * Found by the wire fuzzer (WebSocket, 1,800 mutants in): a tools/call whose params.name was an
 * object with a non-callable toString ({"toString":1,"valueOf":"x"}) reached the request channel
 * as the "name"; the dashboard's series used it as a property key when its 5-second slot closed,
 * threw from a channel subscriber, and the uncaught exception stopped the node. The server now
 * publishes only string names, and the series samples only string tool names (in a
 * prototype-less map, so a tool named "__proto__" is an ordinary key).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { events } from '../../src/events/index.js';
import { Series, SLOT_MS } from '../../src/dashboard/series.js';
import { MessageConnection } from '../../src/transports/message-connection.js';
import type { JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import type { RequestEvent } from '../../src/runtime/events.js';
import { buildTestServer } from '../server/test-server.js';

test('series: a tool name that is not a string is not sampled, and closing the slot does not throw', async () => {
  const clock = new TestClock(SLOT_MS * 1000);
  const s = new Series(clock, () => ({ heap: 1, rss: 2 }));
  const hostile = JSON.parse('{"toString":1,"valueOf":"x"}') as unknown as string;
  s.record({ method: 'tools/call', name: hostile, outcome: 'error', durationMs: 1 });
  s.record({ method: 'tools/call', name: '__proto__', outcome: 'error', durationMs: 2 });
  await clock.advance(SLOT_MS);
  const slots = s.slots();
  const closed = slots[slots.length - 2]!;
  assert.equal(closed.req, 2);
  assert.deepEqual(Object.keys(closed.lat).sort(), ['*', '__proto__']);
  assert.deepEqual(JSON.parse(JSON.stringify(closed.lat)).__proto__, [1, 2, 2, 2]);
});

test('server: the request channel carries a string name or none, whatever params.name and params.uri hold', async () => {
  const server = buildTestServer();
  const seen: RequestEvent[] = [];
  const onRequest = (m: unknown) => seen.push(m as RequestEvent);
  events.request.subscribe(onRequest);
  try {
    const out: JsonRpcMessage[] = [];
    const mc = new MessageConnection(server, { kind: 'tcp', write: (m) => out.push(m) });
    const send = (m: unknown) => mc.receive(JSON.stringify(m));
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    mc.receive('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":{"toString":1,"valueOf":"x"},"arguments":{}}}');
    send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 5 } });
    send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    for (let i = 0; i < 200 && out.filter((m) => 'id' in m && m.id !== 1).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const calls = seen.filter((e) => e.method !== 'initialize');
    assert.equal(calls.length, 3, JSON.stringify(out));
    assert.deepEqual(
      calls.map((e) => e.name),
      [undefined, undefined, 'echo'],
    );
    mc.close('done');
  } finally {
    events.request.unsubscribe(onRequest);
  }
});
