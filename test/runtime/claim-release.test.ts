/** Giving back a request-id claim whose answer was lost: retried at most every second, bounded, then given up and logged. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseLost } from '../../src/runtime/claim-release.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { TestClock } from '../../src/util/clock.js';
import type { Logger } from '../../src/util/logger.js';

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const note = (_o: unknown, msg?: string) => void lines.push(String(msg));
  const l = { lines, error: note, warn: note, info: note, debug: note, trace: note, fatal: note, child: () => l } as unknown as Logger & { lines: string[] };
  return l;
}

/** A store whose unclaim fails while `down` (a stalled Redis), counting the attempts. */
class FlakyStore extends MemoryStore {
  down = true;
  attempts = 0;
  released: string[] = [];
  async unclaim(_ns: string, key: string, owner: string): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('store unclaim: no answer from Redis within 2000 ms');
    this.released.push(`${key}:${owner}`);
  }
}

test('a lost claim is given back within a second of the store answering again (backoff capped at 1 s)', async () => {
  const clock = new TestClock();
  const store = new FlakyStore();
  const log = logger();
  const before = clock.scheduled.length;
  releaseLost(store, 'journal', 's1:string:op-1', 'log-a:1', clock, log);
  // A 10-second outage: every attempt fails; no wait between attempts exceeds 1 s.
  await clock.advance(10_000);
  assert.ok(store.attempts >= 10, `retried through the outage: ${store.attempts} attempts`);
  assert.ok(clock.scheduled.slice(before).every((ms) => ms <= 1_000), `waits ${JSON.stringify(clock.scheduled.slice(before))}`);
  store.down = false;
  await clock.advance(1_000);
  assert.deepEqual(store.released, ['s1:string:op-1:log-a:1'], 'given back at the first attempt after the store returned');
  assert.ok(log.lines.some((l) => /gave back a request-id claim/.test(l)));
});

test('a store that never answers: the give-back stops after its attempts and says so', async () => {
  const clock = new TestClock();
  const store = new FlakyStore();
  const log = logger();
  releaseLost(store, 'journal', 's1:string:op-2', 'log-a:2', clock, log);
  await clock.advance(120_000);
  assert.equal(store.attempts, 40);
  assert.ok(log.lines.some((l) => /could not give back a request-id claim/.test(l)), log.lines.join('\n'));
});
