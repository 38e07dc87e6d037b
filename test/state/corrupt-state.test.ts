/**
 * Defects 6h and 6j through real processes: corrupt, misshapen or misplaced state files never
 * stop a node from starting and never bring a halted component back (failed closed, with an
 * alert); halts restored at start reach readiness and the halted-component metrics at once.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CLI, DIST } from '../helpers/paths.js';
import { freePort, nodeFleet, startNode, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';

const run = promisify(execFile);
const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { dirs, procs, fresh } = nodeFleet(MODULE, 'andon-state-');
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function kill9(p: NodeProc): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

/** A state file exactly as the file store writes it: schema tag and a valid checksum. */
function envelope(value: unknown): string {
  const payload = JSON.stringify(value);
  return JSON.stringify({ schema: 'andon-store/1', sha256: createHash('sha256').update(payload).digest('hex'), savedAt: Date.now(), payload });
}

async function component(p: NodeProc, id: string): Promise<{ state: string; haltReason: string | null }> {
  const r = await p.admin('GET', '/admin/components');
  assert.equal(r.status, 200);
  const c = r.body.components.find((x: { id: string }) => x.id === id);
  assert.ok(c, `component ${id} listed`);
  return c;
}

async function toolNames(p: NodeProc): Promise<string[]> {
  const s = new Session2025(p.url);
  await s.initialize();
  return (await s.call('tools/list')).tools.map((t: { name: string }) => t.name);
}

async function quarantined(stateDir: string): Promise<string[]> {
  return readdir(join(stateDir, 'quarantine')).catch(() => []);
}

