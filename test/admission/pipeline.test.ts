import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionPipeline, AndonError, Errors, HaltStage, PHASES, TestClock, httpRefusal, nodeStage, type IncomingRequest, type Stage } from '../../src/index.js';

/** A request as the server hands it to the pipeline (only what the stages read). */
function req(method: string, params: Record<string, unknown> = {}, transport = 'http'): IncomingRequest {
  return { request: { jsonrpc: '2.0', id: 1, method, params }, peer: undefined, session: undefined, era: '2025', exchange: { send: () => {}, transport } as never, signal: new AbortController().signal };
}

describe('admission pipeline', () => {
  test('stages run in the fixed phase order whatever the registration order; within a phase in registration order', async () => {
    const seen: string[] = [];
    const p = new AdmissionPipeline(async () => {
      seen.push('handler');
      return { ok: true };
    });
    const mk = (name: string, phase: Stage['phase']): Stage => ({ name, phase, admit: () => void seen.push(name) });
    p.use(mk('breaker', 'breaker'));
    p.use(mk('user-last', undefined));
    p.use(mk('flag', 'flag'));
    p.use(mk('rate-1', 'rate'));
    p.use(mk('node', 'node'));
    p.use(mk('rate-2', 'rate'));
    p.use(mk('degrade', 'degrade'));
    p.use(mk('limit', 'limit'));
    p.use(mk('halt', 'halt'));
    assert.deepEqual(await p.run(req('tools/call')), { ok: true });
    assert.deepEqual(seen, ['node', 'halt', 'limit', 'rate-1', 'rate-2', 'degrade', 'flag', 'breaker', 'user-last', 'handler']);
    assert.deepEqual(p.stages().map(([phase]) => phase), ['node', 'halt', 'limit', 'rate', 'rate', 'degrade', 'flag', 'breaker', 'handler']);
    assert.deepEqual(PHASES, ['node', 'auth', 'halt', 'limit', 'rate', 'degrade', 'flag', 'breaker', 'handler']);
  });

  test('a refusal stops the request: later stages and the handler never run; sync and async, returned or thrown', async () => {
    for (const refuse of [
      () => new AndonError(Errors.RateLimited, undefined, { retryAfterMs: 1200 }),
      async () => new AndonError(Errors.RateLimited, undefined, { retryAfterMs: 1200 }),
      () => {
        throw new AndonError(Errors.RateLimited, undefined, { retryAfterMs: 1200 });
      },
    ]) {
      const ran: string[] = [];
      const p = new AdmissionPipeline(async () => {
        ran.push('handler');
        return {};
      });
      p.use({ name: 'quota', phase: 'rate', admit: refuse });
      p.use({ name: 'after', phase: 'breaker', admit: () => void ran.push('after') });
      await assert.rejects(
        async () => p.run(req('tools/call')),
        (err: unknown) => err instanceof AndonError && err.code === 'ANDON_RATE_LIMITED' && err.retryAfterSeconds === 2,
      );
      assert.deepEqual(ran, []);
    }
  });

  test('an async admit is awaited before the handler starts', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const p = new AdmissionPipeline(async () => {
      started = true;
      return {};
    });
    p.use({ name: 'journal', admit: () => gate });
    const run = p.run(req('tools/call'));
    await new Promise((r) => setImmediate(r));
    assert.equal(started, false, 'the handler waits for the async stage');
    release();
    await run;
    assert.equal(started, true);
  });

  test('around stages wrap the rest of the pipeline: they time it, see the result and the error, may answer themselves', async () => {
    const clock = new TestClock(0);
    const timings: number[] = [];
    const results: unknown[] = [];
    const order: string[] = [];
    const p = new AdmissionPipeline(async (r) => {
      order.push('handler');
      await clock.advance(25);
      if (r.request.params?.fail) throw new Error('boom');
      return { content: [{ type: 'text', text: 'hi' }] };
    });
    p.use({
      name: 'timing',
      phase: 'handler',
      async around(r, next) {
        const t0 = clock.now();
        try {
          const out = await next(r);
          results.push(out);
          return out;
        } catch (err) {
          results.push((err as Error).message);
          throw err;
        } finally {
          timings.push(clock.now() - t0);
        }
      },
    });
    p.use({ name: 'late-admit', phase: 'handler', admit: () => void order.push('late-admit') });
    p.use({ name: 'early-admit', phase: 'node', admit: () => void order.push('early-admit') });
    assert.deepEqual(await p.run(req('tools/call')), { content: [{ type: 'text', text: 'hi' }] });
    assert.deepEqual(order, ['early-admit', 'late-admit', 'handler'], 'an around stage wraps what comes after it, not what came before');
    await assert.rejects(async () => p.run(req('tools/call', { fail: true })), /boom/);
    assert.deepEqual(timings, [25, 25]);
    assert.deepEqual(results, [{ content: [{ type: 'text', text: 'hi' }] }, 'boom']);
    // An around stage can answer without running the handler (the halt stage does so for halted tools).
    order.length = 0;
    p.use({ name: 'cache', phase: 'breaker', around: async () => ({ cached: true }) });
    assert.deepEqual(await p.run(req('tools/call')), { cached: true });
    assert.deepEqual(order, ['early-admit']);
  });

  test('visible filters hide list entries per request; a pipeline without filters says so', () => {
    const p = new AdmissionPipeline(async () => ({}));
    assert.equal(p.filtersLists, false);
    p.use({ name: 'flags', phase: 'flag', visible: (kind, name, r) => !(kind === 'tool' && name === 'beta' && r.request.params?.client !== 'tester') });
    assert.equal(p.filtersLists, true);
    assert.equal(p.visible('tool', 'beta', req('tools/list')), false);
    assert.equal(p.visible('tool', 'beta', req('tools/list', { client: 'tester' })), true);
    assert.equal(p.visible('tool', 'echo', req('tools/list')), true);
    assert.equal(p.visible('prompt', 'beta', req('prompts/list')), true);
  });

  test('use() replaces a stage of the same name in place, returns a remover; bad stages are rejected', async () => {
    const seen: string[] = [];
    const p = new AdmissionPipeline(async () => ({}));
    p.use({ name: 'a', phase: 'rate', admit: () => void seen.push('a1') });
    const removeB = p.use({ name: 'b', phase: 'rate', admit: () => void seen.push('b') });
    p.use({ name: 'a', phase: 'rate', admit: () => void seen.push('a2') });
    await p.run(req('ping'));
    assert.deepEqual(seen, ['a2', 'b']);
    removeB();
    assert.deepEqual(p.stages(), [['rate', 'a']]);
    assert.throws(() => p.use({ name: 'x', phase: 'nope' as never, admit: () => undefined }), /unknown phase "nope"/);
    assert.throws(() => p.use({ name: 'y' }), /none of admit, around, visible/);
  });
});

