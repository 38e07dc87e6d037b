/**
 * The CI-sized wire fuzz: 5,000 seeded mutants per transport (Streamable HTTP, stdio, ops
 * listener, WebSocket, TCP, legacy SSE) against real processes, pipelined as in `npm run fuzz`
 * (100,000 each). ANDON_FUZZ_COUNT and ANDON_FUZZ_SEED override the size and the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clean, runFuzz, TRANSPORTS } from './runner.js';

const COUNT = Number(process.env.ANDON_FUZZ_COUNT ?? 5000);

test(`wire fuzz: ${COUNT} mutated requests per transport, no crash, hang or stack trace`, { timeout: 600_000 }, async () => {
  // An alive check (a normal request on every transport) after each 1,000 mutants and at the end.
  // stdio (its own process) runs alongside the network transports, which share one node.
  const sum = await runFuzz({ seed: Number(process.env.ANDON_FUZZ_SEED ?? 9), count: COUNT, batch: 1000, parallel: true });
  const brief = (t: typeof sum.http) => ({ sent: t.sent, answered: t.answered, hangs: t.hangs, stacks: t.stacks, corrupt: t.corrupt, internal: t.internal, unexpected5xx: t.unexpected5xx, closes: t.unexpectedCloses, aliveAfter: t.aliveAfter, aliveFailures: t.aliveFailures, ms: t.ms, problems: t.problems });
  const report = JSON.stringify(Object.fromEntries(TRANSPORTS.map((n) => [n, brief(sum[n])])), null, 2);
  assert.ok(clean(sum), report);
  for (const n of TRANSPORTS) assert.ok(sum[n].aliveChecks >= Math.floor((COUNT - 1) / 1000), `${n}: ${report}`);
  // The answers are real answers, not just closed sockets: most mutants get an HTTP status.
  assert.ok(sum.http.answered > COUNT * 0.9, report);
  assert.ok(sum.ops.answered > COUNT * 0.9, report);
  // Every stdio, WebSocket and TCP mutant is followed by an answered sentinel (or, WebSocket, a 1007/1009 close).
  assert.equal(sum.stdio.answered, COUNT, report);
  assert.equal(sum.ws.answered, COUNT, report);
  assert.equal(sum.tcp.answered, COUNT, report);
  assert.ok(sum.sse.answered > COUNT * 0.9, report);
  // clean() also holds: no 5xx other than 503 (refusals) and the fixture's deliberately failing
  // handlers (500 in the 2026 binding), no bare "Internal error".
});
