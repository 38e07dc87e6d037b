/**
 * The CI size of `npm run load` (bench/load/run-load.ts): one `andon serve` node, 1,200 clients
 * (720 Streamable HTTP sessions holding a GET SSE stream, 240 WebSockets, 240 POST clients calling
 * a tool every ~3 s) opened by a worker process over 10 s, steady tools/call callers and a
 * notifier throughout. It proves: every client was opened and held (client side and the node's
 * own count), every tools/call answered without an error, every stream and WebSocket received
 * each of the three checked notifications exactly once, the node stayed up, and it let go of
 * every session once the clients left. No latency assertion: the machine is shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoad } from '../../bench/load/run-load.js';

const lines: string[] = [];
const log = (l: string) => lines.push(l);

test('1,200 mixed clients held on one node: no refusal, every tools/call answered, every notification delivered, sessions released', async () => {
  const clients = 1200;
  const s = await runLoad({ clients, rampSeconds: 10, holdSeconds: 2, steps: 2, callers: 4, callIntervalMs: 100, notifyMs: 2000, postIntervalMs: 3000, recoverSeconds: 20, log });
  const report = lines.join('\n');
  assert.ok(s.nodeAlive, `the node stayed up\n${report}`);
  assert.deepEqual(s.errors, {}, `no client error\n${JSON.stringify(s.firstErrors)}\n${report}`);
  const hold = s.steps.filter((r) => r.step.startsWith('hold')).at(-1)!;
  assert.ok(hold, report);
  assert.deepEqual({ sse: hold.held.sse, ws: hold.held.ws, post: hold.held.post }, { sse: 720, ws: 240, post: 240 }, `every client held\n${report}`);
  // The node's own count: the held clients plus the callers' and notifier's sessions.
  assert.ok(hold.serverSessions >= clients, `the node counts ${hold.serverSessions} sessions\n${report}`);
  assert.ok(hold.serverConnections >= clients, `the node counts ${hold.serverConnections} connections\n${report}`);
  assert.ok(s.calls.total > 50, `steady callers ran (${s.calls.total})`);
  assert.equal(s.calls.errors, 0, `every tools/call answered: ${s.calls.firstError}`);
  assert.ok(s.postClients.calls > 0, 'the POST clients called');
  assert.equal(s.postClients.errors, 0);
  assert.equal(s.notifications.streamsChecked, 960, `every stream and WebSocket checked\n${report}`);
  assert.ok(s.notifications.allStreamsGotAll, `each got the 3 notifications exactly once: ${JSON.stringify(s.notifications.deliveries)}`);
  assert.ok(s.notifications.received > 960 * 3, 'notifications during the ramp too');
  assert.ok(s.after.serverSessions <= 1, `sessions released after the clients left: ${s.after.serverSessions}\n${report}`);
});

test('constrained heap (--max-old-space-size=80): the guardian degrades before the ramp exhausts the heap, refuses new clients with ANDON_DEGRADED, the node stays up and leaves degradation once the clients are gone', async (t) => {
  lines.length = 0;
  const s = await runLoad({ scenario: 'heap', heapMb: 80, clients: 1800, rampSeconds: 8, holdSeconds: 2, steps: 2, callers: 2, callIntervalMs: 200, notifyMs: 2000, postIntervalMs: 3000, recoverSeconds: 45, log });
  const report = lines.join('\n');
  assert.equal(Math.round(s.heapLimitMiB), 80, report);
  assert.ok(s.nodeAlive, `the node stayed up\n${report}`);
  assert.ok(s.guardian.degradedAt !== undefined, `degraded\n${report}`);
  const refusals = Object.entries(s.errors);
  assert.ok(refusals.length > 0, `new clients were refused while degraded\n${report}`);
  for (const [kind, n] of refusals) assert.match(kind, /ANDON_DEGRADED/, `every client error is a degradation refusal (${kind}: ${n}: ${s.firstErrors[kind]})\n${report}`);
  assert.ok(s.peak.heapUsedMiB < 0.8 * 80, `the heap stayed under V8's abort zone (${s.peak.heapUsedMiB} MiB)\n${report}`);
  assert.ok(s.guardian.recoveredAt !== undefined && s.guardian.recoveredAt > s.guardian.degradedAt!, `recovered\n${report}`);
  // Not asserted: the mode at the very end. Heap used counts garbage V8 has not collected yet, and
  // this scenario's thresholds are low (about 45 % of an 80 MB heap), so an idle node right after
  // 1,800 clients left can cross them again for a few seconds (seen in CI: normal for 3 s, then
  // degraded at 36 MB with one session). Recovery is what the test asserts, above.
  t.diagnostic(`guardian at the end: ${s.after.mode} (heap ${s.after.heapUsedMiB} MiB, sessions ${s.after.serverSessions})`);
});
