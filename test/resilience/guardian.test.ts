/** The resource guardian's mode machine on a TestClock with an injected sampler. */
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { TestClock } from '../../src/util/clock.js';
import { events, type GuardianEvent, type DegradedEvent } from '../../src/events/index.js';
import { ResourceGuardian, slopeOf, type DegradationControl, type GuardianOptions } from '../../src/resilience/guardian.js';
import { maxOldSpaceFromFlags, processSampler, readFdLimit, type ResourceSample } from '../../src/resilience/sampler.js';

const MB = 1024 * 1024;
/** The mode as a plain string (read fresh: each sample may change it). */
const modeOf = (g: ResourceGuardian): string => g.mode.kind;

/** A sampler whose heap ratio (against a 100 MB limit) and event-loop delay the test sets. */
function fakeSampler() {
  const s = { heap: 0.1, loopMs: 0, fds: 10 };
  return {
    s,
    sampler: {
      sample: (): ResourceSample => ({
        heapUsedBytes: s.heap * 100 * MB,
        heapLimitBytes: 100 * MB,
        rssBytes: 50 * MB,
        memoryLimitBytes: undefined,
        fds: s.fds,
        fdLimit: 1000,
        eventLoopDelayMs: s.loopMs,
        eventLoopUtilization: 0.1,
      }),
    },
  };
}

function recorder(): DegradationControl & { calls: string[] } {
  const calls: string[] = [];
  return { calls, enter: (_r, f) => void calls.push(`enter ${f}`), setFactor: (f) => void calls.push(`factor ${f}`), exit: () => void calls.push('exit') };
}

const unsubs: Array<() => void> = [];
afterEach(() => {
  for (const u of unsubs.splice(0)) u();
});

function listen<T>(ch: { subscribe(f: (m: unknown) => void): void; unsubscribe(f: (m: unknown) => void): unknown }): T[] {
  const seen: T[] = [];
  const f = (m: unknown) => void seen.push(m as T);
  ch.subscribe(f);
  unsubs.push(() => void ch.unsubscribe(f));
  return seen;
}

function make(extra: Partial<GuardianOptions> = {}) {
  const clock = new TestClock();
  const { s, sampler } = fakeSampler();
  const d = recorder();
  const hard: string[] = [];
  const g = new ResourceGuardian({ sampler, clock, intervalMs: 1000, degradation: d, onHard: (r) => void hard.push(r), ...extra }).start();
  return { clock, s, d, g, hard };
}

