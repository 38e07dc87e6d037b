/**
 * What a message connection keeps per message, through a real stdio process whose stderr nobody
 * reads (a full pipe: the log destination is slower than the logging, as under the fuzzer):
 *
 * - request log lines cut long client-sent strings (a megabyte method name used to become two
 *   megabyte log lines, queued in memory behind the full pipe);
 * - pending log output is capped by `logging.maxBufferBytes`: past it lines are dropped and one
 *   `log.dropped` line with the count is written once stderr drains;
 * - a connection holds at most MAX_LISTENS_PER_CONNECTION 2026 `subscriptions/listen` streams.
 *
 * Memory is the node's `heapUsed` after a full GC (the fixture's `memory` tool, node started with
 * --expose-gc), compared before and after a burst, with a wide margin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { CLI, DIST } from '../helpers/paths.js';
import { MAX_LISTENS_PER_CONNECTION } from '../../src/transports/message-connection.js';

const FIXTURE = join(DIST, 'test/fuzz/fixture-server.js');
const META26 = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const MiB = 1024 * 1024;

type Msg = { id?: string | number; method?: string; params?: any; result?: any; error?: { code: number; message: string; data?: any } };

/** A stdio node; its stderr is left unread unless {@link readStderr} is called. */
class StdioNode {
  readonly child: ChildProcess;
  private readonly waiting = new Map<string | number, (m: Msg) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly notifications: Msg[] = [];
  stderr = '';

  constructor(env: Record<string, string>) {
    const stateDir = mkdtempSync(join(tmpdir(), 'andon-log-bounds-'));
    this.child = spawn(process.execPath, ['--expose-gc', CLI, 'serve', FIXTURE, '--stdio', '--state-dir', stateDir], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const decoder = new StringDecoder('utf8');
    let buf = '';
    this.child.stdout!.on('data', (c: Buffer) => {
      buf += decoder.write(c);
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        const m = JSON.parse(buf.slice(0, nl)) as Msg;
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (m.id !== undefined && m.method === undefined) this.waiting.get(m.id)?.(m);
        else this.notifications.push(m);
      }
    });
  }

