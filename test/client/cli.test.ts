/**
 * `andon tools|call|read` as a person or a script would run them: against a URL (Streamable HTTP)
 * and a command line (stdio), human output and `--json`, and the exit codes (0 ok, 1 the tool
 * reported an error, 2 anything else).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { serveHttp, type HttpEndpoint } from '../../src/index.js';
import { CLI } from '../helpers/paths.js';
import { buildClientFixture } from './servers/fixture.js';
import { SERVERS } from './helpers.js';

let ep: HttpEndpoint;
before(async () => {
  ep = await serveHttp(buildClientFixture());
});
after(() => ep.close());

function andon(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`andon ${args.join(' ')} did not finish: ${stderr}`));
    }, 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The stdio target as one shell-style argument. */
const STDIO = `"${process.execPath}" ${resolve(SERVERS, 'andon-stdio.js')}`;

test('andon tools <url>: one line per tool with its arguments', async () => {
  const r = await andon('tools', ep.url);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^echo — Echo text\n {4}text: string\n/);
  assert.match(r.stdout, /\nadd — Add numbers\n {4}a: number\n {4}b: number\n/);
  assert.match(r.stdout, /\n {4}ms\?: number\n/);
});

test('andon tools <command> --json', async () => {
  const r = await andon('tools', STDIO, '--json');
  assert.equal(r.code, 0, r.stderr);
  const tools = JSON.parse(r.stdout) as Array<{ name: string }>;
  assert.equal(tools.length, 14);
  assert.equal(tools[0]!.name, 'echo');
});

test('andon call prints content; --json prints the whole result', async () => {
  const human = await andon('call', ep.url, 'echo', '{"text":"hello there"}');
  assert.equal(human.code, 0, human.stderr);
  assert.equal(human.stdout, 'hello there\n');
  const json = await andon('call', STDIO, 'add', '{"a":2,"b":40}', '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).structuredContent, { sum: 42 });
});

test('andon call: a tool error exits 1, bad JSON args and unknown tools exit 2', async () => {
  const failed = await andon('call', ep.url, 'fail');
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /failed on purpose/);
  assert.match(failed.stderr, /reported an error/);
  const badArgs = await andon('call', ep.url, 'echo', '{not json');
  assert.equal(badArgs.code, 2);
  assert.match(badArgs.stderr, /json-args is not valid JSON/);
  const unknown = await andon('call', ep.url, 'nope', '{}');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error -32602: Unknown tool: nope/);
});

test('andon read prints text and describes binary contents', async () => {
  const text = await andon('read', STDIO, 'test://items/3');
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, 'item 3\n');
  const bin = await andon('read', ep.url, 'test://binary');
  assert.match(bin.stdout, /\[binary application\/octet-stream test:\/\/binary, 3 bytes\]/);
  const json = await andon('read', ep.url, 'test://static', '--json', '--protocol', '2025-11-25');
  assert.equal(JSON.parse(json.stdout).contents[0].text, 'static text');
});

test('andon: an unreachable server or a bad command exits 2 with the reason', async () => {
  const down = await andon('tools', 'http://127.0.0.1:1/mcp', '--timeout', '2000');
  assert.equal(down.code, 2);
  assert.match(down.stderr, /CONNECTION_FAILED/);
  const quote = await andon('tools', 'node "unterminated');
  assert.equal(quote.code, 2);
  assert.match(quote.stderr, /Unterminated double quote/);
  const missing = await andon('tools', 'no-such-command-andon-cli');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /PROCESS_EXITED/);
});
