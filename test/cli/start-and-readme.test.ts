/**
 * Issue 9, 6m, through real processes: `npm start` drains when npm gets SIGTERM (no orphaned
 * node), a user's `npm start` running `andon serve` (npm → sh → node, where the shell forwards
 * nothing) drains too, and the README's ten-line server runs as written and answers our client.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { waitFor } from '../helpers/wait.js';
import { createClient } from '../../src/index.js';

const dirs: string[] = [];
const pids: number[] = [];
after(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns with the caller's environment minus ANDON_* and npm's lifecycle variables. */
function start(cmd: string, args: string[], cwd: string, env: Record<string, string>): Proc {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANDON_') && !k.startsWith('npm_') && k !== 'OPS_PORT' && k !== 'PORT'));
  const child = spawn(cmd, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  pids.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function env(): Promise<Record<string, string>> {
  return { PORT: String(await freePort()), OPS_PORT: String(await freePort()), ANDON_STATE_DIR: tempDir('andon-start-state-') };
}

/** The node's pid, from its JSON log lines. */
function nodePid(output: string): number {
  const m = /"pid":(\d+)[^\n]*andon runtime started/.exec(output);
  assert.ok(m, `no "andon runtime started" line in:\n${output}`);
  // Killed in after() too: an orphaned node would keep npm's output pipes (and this test) open.
  pids.push(Number(m[1]));
  return Number(m[1]);
}

async function greet(port: string, tool: string, args: Record<string, unknown>): Promise<string> {
  const c = await createClient(`http://127.0.0.1:${port}/mcp`).connect();
  try {
    const r = await c.callTool(tool, args);
    return (r.content[0] as { text: string }).text;
  } finally {
    await c.close();
  }
}

/** The README's first ```js block under "A server in ten lines". */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A server in ten lines'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has a ```js block under "A server in ten lines"');
  return m[1]!;
}

/** A project directory in which `andon-mcp` resolves to this package (built dist/) and `andon` is on npm's PATH. */
function project(files: Record<string, string>): string {
  const dir = tempDir('andon-project-');
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/andon-mcp'), 'dir');
  // What npm install would make of the `bin` entry (a shim, since dist/ is not executable here).
  writeFileSync(join(dir, 'node_modules/.bin/andon'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(dir, 'node_modules/.bin/andon'), 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function drainedAndGone(p: Proc, pid: number, what: string): Promise<void> {
  await waitFor(() => !alive(pid), 15_000, `${what}: node ${pid} to exit`);
  await waitFor(() => /drain: stopped/.test(p.output()), 2000, `${what}: the drain to be logged`);
  assert.match(p.output(), /signal received: draining/);
}

describe('npm start and the README server, as real processes', () => {
  test('npm start: SIGTERM to npm reaches node, which drains and exits (no orphan)', async () => {
    const e = await env();
    // --ignore-scripts skips prestart (the build): dist/ is already built for the tests.
    const npm = start('npm', ['start', '--ignore-scripts'], ROOT, e);
    // The JSON log goes through pino's asynchronous stderr writer: the "listening on" line (a plain
    // synchronous write) can come first, so wait for the log line that carries the pid.
    await waitFor(() => /listening on/.test(npm.output()) && /andon runtime started/.test(npm.output()), 20_000, 'npm start to listen').catch((err: Error) => assert.fail(`${err.message}\n${npm.output()}`));
    const pid = nodePid(npm.output());
    assert.notEqual(pid, npm.child.pid);
    assert.match(await greet(e.PORT!, 'add', { a: 2, b: 3 }), /"result":5/);
    npm.child.kill('SIGTERM');
    await drainedAndGone(npm, pid, 'npm start');
  });

  test('a user project whose start script is `andon serve` (npm → sh → node) drains when npm gets SIGTERM', async () => {
    const server = readmeSnippet().replace(/^await createRuntime\(.*$/m, 'export default server;');
    assert.match(server, /export default server;/);
    const dir = project({ 'server.mjs': server, 'package.json': JSON.stringify({ name: 'p', private: true, type: 'module', scripts: { start: 'andon serve server.mjs' } }) });
    const e = await env();
    const npm = start('npm', ['start'], dir, e);
    await waitFor(() => /listening on/.test(npm.output()) && /andon runtime started/.test(npm.output()), 20_000, 'andon serve to listen').catch((err: Error) => assert.fail(`${err.message}\n${npm.output()}`));
    const pid = nodePid(npm.output());
    assert.equal(await greet(e.PORT!, 'greet', { name: 'Ada' }), 'Hello, Ada!');
    npm.child.kill('SIGTERM');
    await drainedAndGone(npm, pid, 'npm start in a user project');
  });

  test('the README ten-line server runs as written (node server.mjs) and answers our client', async () => {
    const dir = project({ 'server.mjs': readmeSnippet() });
    const e = await env();
    const p = start(process.execPath, ['server.mjs'], dir, e);
    // The snippet logs nothing: poll its ops listener until it is live.
    const live = `http://127.0.0.1:${e.OPS_PORT}/health/live`;
    const deadline = Date.now() + 20_000;
    while (!(await fetch(live).then((r) => r.ok, () => false))) {
      assert.equal(p.child.exitCode, null, `the README server exited:\n${p.output()}`);
      assert.ok(Date.now() < deadline, `the README server did not start within 20 s:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await greet(e.PORT!, 'greet', { name: 'Ada' }), 'Hello, Ada!');
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
  });
});
