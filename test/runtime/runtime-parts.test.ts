/**
 * The runtime's modules in-process: drain phases on a TestClock, acknowledged sessions, process
 * signals and exit codes, failure detection, the admin token, the component tree, listen failures.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, createRuntime, EXIT, type Runtime } from '../../src/index.js';
import { channels, type DrainEvent } from '../../src/runtime/events.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { TestClock } from '../../src/util/clock.js';
import { nullLogger } from '../../src/util/logger.js';
import { FailureDetector } from '../../src/runtime/failure-detection.js';
import { installProcessHandlers } from '../../src/runtime/process-signals.js';
import { loadAdminToken } from '../../src/runtime/admin-token.js';
import { AndonError } from '../../src/errors/catalogue.js';
import { Session2025, post } from '../helpers/mcp-http.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runtime(store = new MemoryStore(), extra: Record<string, unknown> = {}): Promise<{ rt: Runtime; clock: TestClock; store: MemoryStore }> {
  const clock = new TestClock();
  const server = createServer({ name: 'parts', version: '1' });
  server.tool('block', (_a, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))));
  server.tool('echo', { annotations: { readOnlyHint: true } }, ({ text }: { text?: string }) => text ?? '');
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-parts-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server, store, clock, stateDir, http: { port: 0 }, ops: false, observability: false, signals: false, adminToken: 't', drain: { graceMs: 1000, haltMs: 5000 }, ...extra });
  await rt.start();
  return { rt, clock, store };
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('drain on a TestClock: DRAINING until the grace runs out on the clock, then HALTING aborts, STOPPED; phase durations from the clock', async () => {
  const { rt, clock } = await runtime();
  const s = new Session2025(rt.url!);
  await s.initialize();
  const call = s.request('tools/call', { name: 'block', arguments: {} });
  await until('the call in flight', () => rt.server.inflightRequests().length === 1);
  const events: DrainEvent[] = [];
  const sub = (e: unknown) => events.push(e as DrainEvent);
  channels.drain.subscribe(sub);
  try {
    const drained = rt.drain('test');
    assert.equal(rt.drainPhase, 'draining');
    const refused = await post(rt.url!, { jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'echo', arguments: {} } }, s.headers());
    assert.equal(refused.status, 503, 'new work is refused while draining');
    await clock.advance(999);
    assert.equal(rt.drainPhase, 'draining', 'the grace is measured on the injected clock');
    await clock.advance(1);
    const r = await drained;
    assert.deepEqual({ graceExpired: r.graceExpired, forced: r.forced, durationMs: r.durationMs }, { graceExpired: true, forced: 1, durationMs: 1000 });
    assert.deepEqual(events.map((e) => e.phase), ['draining', 'halting', 'stopped']);
    assert.equal(events[1]!.durationMs, 1000, 'time spent draining, from the clock');
    const reply = await call;
    assert.ok(reply.messages.some((m) => m.method === 'notifications/cancelled'));
    assert.equal(await rt.drain(), r, 'drain is idempotent');
  } finally {
    channels.drain.unsubscribe(sub);
  }
});

test('an acknowledged session is in the store before initialize is answered; the journal is on by default', async () => {
  class Gated extends MemoryStore {
    hold: (() => void) | undefined;
    override async set(ns: string, key: string, value: unknown): Promise<void> {
      if (ns === 'sessions' && !this.hold) await new Promise<void>((r) => (this.hold = r));
      await super.set(ns, key, value);
    }
  }
  const store = new Gated();
  const { rt } = await runtime(store);
  let answered = false;
  const s = new Session2025(rt.url!);
  const init = s.initialize().then(() => (answered = true));
  await until('the session write to start', () => store.hold !== undefined);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false, 'initialize waits for its session record');
  store.hold!();
  await init;
  assert.equal((await store.list('sessions')).length, 1);
  assert.ok(rt.journal);
  await rt.drain();
});

test('halt and resume through the component tree: node halt answers 503, a halted tool is hidden, components() shows both', async () => {
  const { rt } = await runtime();
  const s = new Session2025(rt.url!);
  await s.initialize();
  await rt.halt('tool:echo', 'bad data');
  assert.deepEqual((await s.call('tools/list')).tools.map((t: { name: string }) => t.name), ['block']);
  assert.equal(rt.components().find((c) => c.id === 'tool:echo')!.state, 'halted_manual');
  await rt.halt('node', 'maintenance');
  const r = await post(rt.url!, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, s.headers());
  assert.equal(r.status, 503);
  assert.equal(rt.components()[0]!.state, 'halted_manual');
  await rt.resume('node');
  await rt.resume('tool:echo');
  assert.equal((await s.call('tools/list')).tools.length, 2);
  await assert.rejects(rt.halt('tool:nope', 'x'), /nope/);
  await rt.drain();
});

test('a busy port: start rejects with ANDON_LISTEN_FAILED naming host:port and persists no halt', async () => {
  const blocker = createNetServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const store = new MemoryStore();
  const server = createServer({ name: 'busy', version: '1' });
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-parts-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server, store, stateDir, http: { port }, ops: false, observability: false, signals: false, adminToken: 't' });
  try {
    await assert.rejects(rt.start(), (e: AndonError) => e instanceof AndonError && e.code === 'ANDON_LISTEN_FAILED' && e.message.includes(`127.0.0.1:${port}`));
    assert.deepEqual(await store.list('halt'), []);
  } finally {
    blocker.close();
  }
});

test('process signals: SIGTERM drains then exits 0 (3 when the grace ran out); a second signal flushes and exits 4; an escaped error no tool owns exits 70', async () => {
  const proc = new EventEmitter();
  const exits: number[] = [];
  const calls: string[] = [];
  let graceExpired = false;
  let contained = false;
  const off = installProcessHandlers(
    {
      log: nullLogger,
      exit: (c) => exits.push(c),
      drain: async (reason) => (calls.push(`drain ${reason}`), { graceExpired, drained: 0, forced: 0, durationMs: 0 }),
      flush: async () => void calls.push('flush'),
      escaped: () => contained,
      shortenDrain: () => void calls.push('shorten'),
    },
    proc,
  );
  proc.emit('SIGTERM');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits, [EXIT.ok]);
  proc.emit('SIGINT');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits, [EXIT.ok, EXIT.forced]);
  assert.deepEqual(calls, ['drain signal SIGTERM', 'flush']);
  off();
  assert.equal(proc.listenerCount('SIGTERM'), 0);

  const proc2 = new EventEmitter();
  const exits2: number[] = [];
  graceExpired = true;
  installProcessHandlers({ log: nullLogger, exit: (c) => exits2.push(c), drain: async () => ({ graceExpired, drained: 0, forced: 1, durationMs: 0 }), flush: async () => {}, escaped: () => contained, shortenDrain: () => {} }, proc2);
  contained = true;
  proc2.emit('uncaughtException', new Error('in a tool'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits2, [], 'contained as a tool crash: no exit');
  contained = false;
  proc2.emit('unhandledRejection', new Error('nowhere'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits2, [EXIT.fatal]);
  const proc3 = new EventEmitter();
  const exits3: number[] = [];
  installProcessHandlers({ log: nullLogger, exit: (c) => exits3.push(c), drain: async () => ({ graceExpired: true, drained: 0, forced: 1, durationMs: 0 }), flush: async () => {}, escaped: () => false, shortenDrain: () => {} }, proc3);
  proc3.emit('SIGTERM');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits3, [EXIT.graceExpired]);
});

test('failure detection: an error raised in a tool\'s scope crashes that tool; outside any scope it is not contained', () => {
  const d = new FailureDetector(nullLogger);
  const crashed: string[] = [];
  d.started('t', { crashed: (e) => crashed.push(e.message), exited: () => {} });
  assert.equal(d.scope.run('t', () => d.escaped(new Error('boom'), 'uncaught exception')), true);
  assert.deepEqual(crashed, ['uncaught exception: boom']);
  assert.equal(d.escaped(new Error('outside'), 'uncaught exception'), false);
  d.stopped('t');
  // A timer the handler left behind firing after the tool was halted (or while it waits for its
  // restart): still the tool's, contained and logged — never the node's end (found by the crash
  // cycle chaos test: the node exited when a halted tool's timer threw).
  assert.equal(d.scope.run('t', () => d.escaped('late', 'unhandled rejection')), true, 'a stopped tool\'s late error is contained');
  assert.deepEqual(crashed, ['uncaught exception: boom'], 'the stopped tool is not crashed again');
});

test('admin token: generated once into the state directory with mode 0600, then reused; a given token wins', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'andon-token-'));
  dirs.push(dir);
  const saved = process.env.ANDON_ADMIN_TOKEN;
  delete process.env.ANDON_ADMIN_TOKEN;
  try {
    const t1 = await loadAdminToken(dir, nullLogger);
    assert.match(t1, /^[A-Za-z0-9_-]{32}$/);
    assert.equal((await stat(join(dir, 'admin-token'))).mode & 0o777, 0o600);
    assert.equal(await loadAdminToken(dir, nullLogger), t1);
    assert.equal(await loadAdminToken(dir, nullLogger, 'given'), 'given');
  } finally {
    if (saved !== undefined) process.env.ANDON_ADMIN_TOKEN = saved;
  }
});