describe('resource guardian', () => {
  test('warning at 85 % alerts only; 90 % degrades (rate limits halved); it stays degraded until 3 calm samples under 80 %, then restores 0.75 → 1', async () => {
    const { clock, s, d, g } = make();
    const guardian = listen<GuardianEvent>(events.guardian);
    const degraded = listen<DegradedEvent>(events.degraded);
    s.heap = 0.5;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'normal');
    s.heap = 0.86;
    await clock.advance(1000);
    assert.deepEqual(guardian.map((e) => e.action), ['warning']);
    assert.deepEqual(d.calls, [], 'a warning changes nothing');
    s.heap = 0.91;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'degraded');
    assert.deepEqual(d.calls, ['enter 0.5']);
    assert.equal(degraded.length, 1);
    assert.match(degraded[0]!.reason!, /heap at 91% of its limit \(91 of 100 MB\)/);
    assert.equal(degraded[0]!.source, 'guardian');
    // Hysteresis: under degrade but over recover keeps it degraded; a bump resets the calm count.
    for (const v of [0.85, 0.79, 0.79, 0.82, 0.79, 0.79]) {
      s.heap = v;
      await clock.advance(1000);
      assert.equal(modeOf(g), 'degraded', `still degraded at ${v}`);
    }
    s.heap = 0.79;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'restoring');
    assert.deepEqual(d.calls, ['enter 0.5', 'exit', 'factor 0.75']);
    assert.equal(degraded.at(-1)!.reason, null);
    const recover = guardian.find((e) => e.action === 'recover')!;
    assert.equal(recover.durationMs, 7000);
    s.heap = 0.5;
    await clock.advance(2000);
    assert.equal(modeOf(g), 'restoring', 'the next step waits for 3 calm samples');
    await clock.advance(1000);
    assert.equal(modeOf(g), 'normal');
    assert.deepEqual(d.calls, ['enter 0.5', 'exit', 'factor 0.75', 'factor 1']);
    assert.deepEqual(guardian.map((e) => e.action), ['warning', 'degrade', 'warning-cleared', 'recover', 'restore-step']);
    assert.equal(g.status().factor, 1);
    g.stop();
  });

  test('pressure back over degrade while restoring degrades again at half rate', async () => {
    const { clock, s, d, g } = make({ recoverSamples: 1 });
    s.heap = 0.95;
    await clock.advance(1000);
    s.heap = 0.5;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'restoring');
    s.heap = 0.92;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'degraded');
    assert.deepEqual(d.calls, ['enter 0.5', 'exit', 'factor 0.75', 'enter 0.5']);
    g.stop();
  });

  test('the hard limit calls onHard once and stops sampling; a slow event loop degrades but never stops the node', async () => {
    const { clock, s, g, hard, d } = make();
    s.loopMs = 2500;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'degraded');
    assert.match(g.status().reason!, /eventLoop at 250% of its limit \(event-loop delay p99 2500 ms\)/);
    assert.deepEqual(hard, [], 'event-loop delay is not a hard limit');
    s.loopMs = 0;
    s.heap = 0.98;
    await clock.advance(1000);
    assert.equal(hard.length, 1);
    assert.match(hard[0]!, /heap at 98% of its limit .*hard limit 97%/);
    assert.equal(modeOf(g), 'stopped');
    assert.equal(clock.pending, 0, 'sampling stopped');
    await clock.advance(5000);
    assert.equal(hard.length, 1);
    assert.deepEqual(d.calls, ['enter 0.5']);
  });

  test('without onHard (emergencyStop: false) the hard limit only degrades', async () => {
    const { clock, s, g } = make({ onHard: undefined });
    s.heap = 0.99;
    await clock.advance(1000);
    assert.equal(modeOf(g), 'degraded');
    g.stop();
  });

  test('file descriptors count against the soft limit', async () => {
    const { clock, s, g } = make();
    s.fds = 950;
    const e = g.check();
    assert.equal(e.resource, 'fds');
    assert.equal(e.pressure, 0.95);
    assert.equal(modeOf(g), 'degraded');
    await clock.advance(0);
    g.stop();
  });

  test('the trend predicts the time to the hard limit from a least-squares slope; null while falling or flat', async () => {
    assert.equal(slopeOf([0, 1000, 2000], [0.1, 0.2, 0.3])!.toFixed(6), (0.0001).toFixed(6));
    assert.equal(slopeOf([0], [1]), undefined);
    const { clock, s, g } = make({ trendSamples: 4 });
    const ms: Array<number | null> = [];
    for (const v of [0.5, 0.55, 0.6]) {
      s.heap = v;
      await clock.advance(1000);
      ms.push(g.status().msToHard);
    }
    assert.equal(ms[0], null, 'one point is no trend');
    // 0.05 per second; from 0.6 to 0.97 is 0.37 → 7.4 s.
    assert.equal(ms[2], 7400);
    s.heap = 0.3;
    for (let i = 0; i < 4; i++) await clock.advance(1000);
    assert.equal(g.status().msToHard, null);
    g.stop();
  });

  test('degraded or restoring by the heap and not under recover, each sample asks for a full collection (at most once a second); never in normal mode or for another resource', async () => {
    const collects: number[] = [];
    const f = fakeSampler();
    const c = { ...make({ sampler: { ...f.sampler, collect: () => void collects.push(c.clock.now()) } }), s: f.s };
    c.s.heap = 0.85;
    await c.clock.advance(1000);
    assert.deepEqual(collects, [], 'normal mode: no collection');
    c.s.heap = 0.95;
    await c.clock.advance(1000);
    assert.equal(modeOf(c.g), 'degraded');
    assert.equal(collects.length, 1, 'degraded by the heap, over recover: collect');
    c.s.heap = 0.85;
    await c.clock.advance(1000);
    assert.equal(collects.length, 2);
    c.s.heap = 0.5;
    for (let i = 0; i < 3; i++) await c.clock.advance(1000);
    assert.equal(modeOf(c.g), 'restoring');
    assert.equal(collects.length, 2, 'under recover: no collection');
    c.s.heap = 0.85;
    await c.clock.advance(1000);
    assert.equal(modeOf(c.g), 'restoring');
    assert.equal(collects.length, 3, 'restoring, over recover: collect');
    // A slow event loop degrades, but collecting would not help it.
    c.s.heap = 0.1;
    c.s.loopMs = 2000;
    await c.clock.advance(1000);
    assert.equal(modeOf(c.g), 'degraded');
    assert.equal(collects.length, 3);
    c.g.stop();
  });

  test('thresholds out of order are refused', () => {
    const { sampler } = fakeSampler();
    assert.throws(() => new ResourceGuardian({ sampler, recover: 0.9, degrade: 0.9 }), /recover < degrade/);
    assert.throws(() => new ResourceGuardian({ sampler, degrade: 0.98, hard: 0.97 }), /degrade <= hard/);
  });

  test('the process sampler reads this process: heap against the old-generation limit, fds against the soft limit', () => {
    const p = processSampler();
    try {
      const a = p.sample();
      assert.ok(a.heapUsedBytes > 0 && a.heapUsedBytes < a.heapLimitBytes);
      assert.ok(a.rssBytes > a.heapUsedBytes / 4);
      if (process.platform === 'linux') {
        assert.equal(a.fdLimit, readFdLimit());
        assert.ok(a.fds! > 3 && a.fds! < a.fdLimit!);
      }
      assert.ok(a.eventLoopUtilization >= 0 && a.eventLoopUtilization <= 1);
    } finally {
      p.close?.();
    }
  });

  test('the heap limit is --max-old-space-size when given (command line over NODE_OPTIONS), else unknown', () => {
    assert.equal(maxOldSpaceFromFlags(['--max-old-space-size=128'], ''), 128 * MB);
    assert.equal(maxOldSpaceFromFlags([], '--inspect --max_old_space_size=256'), 256 * MB);
    assert.equal(maxOldSpaceFromFlags(['--max-old-space-size', '64'], '--max-old-space-size=512'), 64 * MB);
    assert.equal(maxOldSpaceFromFlags(['--max-old-space-size=100', '--max-old-space-size=200'], ''), 200 * MB, 'the last one wins, as in V8');
    assert.equal(maxOldSpaceFromFlags([], ''), undefined);
  });
});