  /** From now on stderr is read (the pipe drains). */
  readStderr(): void {
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => (this.stderr += s));
  }

  write(m: object): void {
    this.child.stdin!.write(`${JSON.stringify(m)}\n`);
  }

  /** Sends a request and resolves with its answer (10 s at most). */
  request(id: string | number, method: string, params?: object): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${method} (id ${String(id).slice(0, 40)}) within 10 s`)), 10_000);
      this.timers.add(t);
      this.waiting.set(id, (m) => {
        clearTimeout(t);
        this.timers.delete(t);
        this.waiting.delete(id);
        resolve(m);
      });
      this.write(params ? { jsonrpc: '2.0', id, method, params } : { jsonrpc: '2.0', id, method });
    });
  }

  /** The node's heapUsed after a full GC, MiB. */
  async heapUsedMiB(tag: string): Promise<number> {
    const a = await this.request(`mem-${tag}`, 'tools/call', { name: 'memory', arguments: {}, _meta: META26 });
    const text = a.result?.content?.[0]?.text;
    assert.equal(typeof text, 'string', `memory tool answered: ${JSON.stringify(a).slice(0, 300)}`);
    return JSON.parse(text as string).heapUsed / MiB;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    this.child.stdin!.end();
    this.child.stderr!.resume();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

test('a megabyte method name is not kept as megabyte log lines behind a full stderr', async () => {
  // Debug: the start line too; the buffer cap set far out of the way, so only the cut is tested.
  const node = new StdioNode({ ANDON_LOG_LEVEL: 'debug', ANDON_LOG_MAX_BUFFER_BYTES: String(1024 * MiB) });
  try {
    await node.heapUsedMiB('warm');
    const before = await node.heapUsedMiB('before');
    // 120 requests with a distinct 512 KiB method name (escaped in JSON: 1 MiB a log line), and
    // params with a 512 KiB string. Uncut, that is about 240 MiB of log lines.
    const method = '"'.repeat(512 * 1024);
    const answers: Promise<Msg>[] = [];
    for (let i = 0; i < 120; i++) answers.push(node.request(i, `${i}${method}`, { pad: 'x'.repeat(512 * 1024) }));
    for (const a of await Promise.all(answers)) assert.ok(a.error, 'an unknown method is an error');
    const after = await node.heapUsedMiB('after');
    assert.ok(after - before < 48, `heapUsed after GC grew ${(after - before).toFixed(1)} MiB (${before.toFixed(1)} → ${after.toFixed(1)}); the uncut log lines would be about 240 MiB`);
  } finally {
    await node.stop();
  }
});

test('log output waiting for a slow stderr is capped; the dropped lines are counted in one log.dropped line', async () => {
  const node = new StdioNode({ ANDON_LOG_LEVEL: 'debug', ANDON_LOG_MAX_BUFFER_BYTES: String(256 * 1024) });
  try {
    await node.heapUsedMiB('warm');
    const before = await node.heapUsedMiB('before');
    // 600 pings whose params log as about 64 KiB each (64 strings of 1,000 characters: under the
    // cut): about 38 MiB of log lines, with nobody reading stderr.
    const pad = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(1000, 'y'));
    const answers: Promise<Msg>[] = [];
    for (let i = 0; i < 600; i++) answers.push(node.request(`p${i}`, 'ping', { pad }));
    await Promise.all(answers);
    const after = await node.heapUsedMiB('after');
    assert.ok(after - before < 16, `heapUsed after GC grew ${(after - before).toFixed(1)} MiB (${before.toFixed(1)} → ${after.toFixed(1)}); without the cap the queue holds about 38 MiB`);
    // Read stderr: once the queue drains, the next line is preceded by the count of dropped lines.
    node.readStderr();
    // (A warning that does not fit either is dropped too, its counts carried to the next one.)
    const dropped = { lines: 0, bytes: 0, warnings: 0 };
    for (let i = 0; i < 100 && dropped.lines < 100; i++) {
      await node.request(`after-${i}`, 'ping');
      await new Promise((r) => setTimeout(r, 100));
      Object.assign(dropped, { lines: 0, bytes: 0, warnings: 0 });
      for (const l of node.stderr.split('\n')) {
        if (!l.includes('"event":"log.dropped"')) continue;
        const w = JSON.parse(l) as { lines: number; bytes: number };
        dropped.lines += w.lines;
        dropped.bytes += w.bytes;
        dropped.warnings++;
      }
    }
    assert.ok(dropped.lines >= 100 && dropped.bytes >= 8 * MiB, `most of the 1,200 lines were dropped and counted in log.dropped lines: ${JSON.stringify(dropped)}; stderr ends: ${node.stderr.slice(-300)}`);
  } finally {
    await node.stop();
  }
});

test(`a connection holds at most ${MAX_LISTENS_PER_CONNECTION} subscriptions/listen streams; a cancelled one frees its place`, async () => {
  const node = new StdioNode({ ANDON_LOG_LEVEL: 'info' });
  node.readStderr();
  try {
    const extra = 24;
    const answers: Promise<Msg>[] = [];
    // An open listen is never answered: its promise is left to the timeout (caught).
    const listen = (id: string) => node.request(id, 'subscriptions/listen', { notifications: { toolsListChanged: true }, _meta: META26 }).catch((): Msg => ({}));
    for (let i = 0; i < MAX_LISTENS_PER_CONNECTION + extra; i++) answers.push(listen(`L${i}`));
    // Open listens are not answered; the refused ones are, at once. Wait for the refusals.
    const refusals = await Promise.all(answers.slice(MAX_LISTENS_PER_CONNECTION));
    for (const r of refusals) {
      assert.equal(r.error?.code, -32600, JSON.stringify(r));
      assert.equal(r.error?.data?.code, 'ANDON_TOO_MANY_LISTENS');
    }
    // The first ones are acknowledged once admitted (asynchronously: after the refusals).
    const acked = () => node.notifications.filter((n) => n.method === 'notifications/subscriptions/acknowledged').map((n) => n.params._meta['io.modelcontextprotocol/subscriptionId']);
    await node.request('sync', 'ping');
    for (let i = 0; i < 100 && acked().length < MAX_LISTENS_PER_CONNECTION; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(acked(), Array.from({ length: MAX_LISTENS_PER_CONNECTION }, (_, i) => `L${i}`));
    // A duplicate id is refused as such, not opened a second time.
    const dup = await listen('L3');
    assert.match(dup.error?.message ?? '', /already in flight/);
    // Cancelling one frees a place: the next listen is acknowledged.
    node.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'L0', _meta: META26 } });
    void listen('L-next');
    for (let i = 0; i < 100 && !acked().includes('L-next'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(acked().includes('L-next'), 'the listen after a cancel was acknowledged');
  } finally {
    await node.stop();
  }
});
