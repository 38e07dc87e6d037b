import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { Session2025, post26 } from '../helpers/mcp-http.js';

const TASKS = 'io.modelcontextprotocol/tasks';
let ep: HttpEndpoint;
before(async () => {
  const s = createServer({ name: 'tasks-test', version: '1.0.0' });
  s.tool('job', { description: 'a job', taskSupport: 'optional', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } }, async ({ ms = 50 }: { ms?: number }, ctx) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('cancelled'));
      });
    });
    return `job done in ${ms}`;
  });
  s.tool('ask', { description: 'asks', taskSupport: 'optional' }, async (_a, ctx) => {
    const r = await ctx.elicit({ message: 'ok?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }, { key: 'ok' });
    return `ok=${String(r.content?.ok)}`;
  });
  ep = await serveHttp(s, { port: 0 });
});
after(() => ep.close());

async function poll(fn: () => Promise<any>, until: (r: any) => boolean): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const r = await fn();
    if (until(r)) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('poll timed out');
}

describe('tasks', () => {
  test('2025: tools/call with params.task returns a task; get, result, list, cancel; status notifications shape', async () => {
    const s = new Session2025(ep.url);
    const init = await s.initialize();
    assert.ok(init.response.result.capabilities.tasks, 'tasks capability declared');
    const created = await s.call('tools/call', { name: 'job', arguments: { ms: 50 }, task: { ttl: 60_000 } });
    const id = created.task.taskId;
    assert.equal(created.task.status, 'working');
    const result = await s.call('tasks/result', { taskId: id });
    assert.equal(result.content[0].text, 'job done in 50');
    assert.equal(result._meta['io.modelcontextprotocol/related-task'].taskId, id);
    assert.equal((await s.call('tasks/get', { taskId: id })).status, 'completed');
    const long = await s.call('tools/call', { name: 'job', arguments: { ms: 10_000 }, task: {} });
    const cancelled = await s.call('tasks/cancel', { taskId: long.task.taskId });
    assert.equal(cancelled.status, 'cancelled');
    const again = await s.request('tasks/cancel', { taskId: long.task.taskId });
    assert.equal(again.response.error.code, -32602);
    const list = await s.call('tasks/list');
    assert.deepEqual(list.tasks.map((t: { taskId: string }) => t.taskId).sort(), [id, long.task.taskId].sort());
    const other = new Session2025(ep.url);
    await other.initialize();
    const foreign = await other.request('tasks/get', { taskId: id });
    assert.equal(foreign.response.error.code, -32602, 'tasks are scoped to their session');
  });

  test('2026: server-directed tasks for declaring clients; input_required answered by tasks/update; gate -32021', async () => {
    const caps = { elicitation: {}, extensions: { [TASKS]: {} } };
    const sync = (await post26(ep.url, 'tools/call', { name: 'job', arguments: { ms: 1 } }, { caps: {} })).response.result;
    assert.equal(sync.resultType, 'complete', 'a client without the extension gets a plain result');
    const created = (await post26(ep.url, 'tools/call', { name: 'ask', arguments: {} }, { caps })).response.result;
    assert.equal(created.resultType, 'task');
    assert.equal(typeof created.taskId, 'string');
    assert.equal(created.task, undefined, 'flat, not wrapped');
    const get = (id: string) => post26(ep.url, 'tasks/get', { taskId: id }, { caps }).then((r) => r.response.result);
    const parked = await poll(() => get(created.taskId), (r) => r.status === 'input_required');
    assert.equal(parked.inputRequests.ok.method, 'elicitation/create');
    const ack = (await post26(ep.url, 'tasks/update', { taskId: created.taskId, inputResponses: { ok: { action: 'accept', content: { ok: true } }, stray: {} } }, { caps })).response.result;
    assert.deepEqual(ack, { resultType: 'complete', _meta: ack._meta });
    const done = await poll(() => get(created.taskId), (r) => r.status === 'completed');
    assert.equal(done.result.content[0].text, 'ok=true');
    const gated = await post26(ep.url, 'tasks/get', { taskId: created.taskId }, { caps: {} });
    assert.equal(gated.response.error.code, -32021);
    assert.ok(gated.response.error.data.requiredCapabilities.extensions[TASKS]);
    for (const m of ['tasks/result', 'tasks/list']) assert.equal((await post26(ep.url, m, {}, { caps })).response.error.code, -32601);
  });
});
