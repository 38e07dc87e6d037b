/**
 * The CI-sized wire fuzz: 1,500 seeded mutants per transport (Streamable HTTP, stdio, ops
 * listener, WebSocket, TCP, legacy SSE) against real processes. `npm run fuzz` runs the full 20,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clean, runFuzz } from './runner.js';

const COUNT = Number(process.env.ANDON_FUZZ_COUNT ?? 1500);

test(`wire fuzz: ${COUNT} mutated requests per transport, no crash, hang or stack trace`, { timeout: 300_000 }, async () => {
  const sum = await runFuzz(Number(process.env.ANDON_FUZZ_SEED ?? 9), COUNT);
  const brief = (t: typeof sum.http) => ({ sent: t.sent, answered: t.answered, hangs: t.hangs, stacks: t.stacks, corrupt: t.corrupt, aliveAfter: t.aliveAfter, problems: t.problems });
  const report = JSON.stringify({ http: brief(sum.http), stdio: brief(sum.stdio), ops: brief(sum.ops), ws: brief(sum.ws), tcp: brief(sum.tcp), sse: brief(sum.sse) }, null, 2);
  assert.ok(clean(sum), report);
  // The answers are real answers, not just closed sockets: most mutants get an HTTP status.
  assert.ok(sum.http.answered > COUNT * 0.9, report);
  assert.ok(sum.ops.answered > COUNT * 0.9, report);
  assert.equal(sum.stdio.answered, COUNT, report);
  // Every WebSocket and TCP mutant is followed by an answered sentinel (or, WebSocket, a 1007/1009 close).
  assert.equal(sum.ws.answered, COUNT, report);
  assert.equal(sum.tcp.answered, COUNT, report);
  assert.ok(sum.sse.answered > COUNT * 0.9, report);
  // No mutant is a 5xx other than 503 (refusals): a 500 would be a handler bug the fuzzer found.
  for (const t of [sum.http, sum.ops, sum.sse]) for (const status of Object.keys(t.statuses)) assert.ok(Number(status) < 500 || status === '503', `${status}: ${report}`);
});
