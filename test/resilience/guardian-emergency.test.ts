/**
 * The emergency stop through a real process: a node with `--max-old-space-size=128` whose tool
 * retains heap past the hard limit stops without a drain, exits 75 with `node` persisted
 * halted_fatal and the "Emergency shutdown" alert delivered to a real webhook receiver; restarted
 * on the same state directory it answers 503 ANDON_NODE_HALTED until `andon resume node`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session2025 } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';
import { guardianFleet, receiver, sleep } from './guardian-node.js';

const fresh = guardianFleet('andon-guardian-stop-');

test('past the hard limit the node stops (exit 75, halted_fatal persisted, alert delivered) and after a restart answers 503 until `andon resume node`', async () => {
  const hook = await receiver();
  const n = await fresh(hook.url);
  const node = await n.start();
  const a = new Session2025(node.url);
  assert.equal((await a.initialize()).status, 200);

  for (let i = 0; i < 20 && node.child.exitCode === null; i++) {
    await a.request('tools/call', { name: 'retain', arguments: { mb: 10 } }).catch(() => undefined);
    await sleep(250);
  }
  const exit = await Promise.race([node.exited, sleep(6000).then(() => undefined)]);
  assert.deepEqual(exit, { code: 75, signal: null }, node.stderr().slice(-2000));
  assert.match(node.stderr(), /EMERGENCY STOP: resource hard limit reached/);
  const emergency = hook.got.find((x) => x.title === 'Emergency shutdown');
  assert.ok(emergency, `the emergency alert was delivered before exit: ${JSON.stringify(hook.got.map((x) => x.title))}`);
  assert.equal(emergency.severity, 'critical');
  assert.equal(emergency.context.resume, 'andon resume node');

  // Restart on the same state directory (no memory cap this time): halted until resumed.
  const again = await n.start({ NODE_OPTIONS: '' });
  const halted = await new Session2025(again.url).initialize();
  assert.equal(halted.status, 503);
  assert.equal(halted.response!.error.data.code, 'ANDON_NODE_HALTED');
  assert.match(halted.response!.error.message, /emergency stop: heap at \d+% of its limit \(\d+ of 128 MB\) \(hard limit 70%\)/);
  assert.equal((await fetch(`${again.opsUrl}/health/ready`)).status, 503);
  const comps = await again.admin('GET', '/admin/components');
  const row = comps.body.components.find((c: { id: string }) => c.id === 'node');
  assert.equal(row.state, 'halted_fatal');

  const resume = await runCli(['resume', 'node', '--ops-url', again.opsUrl, '--token', again.token()]);
  assert.equal(resume.code, 0, resume.stderr);
  const s = new Session2025(again.url);
  assert.equal((await s.initialize()).status, 200);
  const back = await s.request('tools/call', { name: 'echo', arguments: { text: 'back' } });
  assert.equal(back.response?.result?.content[0].text, 'back', `${back.text}\n${again.stderr().slice(-3000)}`);
  again.child.kill('SIGKILL');
});
