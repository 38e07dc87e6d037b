/**
 * `bench/cluster.ts` (npm run bench:cluster) cannot rot: it runs here with tiny parameters against
 * its own redis-server and two real nodes. Performance is not asserted (--min-ratio 0): the test
 * checks that the run completes, both nodes answered every call, every SSE event was delivered, and
 * the JSON report carries every field docs/performance.md quotes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';

const BENCH = resolve(DIST, 'bench/cluster.js');

function run(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Its own process group: on a timeout the bench, its nodes and its redis-server go together.
  const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`bench did not finish within ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

test('the cluster bench runs end to end: both nodes answer every call, every SSE event arrives, the report has its fields', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's4-cluster-bench-test-'));
  try {
    const json = join(dir, 'cluster.json');
    const rounds = 2;
    const calls = 300;
    const r = await run(['--rounds', String(rounds), '--calls', String(calls), '--concurrency', '16', '--sessions', '40', '--events', '200', '--sse-rounds', '1', '--append-events', '800', '--min-ratio', '0', '--json', json], 280_000);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /redis\/file throughput: \d+\.\d\d \(median of 2 paired per-round ratios/);
    assert.match(r.stdout, /bytes\/session/);
    assert.match(r.stdout, /SSE append: memory/);
    const rep = JSON.parse(await readFile(json, 'utf8'));
    for (const k of ['file', 'redis']) {
      const t = rep.throughput[k];
      assert.equal(t.callsSent, rounds * calls);
      assert.equal(t.callsAnswered, rounds * calls, `${k}: every call answered with a result`);
      assert.equal(t.errors, 0);
      assert.equal(t.rounds.length, rounds);
      for (const f of ['rps', 'p50Ms', 'p99Ms', 'cpuPerCallUs']) assert.ok(Number.isFinite(t[f]) && t[f] > 0, `${k}.${f} = ${t[f]}`);
      const d = rep.sse.delivery[k];
      assert.equal(d.delivered, d.sent, `${k}: every SSE event delivered`);
      assert.ok(d.eventsPerSec > 0 && Number.isFinite(d.cpuPerEventUs));
    }
    assert.ok(Number.isFinite(rep.throughput.redis.redisServerCpuPerCallUs));
    assert.equal(rep.throughput.ratio.perRound.length, rounds);
    assert.ok(rep.throughput.ratio.median > 0);
    assert.equal(rep.footprint.sessions, 40);
    assert.equal(rep.footprint.sessionKeysAdded, 40, 'each session is its own record in Redis');
    assert.equal(rep.footprint.errors, 0);
    for (const f of ['bytesPerSession', 'sessionRecordBytes', 'sessionsHashBytesPerSession', 'bytesPerJournaledCall']) assert.ok(Number.isFinite(rep.footprint[f]), `footprint.${f} = ${rep.footprint[f]}`);
    assert.ok(rep.footprint.sessionRecordBytes > 0);
    for (const f of ['memoryStoreUsPerEvent', 'redisSyncUsPerEvent', 'redisUntilAckedUsPerEvent', 'redisNodeCpuUsPerEvent', 'redisAwaitedAppendUs', 'redisBytesPerEvent']) assert.ok(Number.isFinite(rep.sse.append[f]), `sse.append.${f} = ${rep.sse.append[f]}`);
    assert.equal(rep.pass.allAnswered, true);
    assert.equal(rep.pass.sseDelivered, true);
    assert.equal(typeof rep.pass.ratioAtLeastMin, 'boolean');
    assert.ok(rep.date && rep.node && rep.machine.cpus > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
