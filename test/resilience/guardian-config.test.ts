/** The `guardian` configuration section: seed defaults, the mapping onto RuntimeOptions, ordering rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/schema.js';
import { runtimeOptionsFromConfig } from '../../src/config/runtime-options.js';
import { DEFAULT_THRESHOLDS } from '../../src/resilience/guardian.js';

function parse(raw: unknown) {
  const r = validateConfig(raw);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

test('guardian defaults are the seed values and reach RuntimeOptions.guardian; enabled: false turns it off', () => {
  const c = parse({});
  assert.deepEqual(c.guardian, { enabled: true, intervalMs: 5000, warning: 0.85, degrade: 0.9, hard: 0.97, recover: 0.8, recoverSamples: 3, eventLoopDelayMs: 1000, maxToolCallsWhileDegraded: 16, emergencyStop: true });
  const { enabled: _e, intervalMs: _i, maxToolCallsWhileDegraded: _m, emergencyStop: _s, ...thresholds } = c.guardian;
  assert.deepEqual(thresholds, DEFAULT_THRESHOLDS, 'the schema and the guardian agree on the seeds');
  assert.deepEqual(runtimeOptionsFromConfig(c).guardian, { intervalMs: 5000, warning: 0.85, degrade: 0.9, hard: 0.97, recover: 0.8, recoverSamples: 3, eventLoopDelayMs: 1000, maxToolCallsWhileDegraded: 16, emergencyStop: true });
  assert.equal(runtimeOptionsFromConfig(parse({ guardian: { enabled: false } })).guardian, false);
});

test('guardian thresholds out of order or out of range are refused with the key path', () => {
  const errors = (raw: unknown) => {
    const r = validateConfig(raw);
    return r.ok ? [] : r.errors;
  };
  assert.deepEqual(errors({ guardian: { recover: 0.95 } }), ['guardian.recover: must be below guardian.degrade (0.9)']);
  assert.deepEqual(errors({ guardian: { degrade: 0.99 } }), ['guardian.hard: must not be below guardian.degrade (0.99)']);
  assert.deepEqual(errors({ guardian: { warning: 0.95 } }), ['guardian.warning: must not exceed guardian.degrade (0.9)']);
  assert.match(errors({ guardian: { hard: 1.5 } })[0]!, /^guardian\.hard: expected a number between 0 and 1/);
  assert.match(errors({ guardian: { intervalMs: 0 } })[0]!, /^guardian\.intervalMs: expected a positive integer/);
  assert.match(errors({ guardian: { sampleMs: 1 } })[0]!, /^guardian\.sampleMs: unknown key \(known: enabled, intervalMs, warning/);
});