/** A webhook receiver that records the alerts' titles. */
async function alertSink(): Promise<{ url: string; titles: string[] }> {
  const titles: string[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const j = JSON.parse(body) as { title?: string; alert?: { title?: string } };
        titles.push(j.title ?? j.alert?.title ?? body);
      } catch {
        titles.push(body);
      }
      res.writeHead(204).end();
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`, titles };
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('corrupt state (real processes)', () => {
  test('a garbage halt file keeps its tool halted and hidden (failed closed); andon status and an alert say why; it stays halted on the next start', async () => {
    const sink = await alertSink();
    const n = await fresh({ ANDON_WEBHOOK_SECRET: 'corrupt-halt-secret' });
    const config = `${n.stateDir}-alerts.json`;
    dirs.push(config);
    await writeFile(config, JSON.stringify({ channels: { hook: { type: 'webhook', url: sink.url } } }));
    let node = await n.start({ ANDON_ALERTS_CONFIG: config });
    assert.equal((await node.admin('POST', '/admin/components/tool:echo/halt', { reason: 'bad data' })).status, 200);
    await kill9(node);
    const file = join(n.stateDir, 'halt', 'tool%3Aecho.json');
    await writeFile(file, 'garbage \u0000{{{ not json');

    node = await n.start({ ANDON_ALERTS_CONFIG: config });
    const c = await component(node, 'tool:echo');
    assert.equal(c.state, 'halted_fatal');
    assert.match(c.haltReason ?? '', /^halt record unreadable: not valid JSON .*\(quarantined to .*quarantine/);
    const alert = (await node.admin('GET', '/admin/alerts')).body.alerts.find((a: { title: string }) => a.title === 'Corrupt state quarantined: halt record of tool:echo');
    assert.ok(alert, 'a critical alert names the corrupt halt record');
    assert.equal(alert.severity, 'critical');
    assert.match(alert.context.consequence, /tool:echo stays halted \(halted_fatal\)/);
    assert.match(alert.context.reason, /not valid JSON/);
    await until('the alert delivered', () => sink.titles.some((t) => t.includes('halt record of tool:echo')));
    assert.ok(!(await toolNames(node)).includes('echo'), 'echo stays hidden');
    assert.match(node.stderr(), /CORRUPT STATE FILE QUARANTINED/);
    assert.equal((await quarantined(n.stateDir)).filter((f) => f.startsWith('halt__tool%3Aecho')).length, 1);

    const status = await run(process.execPath, [CLI, 'status', '--state-dir', n.stateDir], { env: { ...process.env, ANDON_OPS_URL: node.opsUrl, ANDON_ADMIN_TOKEN: '' } });
    const line = status.stdout.split('\n').find((l) => l.startsWith('tool:echo'));
    assert.match(line ?? '', /halted_fatal\s+\d+\s+halt record unreadable: not valid JSON/);

    // The replacement record is valid and halted: a second start needs no corrupt file to stay closed.
    await kill9(node);
    node = await n.start();
    assert.equal((await component(node, 'tool:echo')).state, 'halted_fatal');
    assert.ok(!(await toolNames(node)).includes('echo'));
    assert.equal((await node.admin('POST', '/admin/components/tool:echo/resume')).status, 200);
    assert.ok((await toolNames(node)).includes('echo'), 'an operator can resume it');
    await kill9(node);
  });

  test('checksum-valid files of the wrong shape are quarantined and the node starts; a misshapen halt record still halts', async () => {
    const n = await fresh();
    await mkdir(join(n.stateDir, 'halt'), { recursive: true });
    await mkdir(join(n.stateDir, 'sessions'), { recursive: true });
    await mkdir(join(n.stateDir, 'journal'), { recursive: true });
    await writeFile(join(n.stateDir, 'halt', 'tool%3Aecho.json'), envelope({ id: 'tool:other', state: 'sideways' }));
    await writeFile(join(n.stateDir, 'sessions', '7.json'), envelope({ s1: { id: 's1', subscriptions: 'nope' } }));
    await writeFile(join(n.stateDir, 'journal', 'inflight.json'), envelope({ not: 'an array' }));

    const node = await n.start();
    const c = await component(node, 'tool:echo');
    assert.equal(c.state, 'halted_fatal', 'the id comes from the file name, not the content');
    assert.match(c.haltReason ?? '', /wrong shape: state: expected one of/);
    assert.ok(!(await toolNames(node)).includes('echo'));
    assert.ok((await toolNames(node)).includes('slow'), 'the rest serves');
    const q = await quarantined(n.stateDir);
    for (const prefix of ['halt__tool%3Aecho', 'sessions__7', 'journal__inflight']) assert.ok(q.some((f) => f.startsWith(prefix)), `${prefix} quarantined: ${q.join(', ')}`);
    await kill9(node);
  });

  test('a file where the sessions directory belongs: the node starts, moves it aside, alerts, and persists sessions again', async () => {
    const sink = await alertSink();
    const n = await fresh({ ANDON_WEBHOOK_SECRET: 'corrupt-state-secret' });
    const config = join(n.stateDir, '..', `${n.stateDir.split('/').pop()}-alerts.json`);
    dirs.push(config);
    await writeFile(config, JSON.stringify({ channels: { hook: { type: 'webhook', url: sink.url } } }));
    await writeFile(join(n.stateDir, 'sessions'), 'i am not a directory');
    const node = await startNode(MODULE, { stateDir: n.stateDir, port: await freePort(), opsPort: await freePort(), env: { ANDON_WEBHOOK_SECRET: 'corrupt-state-secret', ANDON_ALERTS_CONFIG: config } });
    procs.push(node);
    assert.match(node.stderr(), /CORRUPT STATE FILE QUARANTINED/);
    assert.ok((await quarantined(n.stateDir)).some((f) => f.startsWith('sessions__-')));
    const alerts = await node.admin('GET', '/admin/alerts');
    assert.ok(
      alerts.body.alerts.some((a: { title: string; severity: string }) => a.title === 'Corrupt state quarantined: sessions/-' && a.severity === 'critical'),
      JSON.stringify(alerts.body.alerts.map((a: { title: string }) => a.title)),
    );
    await until('the alert delivered to the webhook', () => sink.titles.some((t) => t.includes('Corrupt state quarantined: sessions/-')));
    // Sessions persist again: the next flush makes a fresh directory.
    const s = new Session2025(node.url);
    await s.initialize();
    await until('sessions directory recreated', async () => (await stat(join(n.stateDir, 'sessions')).catch(() => null))?.isDirectory() === true);
    await until('the session log written', async () => (await readdir(join(n.stateDir, 'sessions'))).includes('sessions.lines'));
    await kill9(node);
  });

  test('a directory where a halt record belongs halts that component instead of crashing the start', async () => {
    const n = await fresh();
    await mkdir(join(n.stateDir, 'halt', 'tool%3Aecho.json'), { recursive: true });
    const node = await n.start();
    const c = await component(node, 'tool:echo');
    assert.equal(c.state, 'halted_fatal');
    assert.match(c.haltReason ?? '', /a directory where a record file belongs/);
    assert.ok(!(await toolNames(node)).includes('echo'));
    const rec = JSON.parse(JSON.parse(await readFile(join(n.stateDir, 'halt', 'tool%3Aecho.json'), 'utf8')).payload);
    assert.equal(rec.state, 'halted_fatal');
    await kill9(node);
  });
});

describe('halts restored at start (real processes)', () => {
  test('after kill -9, /health/ready is 503 and the halted gauges count the restored halts right after start', async () => {
    const n = await fresh();
    let node = await n.start();
    assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);
    assert.equal((await node.admin('POST', '/admin/components/server:cord/halt', { reason: 'maintenance' })).status, 200);
    assert.equal((await node.admin('POST', '/admin/components/tool:echo/halt', { reason: 'bad data' })).status, 200);
    await kill9(node);

    node = await n.start();
    const ready = await fetch(`${node.opsUrl}/health/ready`);
    const body = await ready.text();
    assert.equal(ready.status, 503, body);
    assert.match(body, /critical component halted: server:cord/);
    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    const halted = /^andon_components_halted (\d+)$/m.exec(metrics);
    assert.ok(halted && Number(halted[1]) >= 2, `andon_components_halted: ${halted?.[0]}`);
    assert.match(metrics, /^andon_component_halted\{component="tool:echo",kind="tool"\} 1$/m);
    assert.match(metrics, /^andon_component_halted\{component="server:cord",kind="server"\} 1$/m);

    // Resuming clears both, by the same events.
    assert.equal((await node.admin('POST', '/admin/components/server:cord/resume')).status, 200);
    assert.equal((await node.admin('POST', '/admin/components/tool:echo/resume')).status, 200);
    assert.equal((await fetch(`${node.opsUrl}/health/ready`)).status, 200);
    const after = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(after, /^andon_components_halted 0$/m);
    assert.match(after, /^andon_component_halted\{component="tool:echo",kind="tool"\} 0$/m);
    await kill9(node);
  });
});
