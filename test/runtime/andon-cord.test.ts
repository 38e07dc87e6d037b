/**
 * The andon cord with real processes: spawned nodes on 127.0.0.1, real signals (SIGTERM,
 * SIGKILL), real state files.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { DIST } from '../helpers/paths.js';
import { createClient } from '../../src/index.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { readUntil } from '../helpers/wait.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-cord-');

async function validStateFile(file: string): Promise<any> {
  const env = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(env.schema, 'andon-store/1');
  assert.equal(createHash('sha256').update(env.payload).digest('hex'), env.sha256, `checksum of ${file}`);
  return JSON.parse(env.payload);
}

async function toolNames(s: Session2025): Promise<string[]> {
  return (await s.call('tools/list')).tools.map((t: { name: string }) => t.name);
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('andon cord (real processes)', () => {
  test('a halted tool stays halted and hidden across kill -9; resume brings it back; the state file stays valid', async () => {
    const n = await fresh();
    let node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    assert.ok((await toolNames(s)).includes('echo'));
    const stream = await fetch(node.url, { headers: { ...s.headers(), accept: 'text/event-stream' } });
    const reader = stream.body!.getReader();
    const h = await node.admin('POST', '/admin/components/tool:echo/halt', { reason: 'returns wrong data' });
    await readUntil(reader, (t) => t.includes('notifications/tools/list_changed'), 5000, 'notifications/tools/list_changed');
    await reader.cancel();
    assert.equal(h.status, 200);
    assert.equal(h.body.state, 'halted_manual');
    const file = join(n.stateDir, 'halt', 'tool%3Aecho.json');
    assert.equal((await validStateFile(file)).reason, 'returns wrong data');
    assert.ok(!(await toolNames(s)).includes('echo'));
    node.child.kill('SIGKILL');
    await node.exited;
    assert.equal((await validStateFile(file)).state, 'halted_manual');
    node = await n.start();
    assert.match(node.stderr(), /component is halted/);
    const s2 = new Session2025(node.url);
    await s2.initialize();
    assert.ok(!(await toolNames(s2)).includes('echo'), 'still hidden after the restart');
    const call = await s2.call('tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(call.isError, true);
    assert.match(call.content[0].text, /halted: returns wrong data/);
    const status = await node.admin('GET', '/admin/components');
    assert.equal(status.body.components.find((c: { id: string }) => c.id === 'tool:echo').state, 'halted_manual');
    assert.equal(status.body.components.find((c: { id: string }) => c.id === 'tool:echo').inflight, 0);
    assert.equal((await node.admin('POST', '/admin/components/tool:echo/resume')).status, 200);
    assert.ok((await toolNames(s2)).includes('echo'));
    assert.equal((await s2.call('tools/call', { name: 'echo', arguments: { text: 'back' } })).content[0].text, 'back');
    await assert.rejects(readFile(file), /ENOENT/);
    node.child.kill('SIGTERM');
    assert.equal((await node.exited).code, 0);
  });

  test('a tool whose errors keep escaping is restarted with backoff, then halted_fatal; no restart loop; clear errors', async () => {
    const n = await fresh();
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    const texts: string[] = [];
    await until(
      'the escape tool to be halted',
      async () => {
        const r = await s.call('tools/call', { name: 'escape', arguments: {} });
        texts.push(r.content[0].text);
        return /halted/.test(r.content[0].text);
      },
      15_000,
    );
    assert.ok(texts.includes('scheduled'));
    assert.ok(texts.some((t) => /unavailable: restarting after a crash/.test(t)), 'calls during a restart get a clear error');
    assert.match(texts.at(-1)!, /halted: restart intensity exceeded/);
    const c1 = (await node.admin('GET', '/admin/components/tool:escape')).body;
    assert.equal(c1.state, 'halted_fatal');
    assert.equal(c1.restarts, 5);
    await new Promise((r) => setTimeout(r, 1000));
    const c2 = (await node.admin('GET', '/admin/components/tool:escape')).body;
    assert.equal(c2.restarts, 5, 'no further restarts');
    assert.ok(!(await toolNames(s)).includes('escape'));
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'others fine' } })).content[0].text, 'others fine');
    assert.match(node.stderr(), /restart intensity exceeded; halting component/);
    node.child.kill('SIGTERM');
    await node.exited;
  });

  test('an error that escapes a tool handler is contained as that tool crashing; the process lives on', async () => {
    const n = await fresh();
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    assert.equal((await s.call('tools/call', { name: 'escape', arguments: {} })).content[0].text, 'scheduled');
    await until('the escape tool to restart', async () => (await node.admin('GET', '/admin/components/tool:escape')).body.restarts === 1);
    assert.match(node.stderr(), /error escaped a tool handler; contained/);
    assert.equal(node.child.exitCode, null);
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'alive' } })).content[0].text, 'alive');
    node.child.kill('SIGTERM');
    await node.exited;
  });

  test('drain under load: 64 slow calls complete, new requests get 503, exit 0 within the grace', async () => {
    // 64 calls at once from one session are over the default 50 tools/call per second: raise it (this test is about the drain).
    const config = join(await mkdtemp(join(tmpdir(), 'andon-cord-cfg-')), 'andon.config.yaml');
    await writeFile(config, 'rateLimits:\n  perClient:\n    toolCallsPerSec: 1000\n');
    const n = await fresh({ ANDON_CONFIG: config });
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    const calls = Array.from({ length: 64 }, (_, i) => s.request('tools/call', { name: 'slow', arguments: { ms: 1500 } }).then((r) => ({ i, r })));
    await until('64 calls in flight', async () => (await node.admin('GET', '/admin/components/tool:slow')).body.inflight === 64);
    const t0 = Date.now();
    node.child.kill('SIGTERM');
    await until('the drain to start', () => node.stderr().includes('drain: draining'));
    const refused = await s.request('tools/call', { name: 'echo', arguments: { text: 'late' } });
    assert.equal(refused.status, 503);
    assert.ok(refused.headers.get('retry-after'));
    assert.equal(refused.response.error.code, -32001);
    const fresh503 = await post(node.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(fresh503.status, 503);
    const done = await Promise.all(calls);
    for (const { r } of done) {
      assert.equal(r.status, 200);
      assert.equal(r.response.result.content[0].text, 'slept 1500');
    }
    const exit = await node.exited;
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < 30_000);
    assert.match(node.stderr(), /"phase":"stopped".*"drained":64,"forced":0/);
  });

  test('drain with a grace shorter than the calls: they are aborted, clients get cancellation, exit code 3', async () => {
    const n = await fresh({ ANDON_DRAIN_GRACE_MS: '300' });
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    const calls = Array.from({ length: 8 }, () => s.request('tools/call', { name: 'slow', arguments: { ms: 10_000 } }));
    await until('8 calls in flight', async () => (await node.admin('GET', '/admin/components/tool:slow')).body.inflight === 8);
    node.child.kill('SIGTERM');
    const replies = await Promise.all(calls);
    for (const r of replies) {
      const cancel = r.messages.find((m) => m.method === 'notifications/cancelled');
      assert.ok(cancel, 'the client receives notifications/cancelled');
      assert.match(cancel.params.reason, /grace of 300 ms ran out/);
      // Cancelled in the handler (an isError result), or while its journal record was written (never started).
      if (r.response.error) assert.match(r.response.error.message, /cancelled before its tool started: .*grace of 300 ms ran out/);
      else assert.equal(r.response.result.isError, true);
    }
    const exit = await node.exited;
    assert.equal(exit.code, 3, 'exit code says the grace ran out');
  });

  /**
   * One client, subscribed to test://watched, across a SIGTERM restart and a kill -9 restart:
   * each time the same session answers (no 404) and resource updates keep arriving.
   */
  async function survives(c: {
    node: NodeProc;
    restart: () => Promise<NodeProc>;
    echo: (text: string) => Promise<string>;
    touch: () => Promise<unknown>;
    updates: () => number;
    afterRestart: (node: NodeProc) => void;
    close: () => Promise<unknown>;
  }): Promise<void> {
    let node = c.node;
    await c.touch();
    await until('first update', () => c.updates() >= 1);
    await new Promise((r) => setTimeout(r, 400));
    try {
      for (const how of ['SIGTERM', 'SIGKILL'] as const) {
        node.child.kill(how);
        await node.exited;
        node = await c.restart();
        assert.match(node.stderr(), /restored sessions/);
        assert.equal(await c.echo(`after ${how}`), `after ${how}`, 'same session, no 404');
        c.afterRestart(node);
        const before = c.updates();
        await until(`an update after ${how}`, async () => {
          await c.touch();
          await new Promise((r2) => setTimeout(r2, 150));
          return c.updates() > before;
        });
        await new Promise((r2) => setTimeout(r2, 400));
      }
    } finally {
      await c.close().catch(() => {});
      node.child.kill('SIGTERM');
      await node.exited;
    }
  }

  test('2025 sessions with subscriptions survive a graceful restart and a kill -9 (official SDK client)', async () => {
    const n = await fresh();
    const node = await n.start();
    const client = new Client({ name: 'survivor', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(node.url), { reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 100 } });
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (m) => void updates.push(m.params.uri));
    await client.connect(transport);
    const sid = transport.sessionId;
    await client.subscribeResource({ uri: 'test://watched' });
    await survives({
      node,
      restart: () => n.start(),
      echo: async (text) => ((await client.callTool({ name: 'echo', arguments: { text } })).content as Array<{ text: string }>)[0]!.text,
      touch: () => client.callTool({ name: 'touch', arguments: {} }),
      updates: () => updates.length,
      afterRestart: () => assert.equal(transport.sessionId, sid),
      close: () => client.close(),
    });
  });

  test('2025 sessions with subscriptions survive a graceful restart and a kill -9 (andon-mcp client)', async () => {
    const n = await fresh();
    const node = await n.start();
    const client = await createClient(node.url, { protocolVersion: '2025-11-25' }).connect();
    const updates: string[] = [];
    let reinitialized = 0;
    client.on('sessionReinitialized', () => void reinitialized++);
    await client.subscribeResource('test://watched', (uri) => void updates.push(uri));
    const sid = client.server.sessionId;
    await survives({
      node,
      restart: () => n.start(),
      echo: async (text) => ((await client.callTool('echo', { text })).content[0] as { text: string }).text,
      touch: () => client.callTool('touch', {}),
      updates: () => updates.length,
      afterRestart: () => {
        assert.equal(client.server.sessionId, sid, 'same session id');
        assert.equal(reinitialized, 0, 'the session was never lost (no 404, no re-initialize)');
      },
      close: () => client.close(),
    });
  });

  test('concurrent halts and resumes from several admin clients end in one consistent state', async () => {
    const n = await fresh();
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    const ops = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? node.admin('POST', '/admin/components/tool:echo/halt', { reason: `halt ${i}` }) : node.admin('POST', '/admin/components/tool:echo/resume')));
    const results = await Promise.all(ops);
    for (const r of results) assert.equal(r.status, 200);
    const final = (await node.admin('GET', '/admin/components/tool:echo')).body;
    const listed = (await toolNames(s)).includes('echo');
    const files = await readdir(join(n.stateDir, 'halt')).catch(() => [] as string[]);
    const onDisk = files.includes('tool%3Aecho.json');
    if (final.state === 'halted_manual') {
      assert.equal(listed, false);
      assert.equal(onDisk, true);
      assert.equal((await validStateFile(join(n.stateDir, 'halt', 'tool%3Aecho.json'))).reason, final.haltReason);
    } else {
      assert.equal(final.state, 'running');
      assert.equal(listed, true);
      assert.equal(onDisk, false);
    }
    node.child.kill('SIGTERM');
    await node.exited;
  });

  test('ops listener: metrics count real traffic; readiness follows a node halt and the drain', async () => {
    const n = await fresh();
    const node = await n.start();
    const s = new Session2025(node.url);
    await s.initialize();
    await s.call('tools/call', { name: 'echo', arguments: { text: 'x' } });
    await s.call('tools/call', { name: 'flaky', arguments: {} });
    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(metrics, /andon_requests_total\{method="tools\/call",tool="echo",era="2025",outcome="ok"\} 1/);
    assert.match(metrics, /andon_requests_total\{method="tools\/call",tool="flaky",era="2025",outcome="tool_error"\} 1/);
    assert.match(metrics, /andon_sessions_active\{transport="http",era="2025"\} 1/);
    assert.doesNotMatch(metrics, new RegExp(s.sessionId), 'no session id in any label');
    assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);
    assert.equal((await fetch(`${node.opsUrl}/health/live`)).status, 200);
    await node.admin('POST', '/admin/components/node/halt', { reason: 'readiness check' });
    const ready = await fetch(`${node.opsUrl}/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(((await ready.json()) as { reasons: string[] }).reasons, ['critical component halted: node']);
    await node.admin('POST', '/admin/components/node/resume');
    assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);
    const slow = s.request('tools/call', { name: 'slow', arguments: { ms: 800 } });
    await until('the slow call in flight', async () => (await node.admin('GET', '/admin/components/tool:slow')).body.inflight === 1);
    node.child.kill('SIGTERM');
    await until('readiness off while draining', async () => (await fetch(`${node.opsUrl}/health/ready`)).status === 503);
    assert.equal((await slow).response.result.content[0].text, 'slept 800');
    assert.equal((await node.exited).code, 0);
  });

  test('admin API: bad token 401, unknown component 404, missing reason 400; node halt refuses work until resumed', async () => {
    const n = await fresh();
    const node = await n.start();
    const bad = await fetch(`${node.opsUrl}/admin/components`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.equal((await node.admin('POST', '/admin/components/tool:nope/halt', { reason: 'x' })).status, 404);
    const noReason = await node.admin('POST', '/admin/components/tool:echo/halt', {});
    assert.equal(noReason.status, 400);
    assert.match(noReason.body.error, /reason/);
    const s = new Session2025(node.url);
    await s.initialize();
    assert.equal((await node.admin('POST', '/admin/components/node/halt', { reason: 'incident 42' })).status, 200);
    const refused = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(refused.status, 503);
    assert.match(refused.response.error.message, /node halted \(incident 42\)/);
    await node.admin('POST', '/admin/components/node/resume');
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'ok' } })).content[0].text, 'ok');
    assert.equal((await node.admin('POST', '/admin/components/transport:http/halt', { reason: 'network maintenance' })).status, 200);
    const closed = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(closed.status, 503);
    assert.match(closed.response.error.message, /transport halted \(network maintenance\)/);
    assert.ok(closed.headers.get('retry-after'));
    assert.equal((await node.admin('POST', '/admin/components/transport:http/resume')).status, 200);
    assert.equal((await s.call('tools/call', { name: 'echo', arguments: { text: 'open again' } })).content[0].text, 'open again');
    node.child.kill('SIGTERM');
    await node.exited;
  });
});
