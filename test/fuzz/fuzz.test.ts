/**
 * The CI-sized wire fuzz: 1,500 seeded mutants per transport (Streamable HTTP, stdio, ops
 * listener) against real processes. `npm run fuzz` runs the full 20,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clean, runFuzz } from './runner.js';

const COUNT = Number(process.env.ANDON_FUZZ_COUNT ?? 1500);

test(`wire fuzz: ${COUNT} mutated requests per transport, no crash, hang or stack trace`, { timeout: 300_000 }, async () => {
  const sum = await runFuzz(Number(process.env.ANDON_FUZZ_SEED ?? 9), COUNT);
  const brief = (t: typeof sum.http) => ({ sent: t.sent, answered: t.answered, hangs: t.hangs, stacks: t.stacks, corrupt: t.corrupt, aliveAfter: t.aliveAfter, problems: t.problems });
  const report = JSON.stringify({ http: brief(sum.http), stdio: brief(sum.stdio), ops: brief(sum.ops) }, null, 2);
  assert.ok(clean(sum), report);
  // The answers are real answers, not just closed sockets: most mutants get an HTTP status.
  assert.ok(sum.http.answered > COUNT * 0.9, report);
  assert.ok(sum.ops.answered > COUNT * 0.9, report);
  assert.equal(sum.stdio.answered, COUNT, report);
  // No mutant is a 5xx other than 503 (refusals): a 500 would be a handler bug the fuzzer found.
  for (const t of [sum.http, sum.ops]) for (const status of Object.keys(t.statuses)) assert.ok(Number(status) < 500 || status === '503', `${status}: ${report}`);
});
