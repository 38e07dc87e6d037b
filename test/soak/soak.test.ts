/**
 * The soak of issue 15 (bench/soak/soak.ts), CI-size: Redis + three `andon serve` nodes behind a
 * round-robin TCP proxy, 20 sessions subscribed (5 with GET streams), steady tools/call of a
 * non-idempotent tool, and a failure every 8 s — each kind once: a tool crash, a store stall
 * (Redis SIGSTOP within the command timeout), kill -9 of one node (restarted on its port and state
 * dir), a Redis stall over the command timeout. Then: no session lost (every one answers ping and
 * a call, never 404), no duplicate execution (every acknowledged operation ran exactly once, none
 * ran twice), every subscription fires exactly once, no node crashed. The memory trend is reported,
 * not asserted, at this size (the run is mostly warm-up). This test was skipped for one stop after
 * a stream missed the final touch's update in CI; the cause (a node adopting a session before the
 * subscription was written) is fixed and covered by test/cluster/redis-notify.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { CLI, DIST } from '../helpers/paths.js';
import { FAILURE_KINDS, runSoak } from '../../bench/soak/soak.js';
import { killSpawned } from '../../bench/soak/proc.js';

// A soak cut short (timeout) leaves nothing running.
after(killSpawned);

test('soak (CI size): a failure of each kind under steady load — no session lost, no duplicate execution, every subscription fires once', { timeout: 300_000 }, async (t) => {
  const s = await runSoak({
    cli: CLI,
    module: resolve(DIST, 'bench/soak/soak-server.js'),
    durationSec: 40,
    failureEverySec: 8,
    nodes: 3,
    sessions: 20,
    streams: 5,
    workers: 6,
    rate: 30,
    warmupSec: 10,
    trendMinSpanSec: 20,
    assertTrend: false,
    giveUpMs: 60_000,
    // Beside the other heavy tests on 2 cores, a 1 s event-loop delay (and the guardian shedding
    // new connections) comes from the neighbours: the soak's own failures are what is tested here.
    guardianEventLoopDelayMs: 5_000,
    log: (l) => t.diagnostic(l),
  });
  t.diagnostic(`totals ${JSON.stringify(s.totals)}; executions ${JSON.stringify(s.executions)}; sessions ${JSON.stringify(s.sessions)}; subscriptions ${JSON.stringify(s.subscriptions)}; tool restarts ${JSON.stringify(s.toolRestarts)}; refusals ${JSON.stringify(s.refusals)}; interrupted ${JSON.stringify(s.interruptedBy)}`);
  for (const f of s.failedSamples) t.diagnostic(`sample: ${f}`);
  for (const tr of s.trends) t.diagnostic(`memory ${tr.node}#${tr.lifetime} ${tr.fromSec}–${tr.toSec} s: RSS ${tr.rssStartMb.toFixed(0)} → ${tr.rssEndMb.toFixed(0)} MB, ${tr.rssSlopeMbPerMin.toFixed(2)} MB/min (reported, not asserted)`);
  // Every invariant (each violation names the session or operation and why).
  assert.deepEqual(s.violations, [], 'no invariant violated');
  assert.deepEqual([...new Set(s.failures.map((f) => f.kind))].sort(), [...FAILURE_KINDS].sort(), `each failure kind injected: ${JSON.stringify(s.failures)}`);
  assert.equal(s.unexpectedExits.length, 0);
  assert.equal(s.sessions.lost, 0);
  assert.equal(s.sessions.finalOk, 20, 'every session answered after the run');
  assert.equal(s.executions.duplicates, 0);
  assert.equal(s.executions.okNotOnce, 0);
  assert.ok(s.totals.ok > 100, `load ran: ${s.totals.ok} acknowledged operations`);
  assert.equal(s.subscriptions.streams, 20);
  assert.equal(s.subscriptions.fired, s.subscriptions.streams, 'every session\'s subscription fired once');
  // The load kept going after each failure: acknowledged operations in the last 8 s window too.
  const last = s.minutes.at(-1)!;
  assert.ok(last.ok > 0, 'operations acknowledged after the last failure');
});
