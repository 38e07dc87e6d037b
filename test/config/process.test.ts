/**
 * The configuration through real processes: `andon start --config bad.yaml` exits 2 naming the
 * key path; a good file is honoured; `andon config print --json` redacts; SIGHUP and
 * `andon config reload` apply a changed alerts section while an MCP session and its open SSE
 * stream keep working; a bad file on reload is rejected and the old configuration stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { ACCEPT, Session2025 } from '../helpers/mcp-http.js';
import { withTimeout } from '../helpers/wait.js';

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function andon(args: string[], opts: { cwd: string; env?: Record<string, string> }): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    // A clean slate: no inherited overrides (the test runner may set ANDON_STATE_DIR).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `cond` every 20 ms until it holds; fails with `what` and the node's stderr after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, what: string, run: Run, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'andon-cfg-proc-'));
}

test('andon start --config bad.yaml exits 2 naming the key path', async () => {
  const cwd = tmp();
  writeFileSync(join(cwd, 'bad.yaml'), 'http:\n  port: abc\nops:\n  prot: 1\n');
  const r = andon(['start', '--config', 'bad.yaml'], { cwd });
  assert.equal(await withTimeout(r.exited, 20_000, 'exit'), 2);
  assert.match(r.stderr(), /config error: http\.port: expected integer 0-65535, got "abc"/);
  assert.match(r.stderr(), /ops\.prot: unknown key/);
  // The same file found by default in the working directory, and via ANDON_CONFIG.
  writeFileSync(join(cwd, 'andon.config.yaml'), 'drain:\n  graceMs: soon\n');
  const d = andon(['config', 'check'], { cwd });
  assert.equal(await withTimeout(d.exited, 20_000, 'exit'), 2);
  assert.match(d.stderr(), /config error: drain\.graceMs: expected a non-negative integer \(ms\), got "soon"/);
  const e = andon(['config', 'check'], { cwd: tmp(), env: { ANDON_CONFIG: join(cwd, 'bad.yaml') } });
  assert.equal(await withTimeout(e.exited, 20_000, 'exit'), 2);
  assert.match(e.stderr(), /http\.port/);
  const f = andon(['config', 'check', '--config', 'bad.yaml'], { cwd, env: {} });
  assert.equal(await withTimeout(f.exited, 20_000, 'exit'), 2);
});

test('a good config is honoured (ports and state dir from the file), and config print --json redacts', async () => {
  const cwd = tmp();
  const port = await freePort();
  const opsPort = await freePort();
  const stateDir = join(cwd, 'state');
  writeFileSync(join(cwd, 'andon.config.yaml'), `http:\n  port: ${port}\nops:\n  port: ${opsPort}\nstateDir: ${stateDir}\nalerts:\n  channels:\n    hook: { type: webhook, url: "http://127.0.0.1:9/hook", secretEnv: HOOK_SECRET }\n`);
  const env = { HOOK_SECRET: 'hook-secret-value-123' };
  const check = andon(['config', 'check'], { cwd, env });
  assert.equal(await withTimeout(check.exited, 20_000, 'check'), 0, check.stderr());
  assert.doesNotMatch(check.stderr(), /warning/);
  // Without the secret variable: a warning, or an error with --strict.
  const lax = andon(['config', 'check'], { cwd });
  assert.equal(await withTimeout(lax.exited, 20_000, 'check'), 0, lax.stderr());
  assert.match(lax.stderr(), /warning: .*HOOK_SECRET is not set/);
  const strict = andon(['config', 'check', '--strict'], { cwd });
  assert.equal(await withTimeout(strict.exited, 20_000, 'check'), 2);
  assert.match(strict.stderr(), /config error: .*HOOK_SECRET is not set/);
  const print = andon(['config', 'print', '--json'], { cwd, env: { ...env, OPS_PORT: String(opsPort) } });
  assert.equal(await withTimeout(print.exited, 20_000, 'print'), 0, print.stderr());
  const printed = JSON.parse(print.stdout()) as { http: { port: number }; alerts: { channels: { hook: { secretEnv: string } } } };
  assert.equal(printed.http.port, port);
  assert.equal(printed.alerts.channels.hook.secretEnv, '${HOOK_SECRET}');
  assert.ok(!print.stdout().includes('hook-secret-value-123'));
  const yaml = andon(['config', 'print'], { cwd, env });
  assert.equal(await withTimeout(yaml.exited, 20_000, 'print'), 0);
  assert.match(yaml.stdout(), /^# effective andon configuration/);
  assert.match(yaml.stdout(), new RegExp(`port: ${port}`));

  const node = andon(['example', 'simple'], { cwd, env });
  try {
    await until(() => node.stderr().includes('listening on'), 'the node to listen', node);
    assert.match(node.stderr(), new RegExp(`listening on http://127\\.0\\.0\\.1:${port}/mcp \\(ops: http://127\\.0\\.0\\.1:${opsPort}`));
    const s = new Session2025(`http://127.0.0.1:${port}/mcp`);
    const init = await s.initialize();
    assert.equal(init.status, 200);
    const token = readFileSync(join(stateDir, 'admin-token'), 'utf8').trim();
    const alerts = (await (await fetch(`http://127.0.0.1:${opsPort}/admin/alerts`, { headers: { authorization: `Bearer ${token}` } })).json()) as { channels: string[] };
    assert.deepEqual(alerts.channels, ['hook']);
  } finally {
    node.child.kill('SIGTERM');
    await withTimeout(node.exited, 20_000, 'node exit');
  }
});

test('SIGHUP and andon config reload apply a changed alerts section; the session and its SSE stream survive', async () => {
  const cwd = tmp();
  const port = await freePort();
  const opsPort = await freePort();
  const stateDir = join(cwd, 'state');
  const file = join(cwd, 'andon.config.yaml');
  const config = (channels: string, extra = '') =>
    `http:\n  port: ${port}\nops:\n  port: ${opsPort}\nstateDir: ${stateDir}\n${extra}alerts:\n  channels:\n${channels}`;
  const ch = (name: string) => `    ${name}: { type: webhook, url: "http://127.0.0.1:9/${name}", secretEnv: HOOK_SECRET }\n`;
  writeFileSync(file, config(ch('a')));
  const env = { HOOK_SECRET: 'hook-secret-value-456' };
  const node = andon(['example', 'simple', '--config', file], { cwd, env });
  const sse = new AbortController();
  try {
    await until(() => node.stderr().includes('listening on'), 'the node to listen', node);
    const url = `http://127.0.0.1:${port}/mcp`;
    const ops = `http://127.0.0.1:${opsPort}`;
    const token = readFileSync(join(stateDir, 'admin-token'), 'utf8').trim();
    const channels = async () => ((await (await fetch(`${ops}/admin/alerts`, { headers: { authorization: `Bearer ${token}` } })).json()) as { channels: string[]; routes: Record<string, string[]> });
    assert.deepEqual((await channels()).channels, ['a']);

    // An MCP session with its standalone SSE stream open.
    const s = new Session2025(url);
    await s.initialize();
    const res = await fetch(url, { headers: { accept: ACCEPT, ...s.headers() }, signal: sse.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    let streamEnded = false;
    const reader = res.body!.getReader();
    const pump = (async () => {
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch {
        // aborted by the test at the end
      }
      streamEnded = true;
    })();
    const tools = await s.call('tools/list');
    const tool = (tools.tools as Array<{ name: string }>)[0]!.name;

    // 1. SIGHUP with a new channel, new routes, a new log level and a port change.
    writeFileSync(file, config(ch('a') + ch('b') + '  routes: { critical: [b] }\n', 'logging:\n  level: debug\n').replace(`port: ${port}`, `port: ${port + 1}`));
    node.child.kill('SIGHUP');
    await until(async () => (await channels()).channels.includes('b'), 'the SIGHUP reload to add channel b', node);
    assert.deepEqual((await channels()).routes.critical, ['b']);
    await until(() => node.stderr().includes('configuration reloaded'), 'the reload log line', node);
    assert.match(node.stderr(), /"needsRestart":\["http\.port"\]|"keys":\["http\.port"\]/);
    assert.equal(node.child.exitCode, null, 'SIGHUP does not end the process');
    assert.equal(streamEnded, false, 'the open SSE stream survived the reload');
    const before = node.stderr().length;
    const after = await s.request('tools/list');
    assert.equal(after.status, 200);
    assert.ok(after.response.result, 'the session still works after SIGHUP');
    // logging.level went from info to debug: request lines (debug) now reach the log.
    assert.doesNotMatch(node.stderr().slice(0, before), /"level":20,/, 'no debug lines before the reload');
    await until(() => /"level":20,/.test(node.stderr().slice(before)), 'a debug line after the level reload', node);
    assert.equal(tool.length > 0, true);

    // 2. `andon config reload` (CLI → POST /admin/config/reload): channel a goes away.
    writeFileSync(file, config(ch('b') + ch('c')));
    const cliEnv = { ...env, ANDON_OPS_URL: ops };
    const r = andon(['config', 'reload', '--state-dir', stateDir], { cwd, env: cliEnv });
    assert.equal(await withTimeout(r.exited, 20_000, 'config reload'), 0, r.stderr());
    assert.match(r.stdout(), /applied: .*alerts/);
    assert.match(r.stdout(), /applied: .*logging\.level/, 'level back to the default info');
    assert.deepEqual((await channels()).channels, ['b', 'c']);
    assert.equal(streamEnded, false, 'the SSE stream survived the CLI reload');
    assert.ok((await s.request('tools/list')).response.result, 'the session still works after andon config reload');

    // 3. A bad file is rejected; the node keeps the previous configuration.
    writeFileSync(file, config(ch('b')) + '  colour: red\n');
    const bad = andon(['config', 'reload', '--state-dir', stateDir], { cwd, env: cliEnv });
    assert.equal(await withTimeout(bad.exited, 20_000, 'bad reload'), 2);
    assert.match(bad.stderr(), /config reload rejected[\s\S]*\n {2}alerts\.colour: unknown key/);
    assert.deepEqual((await channels()).channels, ['b', 'c']);
    writeFileSync(file, config(ch('z')).replace('secretEnv: HOOK_SECRET', 'secretEnv: UNSET_SECRET'));
    const unset = await fetch(`${ops}/admin/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(unset.status, 422);
    assert.match(((await unset.json()) as { errors: string[] }).errors[0]!, /UNSET_SECRET is not set/);
    assert.deepEqual((await channels()).channels, ['b', 'c']);
    const noAuth = await fetch(`${ops}/admin/config/reload`, { method: 'POST' });
    assert.equal(noAuth.status, 401);
    assert.equal(streamEnded, false);
    sse.abort();
    await withTimeout(pump, 5_000, 'stream reader');
  } finally {
    sse.abort();
    node.child.kill('SIGTERM');
    await withTimeout(node.exited, 20_000, 'node exit');
  }
});
