/**
 * Rate limits shared through Redis (RateLimiterRedis on the store's client): one client session
 * sending to two real `andon serve` nodes alternately is admitted its per-client limit once, not
 * once per node; while Redis is stalled each node limits on its own (in-memory insurance) and
 * every request is still answered; after Redis returns the counts are shared again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { Session2025, post } from '../helpers/mcp-http.js';
import { startRedis } from '../helpers/redis.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-redis-rl-');
const redis = await startRedis();
// 20 points per 4 s window per client (rate-limiter-flexible's fixed window of `burst` points).
const PER_SEC = 5;
const BURST_SEC = 4;
const LIMIT = PER_SEC * BURST_SEC;

async function redisNode(prefix: string) {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  await writeFile(config, `store:\n  kind: redis\n  prefix: ${prefix}\n  commandTimeoutMs: 400\nrateLimits:\n  perClient:\n    messagesPerSec: ${PER_SEC}\n  burstSec: ${BURST_SEC}\n`);
  return f.start({ ANDON_CONFIG: config, ANDON_REDIS_URL: redis.url });
}

/** Sends `n` pings of one session alternately to `urls`; counts the admitted ones (200) and the refused ones (429). */
async function alternate(urls: string[], s: Session2025, n: number) {
  let admitted = 0;
  let refused = 0;
  const perNode = urls.map(() => 0);
  for (let i = 0; i < n; i++) {
    const r = await post(urls[i % urls.length]!, { jsonrpc: '2.0', id: i, method: 'ping' }, s.headers());
    if (r.status === 200) {
      admitted++;
      perNode[i % urls.length]!++;
    } else if (r.status === 429) refused++;
    else assert.fail(`unexpected ${r.status}: ${r.text}`);
  }
  return { admitted, refused, perNode };
}

test('one client on two nodes gets its per-client limit once (shared in Redis); during a Redis stall each node limits alone', async () => {
  const prefix = `rl-${randomUUID()}`;
  const [a, b] = await Promise.all([redisNode(prefix), redisNode(prefix)]);
  const s = new Session2025(a.url);
  await s.initialize();
  const limits = await a.admin('GET', '/admin/rate-limits');
  assert.equal(limits.body.store, 'redis', JSON.stringify(limits.body));

  const shared = await alternate([a.url, b.url], s, 2 * LIMIT);
  // In-process counts would admit LIMIT on each node (2 × LIMIT); shared counts admit LIMIT in all.
  assert.ok(shared.admitted >= LIMIT - 1 && shared.admitted <= LIMIT + 1, `admitted ${shared.admitted} of ${2 * LIMIT} (limit ${LIMIT}; per node ${shared.perNode})`);
  assert.ok(shared.refused >= LIMIT - 1);

  // Redis stalls: the insurance limiter of each node decides; every request is answered.
  await new Promise((r) => setTimeout(r, BURST_SEC * 1000 + 100)); // the Redis window ends
  redis.pause();
  try {
    const t0 = Date.now();
    const stalled = await alternate([a.url, b.url], s, 3 * LIMIT);
    const took = Date.now() - t0;
    // Each node admits up to LIMIT on its own: between LIMIT and 2 × LIMIT in all.
    assert.ok(stalled.admitted > LIMIT && stalled.admitted <= 2 * LIMIT, `admitted ${stalled.admitted} during the stall (per node ${stalled.perNode})`);
    assert.ok(took < 6_000, `${3 * LIMIT} requests took ${took} ms during the stall`);
  } finally {
    redis.resume();
  }
  // Redis answers again: the counts are shared again (once the windows of the stall have ended).
  await new Promise((r) => setTimeout(r, BURST_SEC * 1000 + 100));
  const again = await alternate([a.url, b.url], s, 2 * LIMIT);
  assert.ok(again.admitted >= LIMIT - 1 && again.admitted <= LIMIT + 1, `admitted ${again.admitted} after the stall (per node ${again.perNode})`);
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  assert.deepEqual(await b.exited, { code: 0, signal: null });
});
