import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory-store.js';
import { HaltRegistry } from '../../src/runtime/halt.js';
import { HaltedError, Supervisor, UnknownComponentError, type ChildLink, type ChildSpec } from '../../src/runtime/supervisor.js';
import { TestClock } from '../../src/util/clock.js';

function setup(strategy: 'one_for_one' | 'one_for_all' | 'rest_for_one' = 'one_for_one') {
  const clock = new TestClock();
  const store = new MemoryStore(clock);
  const halts = new HaltRegistry(store, clock);
  const events: string[] = [];
  const links = new Map<string, ChildLink>();
  const sup = new Supervisor({ id: 'root', strategy, halts, clock, intensity: { maxRestarts: 3, windowMs: 10_000 }, backoff: { baseMs: 100, maxMs: 1000 } });
  const child = (id: string, extra: Partial<ChildSpec> = {}): ChildSpec => ({
    id,
    kind: id.split(':')[0]!,
    start: (link) => {
      events.push(`start ${id}`);
      links.set(id, link);
      return { stop: (reason) => void events.push(`stop ${id} (${reason})`) };
    },
    ...extra,
  });
  return { clock, store, halts, sup, events, links, child };
}

describe('Supervisor', () => {
  test('starts in order, stops in reverse order', async () => {
    const { sup, events, child } = setup();
    for (const id of ['store', 'transport:http', 'tool:a']) await sup.add(child(id));
    await sup.start();
    await sup.stop('shutdown');
    assert.deepEqual(events, ['start store', 'start transport:http', 'start tool:a', 'stop tool:a (shutdown)', 'stop transport:http (shutdown)', 'stop store (shutdown)']);
  });

  test('one_for_one restarts only the crashed child, after exponential backoff', async () => {
    const { sup, events, links, child, clock } = setup();
    await sup.add(child('a'));
    await sup.add(child('b'));
    await sup.start();
    events.length = 0;
    links.get('a')!.crashed(new Error('boom'));
    await clock.advance(99);
    assert.deepEqual(events, ['stop a (crashed: boom)'], 'the crashed child is told to stop at once');
    await clock.advance(1);
    assert.deepEqual(events, ['stop a (crashed: boom)', 'start a']);
    events.length = 0;
    links.get('a')!.crashed(new Error('boom 2'));
    await clock.advance(199);
    assert.deepEqual(events, ['stop a (crashed: boom 2)'], 'second restart waits 200 ms');
    await clock.advance(1);
    assert.deepEqual(events, ['stop a (crashed: boom 2)', 'start a']);
    assert.equal(sup.list().find((c) => c.id === 'a')!.restarts, 2);
    assert.equal(sup.list().find((c) => c.id === 'a')!.lastError, 'boom 2');
  });

  test('one_for_all and rest_for_one restart the right siblings in start order', async () => {
    for (const [strategy, expected] of [
      ['one_for_all', ['stop b (crashed: x)', 'stop c (crash of sibling)', 'stop a (crash of sibling)', 'start a', 'start b', 'start c']],
      ['rest_for_one', ['stop b (crashed: x)', 'stop c (crash of sibling)', 'start b', 'start c']],
    ] as const) {
      const { sup, events, links, child, clock } = setup(strategy);
      for (const id of ['a', 'b', 'c']) await sup.add(child(id));
      await sup.start();
      events.length = 0;
      links.get('b')!.crashed(new Error('x'));
      await clock.advance(100);
      assert.deepEqual(events, expected, strategy);
    }
  });

  test('exceeding the restart intensity halts the child (halted_fatal, persisted) and stops the loop', async () => {
    const { sup, events, links, child, clock, halts, store } = setup();
    await sup.add(child('tool:flaky'));
    await sup.start();
    for (let i = 0; i < 3; i++) {
      links.get('tool:flaky')!.crashed(new Error(`fail ${i}`));
      await clock.advance(1000);
    }
    assert.equal(events.filter((e) => e === 'start tool:flaky').length, 4);
    links.get('tool:flaky')!.crashed(new Error('fail 3'));
    await clock.advance(10_000);
    assert.equal(events.filter((e) => e === 'start tool:flaky').length, 4, 'no restart after the intensity is exceeded');
    assert.equal(halts.state('tool:flaky'), 'halted_fatal');
    assert.match(halts.get('tool:flaky')!.reason, /restart intensity exceeded/);
    assert.equal((await store.get<{ state: string }>('halt', 'tool:flaky'))!.state, 'halted_fatal');
    assert.equal(clock.pending, 0, 'no timers left: no restart loop');
    await assert.rejects(sup.restart('tool:flaky'), HaltedError);
    await sup.resume('tool:flaky');
    assert.equal(sup.list()[0]!.state, 'running');
    assert.equal(halts.isHalted('tool:flaky'), false);
  });

  test('restarts outside the sliding window do not count', async () => {
    const { sup, events, links, child, clock, halts } = setup();
    await sup.add(child('w'));
    await sup.start();
    for (let i = 0; i < 8; i++) {
      links.get('w')!.crashed(new Error('slow leak'));
      await clock.advance(6_000);
    }
    assert.equal(halts.isHalted('w'), false);
    assert.equal(events.filter((e) => e === 'start w').length, 9);
  });

  test('halted components are not started, manual halt/resume round-trips, unknown ids throw', async () => {
    const { sup, events, child, halts } = setup();
    await halts.set('tool:b', 'halted_manual', 'maintenance');
    await sup.add(child('tool:a'));
    await sup.add(child('tool:b'));
    await sup.start();
    assert.deepEqual(events, ['start tool:a']);
    assert.equal(sup.list()[1]!.state, 'halted_manual');
    await sup.halt('tool:a', 'bad deploy');
    assert.equal(halts.get('tool:a')!.reason, 'bad deploy');
    assert.deepEqual(events.slice(-1), ['stop tool:a (bad deploy)']);
    await sup.resume('tool:b');
    assert.deepEqual(events.slice(-1), ['start tool:b']);
    assert.throws(() => sup.halt('nope', 'x'), UnknownComponentError);
  });

  test('a temporary child is not restarted; a transient child that exits normally is not restarted', async () => {
    const { sup, events, links, child, clock } = setup();
    await sup.add(child('t', { restart: 'temporary' }));
    await sup.add(child('tr', { restart: 'transient' }));
    await sup.start();
    events.length = 0;
    links.get('t')!.crashed(new Error('gone'));
    links.get('tr')!.exited();
    await clock.advance(5000);
    assert.deepEqual(events, ['stop t (crashed: gone)']);
    assert.equal(sup.list()[0]!.state, 'failed');
    assert.equal(sup.list()[1]!.state, 'stopped');
  });

  test('a child that does not stop within shutdownMs is abandoned, and shutdown continues', async () => {
    const { sup, events, clock, halts } = setup();
    void halts;
    await sup.add({ id: 'stuck', kind: 'x', shutdownMs: 50, start: () => ({ stop: () => new Promise<void>(() => {}) }) });
    await sup.add({ id: 'ok', kind: 'x', start: () => ({ stop: () => void events.push('stop ok') }) });
    await sup.start();
    const stopping = sup.stop();
    await clock.advance(50);
    await stopping;
    assert.deepEqual(events, ['stop ok']);
  });
});
