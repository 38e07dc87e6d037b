/**
 * Rate limits in-process, on a TestClock: which limit refuses (client, client tools/call, tool,
 * global), the client identity, the factor, Retry-After, sustained throttling, the snapshot, the
 * rate-limiter-flexible store, live reconfiguration, metrics and the alert subscription.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionPipeline, AndonError, TestClock, httpRefusal, type IncomingRequest } from '../../src/index.js';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimits, flexibleStore, TokenBuckets, type RateLimitsOptions } from '../../src/resilience/rate-limits.js';
import { events, type RateLimitedEvent, type RateLimitStateEvent } from '../../src/events/index.js';
import { AndonMetrics } from '../../src/observability/metrics.js';
import { rateLimitAlerts, RATE_LIMITED_INCIDENT } from '../../src/observability/alerts/rate-limit-alerts.js';
import { subscribeAll } from '../../src/events/index.js';

interface Who {
  session?: string;
  subject?: string;
  remote?: string;
  stdio?: boolean;
}

function req(method: string, who: Who, params: Record<string, unknown> = {}): IncomingRequest {
  return {
    request: { jsonrpc: '2.0', id: 1, method, params },
    peer: who.stdio ? ({} as never) : undefined,
    session: who.session ? ({ id: who.session } as never) : undefined,
    era: '2025',
    exchange: { send: () => {} } as never,
    signal: new AbortController().signal,
    ...(who.subject ? { subject: who.subject } : {}),
    ...(who.remote ? { remote: who.remote } : {}),
  };
}

const call = (who: Who, tool = 'echo') => req('tools/call', who, { name: tool, arguments: {} });

function limits(o: RateLimitsOptions = {}): { rl: RateLimits; clock: TestClock; admit: (r: IncomingRequest) => AndonError | undefined } {
  const clock = new TestClock();
  const rl = new RateLimits({ clock, ...o });
  return { rl, clock, admit: (r) => rl.stage.admit!(r) as AndonError | undefined };
}

/** How many of `n` requests are admitted, now. */
function admitted(admit: (r: IncomingRequest) => AndonError | undefined, r: IncomingRequest, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (admit(r) === undefined) ok++;
  return ok;
}

