/**
 * Logs: secrets never reach a log line (headers, tool arguments, messages, registered values),
 * the lines of one request share its trace id (from `traceparent`, from the 2026 `_meta`, or
 * generated) and session id, file rotation by size, and MCP log levels that are per session and
 * independent of the server's own level — all against a real HTTP server.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createServer, serveHttp, type HttpEndpoint } from '../../src/index.js';
import { createLogger, RotatingFileStream, type AndonLogger } from '../../src/util/logger.js';
import { RequestLogging, RequestTracing, currentTraceparent, parseTraceparent } from '../../src/observability/index.js';
import { Session2025, post26 } from '../helpers/mcp-http.js';

/** A destination that keeps every line. */
function capture(): { lines: string[]; write(s: string): void; parsed(): any[] } {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s), parsed: () => lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('redaction', () => {
  test('secrets under secret-looking keys are redacted at any depth, without mutating the object', () => {
    const out = capture();
    const log = createLogger({ destination: out, level: 'debug', redactKeys: ['ssn'] });
    const args = { query: 'weather', password: 'pw-1', nested: { apiKey: 'ak-1', list: [{ client_secret: 'cs-1' }, { ok: 1 }] }, githubToken: 'gt-1', progressToken: 7, ssn: '078-05-1120' };
    log.info({ headers: { Authorization: 'Bearer abcdef123456', 'X-Api-Key': 'xk-1', cookie: 'sid=1', accept: 'application/json' }, args }, 'call');
    const line = out.lines.join('');
    for (const s of ['abcdef123456', 'pw-1', 'ak-1', 'cs-1', 'gt-1', 'xk-1', 'sid=1', '078-05-1120']) assert.ok(!line.includes(s), `${s} leaked: ${line}`);
    const o = out.parsed()[0];
    assert.equal(o.args.query, 'weather');
    assert.equal(o.args.progressToken, 7, 'MCP progressToken is not a secret');
    assert.equal(o.args.nested.list[1].ok, 1);
    assert.equal(o.headers.accept, 'application/json');
    assert.equal(o.args.password, '[redacted]');
    assert.equal(args.password, 'pw-1', 'the caller object is untouched');
  });

  test('secret values are scrubbed from messages, errors and child bindings', () => {
    const out = capture();
    const log = createLogger({ destination: out, level: 'debug', redactValues: ['s3cr3t-admin-token'] });
    log.addSecret('hooks-secret-value-9');
    log.child({ upstream: 'https://user:hunter2@db.internal:5432/x' }).warn({ err: new Error('upstream said: authorization: Bearer zzzzzz999999') }, 'token s3cr3t-admin-token rejected; hooks-secret-value-9; https://hooks.slack.com/services/T1/B2/C3');
    const line = out.lines.join('');
    for (const s of ['s3cr3t-admin-token', 'hooks-secret-value-9', 'hunter2', 'zzzzzz999999', 'T1/B2/C3']) assert.ok(!line.includes(s), `${s} leaked: ${line}`);
    assert.match(line, /Bearer \[redacted\]/);
  });

  test('file output rotates by size and keeps every line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-log-'));
    try {
      const file = join(dir, 'logs', 'andon.log');
      const dest = new RotatingFileStream(file, 4096, 3);
      const log = createLogger({ destination: dest, level: 'info' });
      // Lines arrive over time, as in a server: batches with the event loop turning in between.
      for (let i = 0; i < 200; i++) {
        log.info({ i, pad: 'x'.repeat(40) }, 'line');
        if (i % 10 === 9) await new Promise<void>((r, j) => dest.flush((err) => (err ? j(err) : r())));
      }
      await new Promise<void>((r, j) => dest.flush((err) => (err ? j(err) : r())));
      const files = readdirSync(join(dir, 'logs')).sort();
      assert.deepEqual(files, ['andon.log', 'andon.log.1', 'andon.log.2', 'andon.log.3']);
      const kept = files.flatMap((f) => readFileSync(join(dir, 'logs', f), 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l).i as number);
      // Only the newest 3 rotated files are kept, and what is kept is contiguous up to the last line.
      assert.equal(Math.max(...kept), 199);
      assert.equal(new Set(kept).size, kept.length);
      assert.deepEqual([...kept].sort((a, b) => a - b), Array.from({ length: kept.length }, (_, k) => 200 - kept.length + k));
      // A file passes the limit by at most the line that crossed it.
      for (const f of files) assert.ok(readFileSync(join(dir, 'logs', f)).length <= 4096 + 200, `${f} stays near the limit`);
      await new Promise<void>((r) => dest.end(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('request logs against a real server (async-context propagation on)', () => {
  const out = capture();
  let log: AndonLogger;
  let ep: HttpEndpoint;
  let tracing: RequestTracing;
  let reqlog: RequestLogging;

  before(async () => {
    log = createLogger({ destination: out, level: 'debug' });
    const server = createServer({ name: 'log-test', version: '1.0.0' });
    server.tool('lookup', { inputSchema: { type: 'object' } }, (args: Record<string, unknown>, ctx) => {
      // Lines the handler writes carry the request's trace id without being handed anything.
      log.info({ step: 'inside the handler', query: args.query, downstream: currentTraceparent() }, 'looking up');
      ctx.log('info', 'to the client');
      return 'found';
    });
    // Propagation on: the handler's own lines must carry the trace id too.
    tracing = new RequestTracing({ propagate: true }).start();
    reqlog = new RequestLogging({ logger: log, startLevel: 'debug', completeLevel: 'info', tracing }).start();
    ep = await serveHttp(server, { port: 0, logger: log });
  });
  after(async () => {
    tracing.stop();
    reqlog.stop();
    await ep.close();
  });

  test('a secret in a header and in tool arguments never appears in any log line', async () => {
    const s = new Session2025(ep.url);
    await s.initialize();
    out.lines.length = 0;
    const secrets: string[] = ['hdr-bearer-4f9a8c7e', 'hdr-apikey-77aa', 'arg-password-31337', 'arg-nested-token-xyz', 'arg-apikey-abc'];
    const r = await s.request(
      'tools/call',
      { name: 'lookup', arguments: { query: 'q1', password: secrets[2], options: { auth: { token: secrets[3] }, apiKey: secrets[4] } } },
      { authorization: `Bearer ${secrets[0]}`, 'x-api-key': secrets[1]! },
    );
    assert.equal(r.response.result.content[0].text, 'found');
    await new Promise((res) => setImmediate(res));
    const text = out.lines.join('');
    assert.ok(text.includes('"request.start"'), 'the server does not publish andon:request:start');
    for (const secret of secrets) assert.ok(!text.includes(secret), `secret ${secret} leaked into the logs`);
    const start = out.parsed().find((l) => l.event === 'request.start' && l.method === 'tools/call');
    assert.equal(start.headers.authorization, '[redacted]');
    assert.equal(start.headers['x-api-key'], '[redacted]');
    assert.equal(start.params.arguments.password, '[redacted]');
    assert.equal(start.params.arguments.options.auth.token, '[redacted]');
    assert.equal(start.params.arguments.query, 'q1', 'non-secret arguments stay readable');
  });

  test('trace ids tie the lines of one request together (traceparent header, generated, 2026 _meta)', async () => {
    const s = new Session2025(ep.url);
    await s.initialize();
    out.lines.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await s.request('tools/call', { name: 'lookup', arguments: { query: 'traced' } }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await s.request('tools/call', { name: 'lookup', arguments: { query: 'untraced-1' } });
    await s.request('tools/call', { name: 'lookup', arguments: { query: 'untraced-2' } });
    const metaTrace = '0af7651916cd43dd8448eb211c80319c';
    await post26(ep.url, 'tools/call', { name: 'lookup', arguments: { query: 'meta' } }, { meta: { traceparent: `00-${metaTrace}-b7ad6b7169203331-01` } });
    await new Promise((res) => setImmediate(res));
    const lines = out.parsed();
    assert.ok(lines.some((l) => l.event === 'request.start'), 'the server does not publish andon:request:start');
    /** The lines of the request whose handler saw `query`. */
    const linesOf = (query: string) => {
      const inside = lines.find((l) => l.step === 'inside the handler' && l.query === query);
      assert.ok(inside, `handler line for ${query}`);
      return { inside, all: lines.filter((l) => l.trace_id === inside.trace_id) };
    };
    const traced = linesOf('traced');
    assert.equal(traced.inside.trace_id, traceId, 'trace id from the traceparent header');
    assert.equal(traced.inside.session_id, s.sessionId);
    assert.deepEqual(traced.all.map((l) => l.event ?? l.step), ['request.start', 'inside the handler', 'request.end']);
    assert.ok(traced.all.every((l) => l.session_id === s.sessionId && l.span_id === traced.inside.span_id));
    // Downstream calls continue the trace with this request's span as parent.
    assert.deepEqual(parseTraceparent(traced.inside.downstream), { traceId, parentId: traced.inside.span_id, flags: '01' });
    const a = linesOf('untraced-1');
    const b = linesOf('untraced-2');
    assert.match(a.inside.trace_id, /^[0-9a-f]{32}$/, 'generated when absent');
    assert.notEqual(a.inside.trace_id, b.inside.trace_id, 'one trace per request');
    assert.equal(a.all.length, 3);
    assert.equal(b.all.length, 3);
    const m = linesOf('meta');
    assert.equal(m.inside.trace_id, metaTrace, 'trace id from the 2026 _meta.traceparent');
    assert.equal(m.inside.session_id, undefined, '2026 requests have no session');
    assert.equal(m.all.length, 3);
    // Nothing outside a request carries a trace id.
    assert.ok(lines.filter((l) => !l.trace_id).every((l) => l.event === undefined && l.step === undefined));
  });
});

describe('request logs without async-context propagation', () => {
  test('start and completion lines still share the trace and session ids', async () => {
    const out = capture();
    const log = createLogger({ destination: out, level: 'debug' });
    const server = createServer({ name: 'log-test-2', version: '1.0.0' });
    server.tool('lookup', {}, () => {
      log.info({ step: 'inside' }, 'handler line');
      return 'ok';
    });
    const tracing = new RequestTracing({ propagate: false }).start();
    const reqlog = new RequestLogging({ logger: log, tracing, completeLevel: 'info' }).start();
    const ep = await serveHttp(server, { port: 0 });
    try {
      const s = new Session2025(ep.url);
      await s.initialize();
      out.lines.length = 0;
      await s.request('tools/call', { name: 'lookup', arguments: {} }, { traceparent: '00-11112222333344445555666677778888-00f067aa0ba902b7-01' });
      const lines = out.parsed();
      const start = lines.find((l) => l.event === 'request.start');
      const end = lines.find((l) => l.event === 'request.end');
      assert.ok(start, 'the server does not publish andon:request:start');
      assert.equal(start.trace_id, '11112222333344445555666677778888');
      assert.equal(start.session_id, s.sessionId);
      assert.ok(end?.trace_id !== undefined, 'the completion event does not carry `incoming`');
      assert.equal(end.trace_id, start.trace_id);
      assert.equal(end.span_id, start.span_id);
      assert.equal(lines.find((l) => l.step === 'inside').trace_id, undefined, 'handler lines need propagation');
    } finally {
      tracing.stop();
      reqlog.stop();
      await ep.close();
    }
  });
});

describe('MCP logging to clients (notifications/message)', () => {
  let ep: HttpEndpoint;
  const serverLines = capture();

  before(async () => {
    // The server's own log level is error: it must not decide what clients receive.
    const log = createLogger({ destination: serverLines, level: 'error' });
    const server = createServer({ name: 'mcp-log-test', version: '1.0.0' });
    server.tool('chatty', { inputSchema: z.object({}) }, (_a, ctx) => {
      for (const level of ['debug', 'info', 'warning', 'error'] as const) ctx.log(level, { said: level }, 'chatty');
      log.info({ note: 'server-side info' }, 'not written at level error');
      return 'done';
    });
    ep = await serveHttp(server, { port: 0, logger: log });
  });
  after(() => ep.close());

  const levelsIn = (messages: any[]) => messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.level);

  test('per-session MCP log levels are independent (2025 logging/setLevel)', async () => {
    const quiet = new Session2025(ep.url);
    const loud = new Session2025(ep.url);
    const fresh = new Session2025(ep.url);
    await Promise.all([quiet.initialize(), loud.initialize(), fresh.initialize()]);
    assert.deepEqual(await quiet.call('logging/setLevel', { level: 'error' }), {});
    assert.deepEqual(await loud.call('logging/setLevel', { level: 'debug' }), {});
    const [q, l, f] = await Promise.all([quiet, loud, fresh].map((s) => s.request('tools/call', { name: 'chatty', arguments: {} })));
    assert.deepEqual(levelsIn(q!.messages), ['error']);
    assert.deepEqual(levelsIn(l!.messages), ['debug', 'info', 'warning', 'error'], 'debug reaches the client although the server logs at error');
    assert.deepEqual(levelsIn(f!.messages), ['debug', 'info', 'warning', 'error'], 'a session that never set a level gets everything');
    // Changing one session's level leaves the others alone.
    await loud.call('logging/setLevel', { level: 'warning' });
    const [q2, l2] = await Promise.all([quiet, loud].map((s) => s.request('tools/call', { name: 'chatty', arguments: {} })));
    assert.deepEqual(levelsIn(q2!.messages), ['error']);
    assert.deepEqual(levelsIn(l2!.messages), ['warning', 'error']);
    assert.equal(l2!.messages.find((m: any) => m.method === 'notifications/message').params.logger, 'chatty');
    assert.ok(!serverLines.lines.join('').includes('server-side info'), 'the server log keeps its own level');
  });

  test('2026: the per-request _meta log level decides, and its absence means none', async () => {
    const withInfo = await post26(ep.url, 'tools/call', { name: 'chatty', arguments: {} }, { meta: { 'io.modelcontextprotocol/logLevel': 'info' } });
    const without = await post26(ep.url, 'tools/call', { name: 'chatty', arguments: {} });
    assert.deepEqual(levelsIn(withInfo.messages), ['info', 'warning', 'error']);
    assert.deepEqual(levelsIn(without.messages), []);
    const bad = await post26(ep.url, 'tools/call', { name: 'chatty', arguments: {} }, { meta: { 'io.modelcontextprotocol/logLevel': 'loud' } });
    assert.equal(bad.response.error.code, -32602);
  });
});
