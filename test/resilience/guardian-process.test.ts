/**
 * The resource guardian through a real process: a node with `--max-old-space-size=128` and a tool
 * that retains heap enters degradation mode (new sessions 503, the alert reaches a real webhook
 * receiver, readiness fails, `andon status` shows it), leaves it when the memory is released, and
 * at the hard limit stops: exit 75, `node` persisted halted_fatal, and after a restart on the same
 * state directory it answers 503 until `andon resume node`.
 *
 * Thresholds are lowered for the test (degrade 60 %, hard 85 % of the 128 MB old generation) so the
 * node gets there in a few steps; the seed defaults are checked by the config tests.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeFleet, freePort, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';
import { ROOT } from '../helpers/paths.js';

const fleet = nodeFleet(join(ROOT, 'dist/test/resilience/fixtures/memory-server.js'), 'andon-guardian-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real webhook receiver: every alert body it is sent. */
async function receiver() {
  const got: Array<{ action: string; severity: string; title: string; context: Record<string, unknown> }> = [];
  const srv = createHttpServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  after(() => new Promise<void>((r) => srv.close(() => r())));
  return { url: `http://127.0.0.1:${port}/hook`, got };
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function mode(n: NodeProc): Promise<{ mode: string; pressure: number; reason: string | null }> {
  const r = await n.admin('GET', '/admin/guardian');
  assert.equal(r.status, 200);
  return r.body;
}

test('a 128 MB node degrades under retained memory, recovers when it is released, stops at the hard limit (exit 75) and stays halted across a restart until `andon resume node`', async () => {
  const t0 = Date.now();
  const mark = (w: string) => process.stderr.write(`T ${w} ${Date.now() - t0}\n`);
  const hook = await receiver();
  const n = await fleet.fresh({ NODE_OPTIONS: '--max-old-space-size=128', ANDON_WEBHOOK_SECRET: 'guardian-test-secret' });
  const config = join(n.stateDir, 'andon.config.json');
  await writeFile(
    config,
    JSON.stringify({
      guardian: { intervalMs: 100, warning: 0.55, degrade: 0.6, hard: 0.85, recover: 0.5, recoverSamples: 2 },
      alerts: { channels: { hook: { type: 'webhook', url: hook.url } }, retry: { attempts: 2, baseMs: 100, maxMs: 200 } },
    }),
  );
  const node = await n.start({ ANDON_CONFIG: config });
  const base = await mode(node);
  assert.equal(base.mode, 'normal', `starts normal at ${base.pressure}`);

  mark('const a = new Sessio');
  const a = new Session2025(node.url);
  assert.equal((await a.initialize()).status, 200);

  // Retain 8 MB at a time, waiting two samples after each, until the guardian degrades the node.
  let st = base;
  for (let i = 0; i < 25 && st.mode !== 'degraded'; i++) {
    await a.call('tools/call', { name: 'retain', arguments: { mb: 8 } });
    await sleep(250);
    st = await mode(node);
  }
  assert.equal(st.mode, 'degraded', `degraded (pressure ${st.pressure})`);
  assert.match(st.reason!, /^heap at \d+% of its limit/);

  mark('const refused = awai');
  const refused = await new Session2025(node.url).initialize();
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.response!.error.data.code, 'ANDON_DEGRADED');
  assert.equal((await a.call('tools/call', { name: 'echo', arguments: { text: 'still served' } })).content[0].text, 'still served');
  const ready = await fetch(`${node.opsUrl}/health/ready`);
  assert.equal(ready.status, 503, 'readiness fails while degraded');
  assert.match(await ready.text(), /degraded: heap at/);
  const degradedAlert = await until('the "System degraded" alert', () => hook.got.find((x) => x.title === 'System degraded'));
  assert.equal(degradedAlert.severity, 'critical');
  assert.equal(degradedAlert.action, 'trigger');
  const status = await runCli(['status', '--ops-url', node.opsUrl, '--token', node.token()]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^degradation: DEGRADED since .*heap at \d+% of its limit.*rate limits at 50%; refused \{"initialize":1/m);
  assert.match(status.stdout, /^pressure: \d+% \(heap\) — heap \d+%/m);

  mark('// Release:');
  // Release: pressure falls under 50 % for two samples → degradation ends, sessions are admitted again.
  await a.call('tools/call', { name: 'release', arguments: {} });
  await until('the end of degradation', async () => ((await mode(node)).mode !== 'degraded' ? true : undefined));
  assert.equal((await new Session2025(node.url).initialize()).status, 200);
  await until('the resolve of "System degraded"', () => hook.got.find((x) => x.action === 'resolve' && x.title === 'System recovered from degradation'));
  assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);

  mark('// Past the hard lim');
  // Past the hard limit: emergency stop, exit 75, no drain.
  for (let i = 0; i < 40 && node.child.exitCode === null; i++) {
    await a.request('tools/call', { name: 'retain', arguments: { mb: 6 } }).catch(() => undefined);
    await sleep(250);
  }
  mark('const exit = await');
  const exit = await Promise.race([node.exited, sleep(8000).then(() => undefined)]);
  assert.deepEqual(exit, { code: 75, signal: null }, node.stderr().slice(-2000));
  assert.match(node.stderr(), /EMERGENCY STOP: resource hard limit reached/);
  const emergency = hook.got.find((x) => x.title === 'Emergency shutdown');
  assert.ok(emergency, `the emergency alert was delivered before exit: ${JSON.stringify(hook.got.map((x) => x.title))}`);
  assert.equal(emergency.severity, 'critical');

  mark('// Restart on the sa');
  // Restart on the same state: the node is halted (halted_fatal) and refuses until resumed.
  const again = await n.start({ ANDON_CONFIG: config, NODE_OPTIONS: '' });
  const halted = await new Session2025(again.url).initialize();
  assert.equal(halted.status, 503);
  assert.equal(halted.response!.error.data.code, 'ANDON_NODE_HALTED');
  assert.match(halted.response!.error.message, /emergency stop: heap at \d+% of its limit/);
  const comps = await again.admin('GET', '/admin/components');
  const nodeRow = comps.body.components.find((c: { id: string }) => c.id === 'node');
  assert.equal(nodeRow.state, 'halted_fatal');
  mark('const resume = await');
  const resume = await runCli(['resume', 'node', '--ops-url', again.opsUrl, '--token', again.token()]);
  assert.equal(resume.code, 0, resume.stderr);
  mark('resumed');
  const s = new Session2025(again.url);
  assert.equal((await s.initialize()).status, 200);
  const back = await s.request('tools/call', { name: 'echo', arguments: { text: 'back' } });
  assert.equal(back.response?.result?.content[0].text, 'back', `${back.text}\n${again.stderr().slice(-3000)}`);
  mark("again.child.kill('SI");
  again.child.kill('SIGTERM');
  await again.exited;
  mark('end');
});