describe('rate limits', () => {
  test('per client tools/call: the burst passes, the next is refused naming the limit, another client is unaffected, refill admits again', async () => {
    const { admit, clock } = limits({ perClient: { toolCallsPerSec: 5 } });
    assert.equal(admitted(admit, call({ session: 'a' }), 5), 5);
    const refusal = admit(call({ session: 'a' }));
    assert.ok(refusal instanceof AndonError);
    assert.equal(refusal.code, 'ANDON_RATE_LIMITED');
    assert.equal(refusal.data.limit, 'client:tools/call');
    assert.equal(refusal.data.limitPerSec, 5);
    assert.equal(refusal.data.retryAfterMs, 200);
    assert.match(refusal.message, /Rate limit exceeded \(client:tools\/call\): more than 5 tools\/call per second from one client; retry in 1 s/);
    // The wire form: HTTP 429, Retry-After in whole seconds (rounded up, at least 1), data on the JSON-RPC error.
    const wire = refusal.toMcpError();
    assert.deepEqual(httpRefusal({ code: wire.code, data: wire.data }), { status: 429, retryAfter: '1' });
    assert.equal((wire.data as { code: string }).code, 'ANDON_RATE_LIMITED');
    assert.equal(admitted(admit, call({ session: 'b' }), 5), 5, 'a second client has its own bucket');
    // Other methods are not tool calls: still admitted for client a.
    assert.equal(admit(req('tools/list', { session: 'a' })), undefined);
    await clock.advance(200);
    assert.equal(admitted(admit, call({ session: 'a' }), 2), 1, 'one token refilled in 200 ms at 5/s');
  });

  test('per client messages count every method; Retry-After rounds up to whole seconds', () => {
    const { admit } = limits({ perClient: { messagesPerSec: 0.25 } });
    assert.equal(admit(req('ping', { session: 'a' })), undefined);
    const r = admit(req('ping', { session: 'a' }))!;
    assert.equal(r.data.limit, 'client');
    assert.equal(r.data.retryAfterMs, 4000);
    assert.equal(r.retryAfterSeconds, 4);
    assert.match(r.message, /more than 0.25 messages per second from one client; retry in 4 s/);
    assert.equal(httpRefusal(r.toMcpError() as never)!.retryAfter, '4');
  });

  test('client identity: subject over session over remote address over stdio', () => {
    const { admit } = limits({ perClient: { messagesPerSec: 1 } });
    // One subject across two sessions is one client.
    assert.equal(admit(req('ping', { subject: 'alice', session: 's1' })), undefined);
    assert.equal(admit(req('ping', { subject: 'alice', session: 's2' }))?.data.limit, 'client');
    // Sessions without a subject are separate clients, even from one address.
    assert.equal(admit(req('ping', { session: 's1', remote: '10.0.0.1' })), undefined);
    assert.equal(admit(req('ping', { session: 's2', remote: '10.0.0.1' })), undefined);
    // 2026 (no session): the remote address.
    assert.equal(admit(req('ping', { remote: '10.0.0.2' })), undefined);
    assert.equal(admit(req('ping', { remote: '10.0.0.2' }))?.data.limit, 'client');
    assert.equal(admit(req('ping', { stdio: true })), undefined);
    assert.equal(admit(req('ping', { stdio: true }))?.data.limit, 'client');
  });

  test('per tool: calls to one tool across all clients; other tools unaffected', () => {
    const { admit, rl } = limits({ tools: { search: { callsPerSec: 2 } } });
    assert.equal(admit(call({ session: 'a' }, 'search')), undefined);
    assert.equal(admit(call({ session: 'b' }, 'search')), undefined);
    const r = admit(call({ session: 'c' }, 'search'))!;
    assert.equal(r.data.limit, 'tool:search');
    assert.match(r.message, /more than 2 calls per second to tool "search" across clients/);
    assert.equal(admit(call({ session: 'c' }, 'echo')), undefined);
    assert.deepEqual(rl.snapshot().refusals, { client: 0, tool: 1, global: 0, total: 1 });
  });

  test('global: every client counts; refusals name the global limit', () => {
    const { admit } = limits({ global: { messagesPerSec: 3 } });
    for (const s of ['a', 'b', 'c']) assert.equal(admit(req('ping', { session: s })), undefined);
    const r = admit(req('ping', { session: 'd' }))!;
    assert.equal(r.data.limit, 'global');
    assert.match(r.message, /more than 3 messages per second for the whole node/);
  });

  test('a client over its own limit is refused before it spends the global budget', () => {
    const { admit } = limits({ perClient: { messagesPerSec: 2 }, global: { messagesPerSec: 4 } });
    assert.equal(admitted(admit, req('ping', { session: 'flood' }), 50), 2);
    assert.equal(admitted(admit, req('ping', { session: 'other' }), 2), 2, 'the global budget is still there for others');
  });

  test('setFactor halves and restores every limit; the change is published; bad factors are refused', async () => {
    const { admit, rl, clock } = limits({ perClient: { toolCallsPerSec: 10 } });
    const seen: RateLimitStateEvent[] = [];
    const sub = (e: unknown) => seen.push(e as RateLimitStateEvent);
    events.rateLimitState.subscribe(sub);
    try {
      rl.setFactor(0.5);
      assert.equal(admitted(admit, call({ session: 'a' }), 20), 5);
      const s = rl.snapshot();
      assert.equal(s.factor, 0.5);
      const l = s.limits.find((x) => x.name === 'client:tools/call')!;
      assert.equal(l.perSec, 10);
      assert.equal(l.effectivePerSec, 5);
      assert.equal(admit(call({ session: 'a' }))!.data.limitPerSec, 5);
      rl.setFactor(1);
      await clock.advance(1000);
      assert.equal(admitted(admit, call({ session: 'a' }), 20), 10);
      assert.deepEqual(
        seen.map((e) => e.factor),
        [0.5, 1],
      );
      for (const bad of [0, -1, Number.NaN, Infinity]) assert.throws(() => rl.setFactor(bad), RangeError);
    } finally {
      events.rateLimitState.unsubscribe(sub);
    }
  });

  test('burstSec: a longer burst admits more at once, at the same sustained rate', () => {
    const { admit } = limits({ perClient: { toolCallsPerSec: 4 }, burstSec: 2.5 });
    assert.equal(admitted(admit, call({ session: 'a' }), 20), 10);
  });

  test('sustained throttling: refusals in each of N consecutive seconds raise it; a second without one ends it', async () => {
    const { admit, rl, clock } = limits({ perClient: { messagesPerSec: 1 }, sustainedAlertSec: 3 });
    const seen: RateLimitStateEvent[] = [];
    const sub = (e: unknown) => seen.push(e as RateLimitStateEvent);
    events.rateLimitState.subscribe(sub);
    try {
      await clock.advance(1000 - (clock.now() % 1000)); // at a second boundary
      for (let s = 0; s < 3; s++) {
        assert.equal(admitted(admit, req('ping', { session: 'a' }), 3), 1);
        if (s < 2) {
          assert.equal(seen.length, 0, `not yet sustained after ${s + 1} s`);
          await clock.advance(1000);
        }
      }
      assert.deepEqual(
        seen.map((e) => e.sustained),
        [true],
      );
      assert.equal(rl.snapshot().sustained.active, true);
      await clock.advance(3000);
      assert.deepEqual(
        seen.map((e) => e.sustained),
        [true, false],
      );
      assert.equal(rl.snapshot().sustained.active, false);
      // A gap resets the streak: refusals in seconds 1, 3 and 4 are not 3 consecutive seconds.
      admitted(admit, req('ping', { session: 'a' }), 3);
      await clock.advance(2000);
      admitted(admit, req('ping', { session: 'a' }), 3);
      await clock.advance(1000);
      admitted(admit, req('ping', { session: 'a' }), 3);
      assert.equal(seen.length, 2, 'no new sustained episode after a gap');
      assert.equal(rl.snapshot().sustained.seconds, 2);
      rl.stop();
    } finally {
      events.rateLimitState.unsubscribe(sub);
    }
  });

  test('snapshot: refusals per limit, most-throttled clients first; rateLimited events carry the bounded kind', () => {
    const { admit, rl } = limits({ perClient: { messagesPerSec: 1 } });
    const seen: RateLimitedEvent[] = [];
    const sub = (e: unknown) => seen.push(e as RateLimitedEvent);
    events.rateLimited.subscribe(sub);
    try {
      admitted(admit, req('ping', { session: 'x' }), 4);
      admitted(admit, req('ping', { session: 'y' }), 2);
    } finally {
      events.rateLimited.unsubscribe(sub);
    }
    const s = rl.snapshot();
    assert.equal(s.enabled, true);
    assert.equal(s.store, 'memory');
    assert.deepEqual(
      s.topThrottled.map((t) => [t.client, t.refusals, t.lastLimit]),
      [
        ['session:x', 3, 'client'],
        ['session:y', 1, 'client'],
      ],
    );
    assert.equal(s.limits.find((l) => l.name === 'client')!.refusals, 4);
    assert.equal(seen.length, 4);
    assert.deepEqual(seen[0], { limit: 'client', name: 'client', client: 'session:x', method: 'ping', retryAfterMs: 1000 });
  });

  test('configure: live changes keep counts; enabled false removes the stage from the pipeline', async () => {
    const { rl, clock } = limits({ perClient: { toolCallsPerSec: 2 } });
    const p = new AdmissionPipeline(async () => ({ ok: true }));
    rl.install(p);
    assert.deepEqual(p.stages(), [['rate', 'rate-limits']]);
    await p.run(call({ session: 'a' }));
    await p.run(call({ session: 'a' }));
    await assert.rejects(async () => p.run(call({ session: 'a' })), (e: AndonError) => e.data.limit === 'client:tools/call');
    rl.configure({ perClient: { toolCallsPerSec: 2 }, tools: { echo: { callsPerSec: 1 } } });
    await clock.advance(1000);
    await p.run(call({ session: 'b' }));
    await assert.rejects(async () => p.run(call({ session: 'c' })), (e: AndonError) => e.data.limit === 'tool:echo');
    rl.configure({ enabled: false });
    assert.deepEqual(p.stages(), []);
    for (let i = 0; i < 10; i++) await p.run(call({ session: 'a' }));
    rl.configure({ enabled: true, perClient: { toolCallsPerSec: 1 } });
    assert.deepEqual(p.stages(), [['rate', 'rate-limits']]);
  });

  test('rate-limiter-flexible store (RateLimiterMemory; RateLimiterRedis takes the same factory): async admission, same refusals', async () => {
    const rl = new RateLimits({ perClient: { toolCallsPerSec: 3 }, store: flexibleStore() });
    assert.equal(rl.snapshot().store, 'flexible');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await (rl.stage.admit!(call({ session: 'a' })) as Promise<AndonError | undefined>));
    assert.equal(answers.filter((a) => a === undefined).length, 3);
    const r = answers[4]!;
    assert.equal(r.data.limit, 'client:tools/call');
    assert.ok((r.data.retryAfterMs as number) > 0 && (r.data.retryAfterMs as number) <= 1000);
    assert.equal(await rl.stage.admit!(call({ session: 'b' })), undefined);
    // A factor change builds new limiters with the new points.
    rl.setFactor(2);
    let ok = 0;
    for (let i = 0; i < 8; i++) if ((await rl.stage.admit!(call({ session: 'c' }))) === undefined) ok++;
    assert.equal(ok, 6);
    // A failing store admits (a broken counter must not take the node down).
    const broken = new RateLimits({ store: flexibleStore(() => ({ consume: () => Promise.reject(new Error('redis down')) })) });
    assert.equal(await broken.stage.admit!(call({ session: 'a' })), undefined);
  });

  test('async store: limits are taken together; a refused request gives back what the later limits took; a client refused recently is checked in order', async () => {
    // A factory that records every count and give-back per limit, around RateLimiterMemory.
    const log: string[] = [];
    const store = flexibleStore((o) => {
      const m = new RateLimiterMemory(o);
      const id = o.keyPrefix.replace('andon-rl:', '');
      return {
        consume: (k: string | number, p?: number) => (log.push(`take ${id}`), m.consume(k, p)),
        reward: (k: string | number, p?: number) => (log.push(`give ${id}`), m.reward(k, p)),
      };
    });
    const rl = new RateLimits({ perClient: { messagesPerSec: 100, toolCallsPerSec: 2 }, global: { messagesPerSec: 3 }, store });
    const admit = (who: string) => rl.stage.admit!(call({ session: who })) as Promise<AndonError | undefined>;
    // Two calls from a: every limit taken at once, each admitted.
    assert.equal(await admit('a'), undefined);
    assert.equal(await admit('a'), undefined);
    assert.deepEqual(log.splice(0), ['take client', 'take client:tools/call', 'take global', 'take client', 'take client:tools/call', 'take global']);
    // The third is refused by a's tools/call limit: the global point it took is given back...
    const r = await admit('a');
    assert.equal(r?.data.limit, 'client:tools/call');
    assert.deepEqual(log.splice(0), ['take client', 'take client:tools/call', 'take global', 'give global']);
    // ...so b still gets the global budget's last point (3 per second: a's two, then b's one).
    assert.equal(await admit('b'), undefined);
    log.splice(0);
    // a was refused a moment ago: its limits are taken one at a time, stopping at the refusal.
    assert.equal((await admit('a'))?.data.limit, 'client:tools/call');
    assert.deepEqual(log.splice(0), ['take client', 'take client:tools/call']);
  });

  test('token buckets forget idle full buckets and stay bounded at maxKeys', async () => {
    const b = new TokenBuckets({ id: 't', perSec: 10, burst: 10, burstSec: 1 }, 100);
    for (let i = 0; i < 250; i++) b.take(`k${i}`, 0);
    assert.ok(b.size() <= 100);
    b.take('late', 20_000); // refilled long ago: the sweep drops every full bucket
    assert.equal(b.size(), 1);
  });

  test('metrics: andon_rate_limited_total by limit kind and the factor gauge; the alert opens and resolves one incident', async () => {
    const { admit, rl, clock } = limits({ perClient: { messagesPerSec: 1 }, tools: { search: { callsPerSec: 1 } }, sustainedAlertSec: 2 });
    const metrics = new AndonMetrics({ defaultMetrics: false }).start();
    const alerts: string[] = [];
    const stub = {
      alert: (sev: string, title: string, _c: unknown, o: { incident: string }) => alerts.push(`${sev} ${title} ${o.incident}`),
      resolve: (incident: string, o: { title: string }) => alerts.push(`resolve ${incident} ${o.title}`),
    };
    const unsub = subscribeAll([rateLimitAlerts(stub as never)]);
    try {
      admitted(admit, req('ping', { session: 'a' }), 3);
      admitted(admit, call({ session: 'b' }, 'search'), 1);
      admitted(admit, call({ session: 'c' }, 'search'), 1);
      rl.setFactor(0.5);
      const text = await metrics.metrics();
      assert.match(text, /andon_rate_limited_total\{limit="client"\} 2/);
      assert.match(text, /andon_rate_limited_total\{limit="tool"\} 1/);
      assert.match(text, /andon_rate_limited_total\{limit="global"\} 0/);
      assert.match(text, /andon_rate_limit_factor 0.5/);
      assert.doesNotMatch(text, /session:/, 'no client identity in labels');
      await clock.advance(1000);
      admitted(admit, req('ping', { session: 'a' }), 5);
      assert.deepEqual(alerts, [`warning Rate limiting active ${RATE_LIMITED_INCIDENT}`]);
      await clock.advance(3000);
      assert.deepEqual(alerts, [`warning Rate limiting active ${RATE_LIMITED_INCIDENT}`, `resolve ${RATE_LIMITED_INCIDENT} Rate limiting no longer active`]);
    } finally {
      unsub();
      metrics.stop();
      rl.stop();
    }
  });
});
