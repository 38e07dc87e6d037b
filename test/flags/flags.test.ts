/**
 * Feature flags below the process: the consistent hash (spread, stability, monotone in the
 * percentage), targeting rules and versions, validation; the registry over a store (persisted,
 * seeded only when absent, audit bounded, events); two registries on one real Redis (a change on
 * one node applies on the other, malformed announcements dropped); the OpenFeature provider
 * through the OpenFeature API answers what the registry answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { OpenFeature } from '@openfeature/server-sdk';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { TestClock, systemClock } from '../../src/util/clock.js';
import { nullLogger } from '../../src/util/logger.js';
import { events, type FlagChangeEvent } from '../../src/events/index.js';
import { isError } from '../../src/errors/catalogue.js';
import { FlagErrors } from '../../src/errors/flags.js';
import { AndonFlagProvider, FlagRegistry, bucket, evaluateFlag, type Flag } from '../../src/flags/index.js';
import { applyInput, compareVersions } from '../../src/flags/model.js';
import { startRedis } from '../helpers/redis.js';

const flag = (over: Partial<Flag>): Flag => ({ name: 'f', kind: 'percentage', enabled: true, percent: 50, rules: [], updatedAt: 0, updatedBy: 't', ...over });

test('the hash spreads keys evenly, is stable, and raising the percentage only adds clients', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `session:${randomUUID()}-${i}`);
  for (const p of [1, 10, 30, 50, 90]) {
    const on = keys.filter((k) => evaluateFlag(flag({ percent: p }), { key: k })[0]).length;
    assert.ok(Math.abs(on / 100 - p) < 1.5 + p * 0.05, `${p} %: ${on / 100} %`);
  }
  // Similar keys (sequential addresses) spread too.
  const ips = Array.from({ length: 2000 }, (_, i) => `ip:10.0.${i >> 8}.${i & 255}`).filter((k) => evaluateFlag(flag({ percent: 50 }), { key: k })[0]).length;
  assert.ok(ips > 900 && ips < 1100, `sequential addresses: ${ips} of 2000`);
  for (const k of keys.slice(0, 500)) {
    assert.equal(bucket('f', k), bucket('f', k));
    if (evaluateFlag(flag({ percent: 30 }), { key: k })[0]) assert.ok(evaluateFlag(flag({ percent: 60 }), { key: k })[0], 'a client in at 30 % is out at 60 %');
  }
  // Different flags pick different cohorts.
  const a = keys.slice(0, 1000).map((k) => evaluateFlag(flag({ name: 'a' }), { key: k })[0]);
  const b = keys.slice(0, 1000).map((k) => evaluateFlag(flag({ name: 'b' }), { key: k })[0]);
  const same = a.filter((v, i) => v === b[i]).length;
  assert.ok(same > 400 && same < 600, `flags a and b agree on ${same} of 1000`);
  assert.equal(evaluateFlag(flag({ percent: 0 }), { key: 'x' })[0], false);
  assert.equal(evaluateFlag(flag({ percent: 100 }), { key: 'x' })[0], true);
});

test('rules: first match decides, versions compare numerically, a disabled flag is off whatever its rules', () => {
  const f = flag({ percent: 0, rules: [{ action: 'exclude', clientName: 'bad', maxVersion: '2.0' }, { clientName: 'claude-desktop', minVersion: '1.2.0' }, { clientName: 'bad' }] });
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'claude-desktop', clientVersion: '1.10.0' }), [true, 'TARGETING_MATCH']);
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'claude-desktop', clientVersion: '1.9' }), [true, 'TARGETING_MATCH']);
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'claude-desktop', clientVersion: '1.1.99' }), [false, 'SPLIT']);
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'claude-desktop' }), [false, 'SPLIT']);
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'bad', clientVersion: '1.0' }), [false, 'TARGETING_MATCH']);
  assert.deepEqual(evaluateFlag(f, { key: 'k', clientName: 'bad', clientVersion: '3.0' }), [true, 'TARGETING_MATCH']);
  assert.deepEqual(evaluateFlag({ ...f, enabled: false }, { key: 'k', clientName: 'claude-desktop', clientVersion: '2.0' }), [false, 'DISABLED']);
  assert.deepEqual(evaluateFlag(flag({ kind: 'boolean', percent: 100 }), { key: 'k' }), [true, 'STATIC']);
  assert.equal(compareVersions('1.10.0', '1.9.9'), 1);
  assert.equal(compareVersions('1.2', '1.2.0'), 0);
  assert.equal(compareVersions('1.2.0-beta', '1.2.0'), 0);
});

test('validation: kind, percent, rules and names; a partial update keeps the rest', () => {
  for (const [name, input] of [
    ['x', { kind: 'ternary' }],
    ['x', { percent: -1 }],
    ['x', { percent: 101 }],
    ['x', { enabled: 'yes' }],
    ['x', { rules: [{}] }],
    ['x', { rules: [{ clientName: 'a', minVersion: 'one' }] }],
    ['x', { rules: [{ clientName: 'a', colour: 'red' }] }],
    ['bad name', {}],
    ['audit', {}],
  ] as const) {
    assert.throws(() => applyInput(name, undefined, input as never, 't', 0), (e: unknown) => isError(e, FlagErrors.Invalid), JSON.stringify([name, input]));
  }
  const a = applyInput('x', undefined, { percent: 20, rules: [{ clientName: 'c' }] }, 'alice', 1);
  assert.deepEqual([a.kind, a.enabled, a.percent, a.rules.length], ['percentage', true, 20, 1]);
  const b = applyInput('x', a, { enabled: false }, 'bob', 2);
  assert.deepEqual([b.kind, b.enabled, b.percent, b.rules.length, b.updatedBy], ['percentage', false, 20, 1, 'bob']);
  assert.equal(applyInput('y', undefined, {}, 't', 0).kind, 'boolean');
});

test('the registry persists flags, seeds configured ones only when absent, bounds the audit, publishes every change', async () => {
  const clock = new TestClock();
  const store = new MemoryStore(clock);
  const seen: FlagChangeEvent[] = [];
  const onChange = (m: unknown) => seen.push(m as FlagChangeEvent);
  events.flagChange.subscribe(onChange);
  try {
    const r1 = new FlagRegistry(store, clock, nullLogger, { initial: { seeded: { percent: 10 } }, auditLimit: 5 });
    await r1.start();
    assert.equal(r1.get('seeded')?.percent, 10);
    await r1.set('seeded', { percent: 40 }, 'alice');
    for (let i = 0; i < 6; i++) {
      await clock.advance(1000);
      await r1.set('other', { enabled: i % 2 === 0 }, `op${i}`);
    }
    await r1.stop();
    const audit = await r1.audit();
    assert.equal(audit.length, 5, 'bounded to auditLimit');
    assert.deepEqual(audit.map((r) => r.by), ['op1', 'op2', 'op3', 'op4', 'op5']);
    assert.equal(audit[0]!.from?.enabled, true);
    assert.equal(audit[0]!.to?.enabled, false);
    assert.ok(seen.some((e) => e.flag === 'seeded' && e.by === 'alice' && e.from?.percent === 10 && e.to?.percent === 40));
    // A restart loads what was stored; the config's seed does not overwrite an operator's change.
    seen.length = 0;
    const r2 = new FlagRegistry(store, clock, nullLogger, { initial: { seeded: { percent: 10 }, fresh: { enabled: false } } });
    await r2.start();
    assert.equal(r2.get('seeded')?.percent, 40);
    assert.equal(r2.get('fresh')?.enabled, false);
    assert.equal(r2.get('other')?.enabled, false);
    assert.ok(seen.some((e) => e.flag === 'seeded' && e.loaded === true), 'loaded flags are published for the gauges');
    assert.equal(await r2.remove('other', 'carol'), true);
    assert.equal(await r2.remove('other', 'carol'), false);
    assert.equal(r2.isEnabled('other', { key: 'k' }), false);
    await r2.stop();
  } finally {
    events.flagChange.unsubscribe(onChange);
  }
});

test('two registries on one real Redis: a change on one node applies on the other; malformed announcements are dropped', async () => {
  const redis = await startRedis();
  const prefix = `t-${randomUUID()}`;
  const clock = systemClock;
  const sa = new RedisStore({ url: redis.url, prefix });
  const sb = new RedisStore({ url: redis.url, prefix });
  await sa.open();
  await sb.open();
  const a = new FlagRegistry(sa, clock, nullLogger, { nodeId: 'a' });
  const b = new FlagRegistry(sb, clock, nullLogger, { nodeId: 'b' });
  const seen: FlagChangeEvent[] = [];
  const onChange = (m: unknown) => seen.push(m as FlagChangeEvent);
  events.flagChange.subscribe(onChange);
  try {
    await a.start();
    await b.start();
    await sa.publish!('flags', 'not json');
    await sa.publish!('flags', JSON.stringify({ flag: '../../etc', by: 'x', from: 'y' }));
    const t0 = Date.now();
    await a.set('shared', { percent: 100 }, 'alice');
    while (b.get('shared') === undefined && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(b.get('shared')?.percent, 100, 'node b applied the change');
    const remote = seen.find((e) => e.flag === 'shared' && e.remote);
    assert.ok(remote, 'node b published the change as remote');
    assert.equal(remote.by, 'alice on a');
    await b.set('shared', { enabled: false }, 'bob');
    const t1 = Date.now();
    while (a.get('shared')?.enabled !== false && Date.now() - t1 < 3000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(a.get('shared')?.enabled, false);
    await b.remove('shared', 'bob');
    const t2 = Date.now();
    while (a.get('shared') !== undefined && Date.now() - t2 < 3000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(a.get('shared'), undefined, 'a delete applies too');
    // Both nodes see one audit trail.
    assert.deepEqual((await a.audit()).map((r) => [r.action, r.by, r.node]), [
      ['set', 'alice', 'a'],
      ['set', 'bob', 'b'],
      ['delete', 'bob', 'b'],
    ]);
  } finally {
    events.flagChange.unsubscribe(onChange);
    await a.stop();
    await b.stop();
    await sa.close();
    await sb.close();
    await redis.stop();
  }
});

test('the OpenFeature provider answers what the registry answers, through the OpenFeature API', async () => {
  const clock = new TestClock();
  const reg = new FlagRegistry(new MemoryStore(clock), clock, nullLogger, { initial: { half: { percent: 50 }, beta: { rules: [{ clientName: 'claude-desktop' }], percent: 0 } } });
  await reg.start();
  await OpenFeature.setProviderAndWait(new AndonFlagProvider(reg));
  const client = OpenFeature.getClient();
  let on = 0;
  for (let i = 0; i < 200; i++) {
    const key = `session:${i}`;
    const v = await client.getBooleanValue('half', false, { targetingKey: key });
    assert.equal(v, reg.isEnabled('half', { key }));
    if (v) on++;
  }
  assert.ok(on >= 80 && on <= 120, `${on} of 200`);
  assert.equal(await client.getBooleanValue('beta', false, { targetingKey: 'k', clientName: 'claude-desktop' }), true);
  assert.equal(await client.getBooleanValue('beta', false, { targetingKey: 'k', clientName: 'other' }), false);
  const missing = await client.getBooleanDetails('nope', true, { targetingKey: 'k' });
  assert.deepEqual([missing.value, missing.errorCode], [true, 'FLAG_NOT_FOUND']);
  const typed = await client.getStringDetails('half', 'dflt', { targetingKey: 'k' });
  assert.deepEqual([typed.value, typed.errorCode], ['dflt', 'TYPE_MISMATCH']);
  await OpenFeature.close();
  await reg.stop();
});
