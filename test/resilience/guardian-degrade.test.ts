/**
 * Degradation mode through a real process: a node with `--max-old-space-size=128` and a tool that
 * retains heap enters degradation (new sessions 503 ANDON_DEGRADED, the existing session served,
 * readiness fails, "System degraded" reaches a real webhook receiver, `andon status` shows it) and
 * leaves it when the memory is released (sessions admitted, the alert resolved, ready again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session2025 } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';
import { guardianFleet, guardianOf, receiver, sleep, until } from './guardian-node.js';

const fresh = guardianFleet('andon-guardian-degrade-');

test('retained memory degrades a 128 MB node: new sessions 503, old ones served, alert delivered, not ready, `andon status` shows it; released memory ends it', async () => {
  const hook = await receiver();
  const n = await fresh(hook.url);
  const node = await n.start();
  let st = await guardianOf(node);
  assert.equal(st.mode, 'normal', `starts normal at ${st.pressure}`);

  const a = new Session2025(node.url);
  assert.equal((await a.initialize()).status, 200);

  // Retain 8 MB at a time, waiting two samples after each, until the guardian degrades the node.
  for (let i = 0; i < 12 && st.mode !== 'degraded'; i++) {
    await a.call('tools/call', { name: 'retain', arguments: { mb: 8 } });
    await sleep(250);
    st = await guardianOf(node);
  }
  assert.equal(st.mode, 'degraded', `degraded (pressure ${st.pressure})`);
  assert.match(st.reason!, /^heap at \d+% of its limit \(\d+ of 128 MB\)/);

  const status = runCli(['status', '--ops-url', node.opsUrl, '--token', node.token()]);
  const refused = await new Session2025(node.url).initialize();
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.response!.error.data.code, 'ANDON_DEGRADED');
  assert.equal((await a.call('tools/call', { name: 'echo', arguments: { text: 'still served' } })).content[0].text, 'still served');
  const ready = await fetch(`${node.opsUrl}/health/ready`);
  assert.equal(ready.status, 503, 'readiness fails while degraded');
  assert.match(await ready.text(), /degraded: heap at/);
  const alert = await until('the "System degraded" alert', () => hook.got.find((x) => x.title === 'System degraded'));
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.action, 'trigger');
  assert.equal(alert.context.resource, 'heap');
  const out = await status;
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^degradation: DEGRADED since .*heap at \d+% of its limit.*rate limits at 50%; refused \{"initialize":1/m);
  assert.match(out.stdout, /^pressure: \d+% \(heap\) — heap \d+%/m);
  const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
  assert.match(metrics, /^andon_degradation_active 1$/m);
  assert.match(metrics, /^andon_degradation_refused_total\{what="initialize"\} 1$/m);

  // Release: pressure under 40 % for two samples ends degradation; sessions are admitted again.
  await a.call('tools/call', { name: 'release', arguments: {} });
  await until('the end of degradation', async () => (await guardianOf(node)).mode !== 'degraded');
  assert.equal((await new Session2025(node.url).initialize()).status, 200);
  const resolved = await until('the resolve of "System degraded"', () => hook.got.find((x) => x.title === 'System recovered from degradation'));
  assert.equal(resolved.action, 'resolve');
  assert.ok(hook.got.some((x) => x.title === 'Resource pressure high' && x.severity === 'warning'), 'the warning alert came first');
  assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);
  node.child.kill('SIGKILL');
});