describe('built-in stages', () => {
  test('node stage: ANDON_DRAINING while draining, ANDON_NODE_HALTED while halted, nothing while running', () => {
    const st: { phase: string; halt: { reason: string } | undefined } = { phase: 'running', halt: undefined };
    const s = nodeStage({ drainPhase: () => st.phase, nodeHalt: () => st.halt });
    assert.equal(s.admit!(req('ping')), undefined);
    st.halt = { reason: 'incident 42' };
    const h = s.admit!(req('ping')) as AndonError;
    assert.equal(h.code, 'ANDON_NODE_HALTED');
    assert.match(h.message, /node halted \(incident 42\)/);
    assert.deepEqual(h.data, { retryAfterMs: 5000, reason: 'incident 42', component: 'node' });
    st.phase = 'draining';
    const d = s.admit!(req('ping')) as AndonError;
    assert.equal(d.code, 'ANDON_DRAINING');
    assert.equal(d.toMcpError().code, -32001);
    assert.deepEqual(d.toMcpError().data, { code: 'ANDON_DRAINING', retryAfterMs: 5000, reason: 'node is draining', component: 'node' });
  });

  test('halt stage: server halts refuse everything, a transport halt only its own transport, tools answer isError and are hidden', async () => {
    const h = new HaltStage();
    const next = async () => ({ ran: true });
    assert.equal(h.admit(req('ping')), undefined);
    h.setComponent('transport:http', 'maintenance');
    assert.equal(h.admit(req('ping', {}, 'stdio')), undefined);
    const t = h.admit(req('ping', {}, 'http'))!;
    assert.equal(t.code, 'ANDON_HALTED');
    assert.deepEqual(t.data, { retryAfterMs: 5000, reason: 'maintenance', component: 'transport:http' });
    h.setComponent('transport:http', null);
    h.setComponent('server:x', 'bad deploy');
    assert.equal(h.admit(req('ping', {}, 'stdio'))!.data.component, 'server:x');
    h.setComponent('server:x', null);
    assert.equal(h.setToolHalted('echo', 'returns wrong data'), true);
    assert.equal(h.setToolHalted('echo', 'returns wrong data'), false, 'already halted: the list did not change');
    assert.deepEqual(await h.around(req('tools/call', { name: 'echo' }), next), { content: [{ type: 'text', text: 'Tool "echo" is halted: returns wrong data' }], isError: true });
    assert.deepEqual(await h.around(req('tools/call', { name: 'other' }), next), { ran: true });
    assert.equal(h.visible('tool', 'echo'), false);
    assert.equal(h.visible('tool', 'other'), true);
    h.setToolHalted('echo', null);
    h.setToolUnavailable('echo', 'restarting after failures (x)');
    assert.equal(h.visible('tool', 'echo'), true, 'a restarting tool stays listed');
    assert.match(((await h.around(req('tools/call', { name: 'echo' }), next)).content as Array<{ text: string }>)[0]!.text, /is unavailable: restarting/);
  });

  test('httpRefusal maps catalogued refusals to their status and Retry-After; other errors keep theirs', () => {
    assert.deepEqual(httpRefusal(new AndonError(Errors.Draining, undefined, { retryAfterMs: 4500 }).toMcpError()), { status: 503, retryAfter: '5' });
    assert.deepEqual(httpRefusal(new AndonError(Errors.RateLimited, undefined, { retryAfterMs: 10 }).toMcpError()), { status: 429, retryAfter: '1' });
    assert.deepEqual(httpRefusal(new AndonError(Errors.NodeHalted).toMcpError()), { status: 503, retryAfter: undefined });
    assert.equal(httpRefusal({ code: -32602, data: { uri: 'x' } }), undefined);
    assert.equal(httpRefusal({ code: -32001 }), undefined);
    assert.equal(httpRefusal({ code: -32001, data: { code: 'ANDON_NOT_A_CODE' } }), undefined);
  });
});
