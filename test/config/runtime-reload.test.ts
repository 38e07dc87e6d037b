/**
 * The reload target on a real runtime (in-process, memory store): new drain budgets take effect at
 * the next drain, the alert manager is reconfigured in place, and POST /admin/config/reload answers
 * 409 on a runtime embedded without a reloader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../src/server/server.js';
import { createRuntime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { runtimeReloadTarget } from '../../src/config/runtime-target.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { withTimeout } from '../helpers/wait.js';

function server() {
  const s = createServer({ name: 'reload-test', version: '1.0.0' });
  // Never finishes on its own: only the drain's abort ends it.
  s.tool('hang', { inputSchema: { type: 'object' } }, (_args, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))));
  return s;
}

test('a reloaded drain grace applies to the next drain', async () => {
  const options: RuntimeOptions = {
    server: server(),
    store: new MemoryStore(),
    http: { port: 0 },
    ops: false,
    signals: false,
    observability: false,
    drain: { graceMs: 600_000, haltMs: 5_000 },
    adminToken: 'test-token-123456',
  };
  const rt = createRuntime(options);
  await rt.start();
  const target = runtimeReloadTarget(rt, { options });
  assert.equal(target.prepareAlerts, undefined, 'alerting is off here: an alerts change needs a restart');
  target.setDrain!({ graceMs: 50, haltMs: 2_000 });
  const s = new Session2025(rt.url!);
  await s.initialize();
  const call = s.request('tools/call', { name: 'hang', arguments: {} });
  const end = Date.now() + 5_000;
  while (rt.server.inflightRequests().length === 0) {
    assert.ok(Date.now() < end, 'the call reached the server');
    await new Promise((r) => setTimeout(r, 5));
  }
  // With the old 10-minute grace this would time out; the reloaded 50 ms grace ends it.
  const r = await withTimeout(rt.drain('test'), 10_000, 'drain with the reloaded grace');
  assert.equal(r.graceExpired, true);
  assert.equal(r.forced, 1);
  await call.catch(() => undefined);
});

test('POST /admin/config/reload without a reloader answers 409; with one, its report', async () => {
  const options: RuntimeOptions = { server: server(), store: new MemoryStore(), http: false, ops: { port: 0 }, signals: false, observability: false, adminToken: 'test-token-123456' };
  const rt = createRuntime(options);
  await rt.start();
  try {
    const post = () => fetch(`${rt.ops!.url}/admin/config/reload`, { method: 'POST', headers: { authorization: 'Bearer test-token-123456' } });
    const none = await post();
    assert.equal(none.status, 409);
    assert.match(((await none.json()) as { error: string }).error, /ANDON_CONFIG_RELOAD_UNAVAILABLE/);
    rt.reloader = { reload: () => ({ ok: false, applied: [], needsRestart: [], errors: ['http.port: expected integer 0-65535, got "x"'] }) };
    const bad = await post();
    assert.equal(bad.status, 422);
    assert.deepEqual(((await bad.json()) as { errors: string[] }).errors, ['http.port: expected integer 0-65535, got "x"']);
    rt.reloader = { reload: () => ({ ok: true, applied: ['logging.level'], needsRestart: [], errors: [] }) };
    const ok = await post();
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { applied: string[] }).applied, ['logging.level']);
  } finally {
    await rt.drain('test');
  }
});
