/** Degradation mode over real HTTP: the `degrade` stage, the tool-call cap, shedding and the actuators. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, serveHttp } from '../../src/index.js';
import { Degradation } from '../../src/resilience/degradation.js';
import { events, type DegradationEvent } from '../../src/events/index.js';
import { ACCEPT, Session2025, post26 } from '../helpers/mcp-http.js';

/** Reads a session's standalone SSE stream until `pattern` appears (or `ms` pass); returns what came. */
async function readStream(url: string, s: Session2025, pattern: RegExp, ms: number): Promise<string> {
  const ac = new AbortController();
  const res = await fetch(url, { method: 'GET', headers: { accept: ACCEPT, ...s.headers() }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
  } catch {
    // Aborted at the deadline: return what came.
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return text;
}

test('while degraded: initialize gets 503 ANDON_DEGRADED + Retry-After, existing sessions keep working, tool calls are capped, logs and progress are shed, list_changed is held and sent once at exit', async () => {
  const server = createServer({ name: 'deg', version: '1.0.0' });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, ({ text }: { text: string }) => text);
  server.tool('slow', async () => {
    await gate;
    return 'done';
  });
  server.tool('chatty', (_a: unknown, ctx: { log(l: string, d: unknown): void; progress(p: number, t?: number): void }) => {
    ctx.log('info', 'working');
    ctx.progress(1, 2);
    return 'talked';
  });
  const actions: string[] = [];
  const d = new Degradation({ server, maxToolCalls: 2, retryAfterMs: 3000, actuators: { refuseNewConnections: (r) => void actions.push(`connections ${r === null ? 'accept' : 'refuse'}`), scaleRateLimits: (f) => void actions.push(`rate ${f}`) } });
  assert.deepEqual(server.admission.stages().filter(([phase]) => phase === 'degrade'), [], 'no stage (and no cost) while not degraded');
  const published: DegradationEvent[] = [];
  const onDeg = (m: unknown) => void published.push(m as DegradationEvent);
  events.degradation.subscribe(onDeg);
  const ep = await serveHttp(server, { port: 0 });
  try {
    const a = new Session2025(ep.url);
    await a.initialize();
    const chattyBefore = await a.request('tools/call', { name: 'chatty', arguments: {}, _meta: { progressToken: 'p1' } });
    assert.deepEqual(chattyBefore.messages.map((m) => m.method).filter(Boolean), ['notifications/message', 'notifications/progress'], 'not degraded: nothing is shed');

    d.enter('heap at 91% of its limit', 0.5);
    assert.deepEqual(actions, ['connections refuse', 'rate 0.5']);
    assert.deepEqual(server.admission.stages().filter(([phase]) => phase === 'degrade'), [['degrade', 'degradation']]);

    const b = new Session2025(ep.url);
    const refused = await b.initialize();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.equal(refused.response!.error.code, -32001);
    assert.equal(refused.response!.error.data.code, 'ANDON_DEGRADED');
    assert.match(refused.response!.error.message, /node degraded \(heap at 91% of its limit\); new sessions are refused/);
    assert.equal(refused.headers.get('mcp-session-id'), null, 'no session was created');
    const listen = await post26(ep.url, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
    assert.equal(listen.status, 503);
    assert.equal(listen.response!.error.data.code, 'ANDON_DEGRADED');

    assert.equal((await a.call('tools/call', { name: 'echo', arguments: { text: 'still here' } })).content[0].text, 'still here');

    const chatty = await a.request('tools/call', { name: 'chatty', arguments: {}, _meta: { progressToken: 'p2' } });
    assert.equal(chatty.response!.result.content[0].text, 'talked');
    assert.deepEqual(chatty.messages.map((m) => m.method).filter(Boolean), [], 'log and progress notifications are shed');

    // Two slow calls fill the cap; the third is refused; when they finish, calls are admitted again.
    const s1 = a.request('tools/call', { name: 'slow', arguments: {} });
    const s2 = a.request('tools/call', { name: 'slow', arguments: {} });
    for (let i = 0; i < 200 && d.status().toolCalls < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(d.status().toolCalls, 2);
    const third = await a.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(third.status, 503);
    assert.equal(third.response!.error.data.code, 'ANDON_DEGRADED');
    assert.match(third.response!.error.message, /at most 2 concurrent tool calls/);
    release();
    assert.equal((await s1).response!.result.content[0].text, 'done');
    assert.equal((await s2).response!.result.content[0].text, 'done');
    assert.equal(d.status().toolCalls, 0);
    assert.equal((await a.call('tools/call', { name: 'echo', arguments: { text: 'y' } })).content[0].text, 'y');

    // list_changed while degraded is held (three changes, one notification at exit).
    server.tool('late-1', () => 'x');
    server.tool('late-2', () => 'x');
    server.notifyListChanged('tools');
    server.notifyResourceUpdated('mem://a');
    const stream = readStream(ep.url, a, /tools\/list_changed/, 3000);
    await new Promise((r) => setTimeout(r, 100));
    d.exit();
    const text = await stream;
    assert.equal(text.match(/notifications\/tools\/list_changed/g)?.length, 1, `one coalesced list_changed after exit: ${text}`);
    assert.deepEqual(actions, ['connections refuse', 'rate 0.5', 'connections accept']);
    assert.deepEqual(server.admission.stages().filter(([phase]) => phase === 'degrade'), [], 'the stage is gone after exit');

    const st = d.status();
    assert.deepEqual(st.refused, { initialize: 1, 'tools/call': 1, 'subscriptions/listen': 1 });
    assert.deepEqual(st.shed, { logging: 1, progress: 1, list_changed: 3, resource_updated: 1 });
    assert.equal(published.filter((e) => e.kind === 'refused').length, 3);
    assert.equal(published.filter((e) => e.kind === 'shed').length, 6);

    const c = new Session2025(ep.url);
    assert.equal((await c.initialize()).status, 200, 'sessions are admitted again after exit');
  } finally {
    release();
    events.degradation.unsubscribe(onDeg);
    await ep.close();
  }
});
