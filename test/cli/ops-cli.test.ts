/**
 * The operator CLI against real processes: a node started with `andon serve`, the CLI run as a
 * child process against it, against a closed port, against a port that is not an ops API, and with
 * missing or wrong tokens. Each failure must say what is wrong and how to fix it (issue 9, 6l).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { freePort, startNode, type NodeProc } from '../helpers/node-process.js';
import { runCli } from '../helpers/run-cli.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');

describe('andon operator commands against a running node', () => {
  let node: NodeProc;
  let stateDir: string;
  let emptyDir: string;
  let mcpPort: number;
  let other: Server;
  let otherUrl: string;

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'andon-cli-node-'));
    emptyDir = await mkdtemp(join(tmpdir(), 'andon-cli-empty-'));
    mcpPort = await freePort();
    node = await startNode(MODULE, { stateDir, port: mcpPort, opsPort: await freePort() });
    other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  after(async () => {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await new Promise<void>((r) => other.close(() => r()));
    await rm(stateDir, { recursive: true, force: true });
    await rm(emptyDir, { recursive: true, force: true });
  });

  test('--ops-url and --token reach the node: status, halt, resume', async () => {
    const ok = await runCli(['status', '--json', '--ops-url', node.opsUrl, '--token', node.token()], { ANDON_STATE_DIR: emptyDir });
    assert.equal(ok.code, 0, ok.stderr);
    const status = JSON.parse(ok.stdout) as { phase: string; components: Array<{ id: string }> };
    assert.equal(status.phase, 'running');
    assert.ok(status.components.some((c) => c.id === 'tool:echo'));
    const halt = await runCli(['halt', 'tool:echo', '-r', 'cli test', '--ops-url', node.opsUrl, '--token', node.token()]);
    assert.equal(halt.code, 0, halt.stderr);
    assert.match(halt.stdout, /halted tool:echo: cli test/);
    const resume = await runCli(['resume', 'tool:echo', '--ops-url', node.opsUrl, '--token', node.token()]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /resumed tool:echo/);
  });

  test('the environment works too: ANDON_OPS_URL with ANDON_ADMIN_TOKEN, or with the token file of ANDON_STATE_DIR', async () => {
    const byEnv = await runCli(['status'], { ANDON_OPS_URL: node.opsUrl, ANDON_ADMIN_TOKEN: node.token() });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.match(byEnv.stdout, /phase: running/);
    const byFile = await runCli(['status'], { ANDON_OPS_URL: node.opsUrl, ANDON_STATE_DIR: stateDir });
    assert.equal(byFile.code, 0, byFile.stderr);
  });

  test('no token: a 401 that says no token was sent and how to pass one, not "cannot reach"', async () => {
    const r = await runCli(['status', '--ops-url', node.opsUrl], { ANDON_STATE_DIR: emptyDir });
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /cannot reach/);
    assert.match(r.stderr, /401 unauthorized: no admin token was sent/);
    assert.ok(r.stderr.includes(join(emptyDir, 'admin-token')), r.stderr);
    assert.match(r.stderr, /--token or ANDON_ADMIN_TOKEN/);
  });

  test('a wrong token: the 401 names where the token came from', async () => {
    const flag = await runCli(['status', '--ops-url', node.opsUrl, '--token', 'not-the-token']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /the token from --token is not this node's/);
    const env = await runCli(['halt', 'tool:echo', '-r', 'x', '--ops-url', node.opsUrl], { ANDON_ADMIN_TOKEN: 'wrong' });
    assert.match(env.stderr, /the token from ANDON_ADMIN_TOKEN is not this node's/);
  });

  test('andon alerts on a node without alerting says it is not configured and how to configure it', async () => {
    for (const args of [['alerts'], ['alerts', 'list'], ['alerts', 'test']]) {
      const r = await runCli([...args, '--ops-url', node.opsUrl, '--token', node.token()]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /alerting is not configured on this node \(set ANDON_ALERTS_CONFIG or the alerts section of the config file\)/);
      assert.doesNotMatch(r.stderr, /404/);
    }
  });

  test('an unknown component is the node\'s own message', async () => {
    const r = await runCli(['halt', 'tool:nope', '-r', 'x', '--ops-url', node.opsUrl, '--token', node.token()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /404: unknown component "tool:nope"/);
  });

  test('a closed port: cannot reach, connection refused', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['status', '--ops-url', closed, '--token', 't']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`cannot reach the ops API at ${closed.replace(/\./g, '\\.')} \\(connection refused\\)`));
  });

  test('a port that is not an ops API (the MCP port, an HTML server): "does not look like an andon ops API", never [object Object]', async () => {
    for (const url of [`http://127.0.0.1:${mcpPort}`, otherUrl]) {
      for (const args of [['status'], ['alerts']]) {
        const r = await runCli([...args, '--ops-url', url, '--token', node.token()]);
        assert.equal(r.code, 2, r.stderr);
        assert.ok(r.stderr.includes(`${url} does not look like an andon ops API`), r.stderr);
        assert.doesNotMatch(r.stderr, /\[object Object\]/);
      }
    }
  });

  test('--help of every ops command lists --ops-url, --token and the environment variables', async () => {
    for (const cmd of [['status'], ['halt'], ['resume'], ['drain'], ['alerts', 'list'], ['alerts', 'test'], []]) {
      const r = await runCli([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      for (const s of ['--ops-url', '--token', 'ANDON_OPS_URL', 'ANDON_ADMIN_TOKEN', 'ANDON_STATE_DIR']) assert.ok(r.stdout.includes(s), `andon ${cmd.join(' ')} --help mentions ${s}`);
    }
  });

  test('a bad --ops-url is a usage error', async () => {
    const r = await runCli(['status', '--ops-url', 'not a url']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ops-url \/ ANDON_OPS_URL must be an http\(s\) URL/);
  });
});
