/**
 * Issue 15, the operator quick start is true: every `sh` block of docs/quickstart.md runs, in
 * order, in one bash session in a fresh directory (with free ports in place of 3000 and 9464, and
 * `andon` as the compiled CLI, like the guide's alias); an `andon start` line starts the node in
 * the background exactly as written, as "Terminal 1" would. After each block the test checks what
 * the guide says happens: the tool disappears from tools/list and comes back, the drain exits 0,
 * the node halt survives the restart, resume brings it back. A step the test expects and the guide
 * lost (or a new block the test does not know) fails it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { shellWords } from '../helpers/cli-commands.js';

const dir = mkdtempSync(join(tmpdir(), 'andon-quickstart-'));
const nodes: ChildProcess[] = [];
let bash: ChildProcess | undefined;
after(() => {
  for (const n of nodes) if (n.exitCode === null && n.signalCode === null) n.kill('SIGKILL');
  if (bash && bash.exitCode === null) bash.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The guide's `sh` blocks, in order. */
function blocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trimEnd());
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANDON_') && k !== 'OPS_PORT' && k !== 'PORT')) as Record<string, string>;
  return { ...base, ...extra };
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Terminal 1: `andon start …` exactly as the guide writes it, in the background. */
async function startNode(line: string): Promise<Started> {
  const words = shellWords(line);
  assert.equal(words[0], 'andon');
  const child = spawn(process.execPath, [CLI, ...words.slice(1)], { cwd: dir, env: cleanEnv({}), stdio: ['ignore', 'ignore', 'pipe'] });
  nodes.push(child);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${line}: the node did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, output: () => out, exited };
}

/** Terminal 2: one bash session, so exports carry from block to block like in a real shell. */
function shell() {
  const sh = spawn('bash', ['--noprofile', '--norc'], { cwd: dir, env: cleanEnv({ PATH: process.env.PATH ?? '' }), stdio: ['pipe', 'pipe', 'pipe'] });
  bash = sh;
  let out = '';
  sh.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  sh.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // The guide's alias (`alias andon="node $PWD/dist/src/cli/andon.js"`), with this test's Node.
  sh.stdin!.write(`andon() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }\n`);
  let n = 0;
  return async function run(block: string): Promise<{ code: number; out: string }> {
    const marker = `__quickstart_${++n}__`;
    const start = out.length;
    sh.stdin!.write(`${block}\necho "${marker} $?"\n`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const m = new RegExp(`${marker} (\\d+)\\n`).exec(out.slice(start));
      if (m) return { code: Number(m[1]), out: out.slice(start, start + m.index) };
      if (sh.exitCode !== null || Date.now() > deadline) throw new Error(`block did not finish:\n${block}\noutput so far:\n${out.slice(start)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
}

test('docs/quickstart.md, run as written, does what it says', { timeout: 400_000 }, async () => {
  const port = await freePort();
  const opsPort = await freePort();
  const guide = readFileSync(join(ROOT, 'docs/quickstart.md'), 'utf8');
  const steps = blocks(guide).map((b) => b.replaceAll(':3000', `:${port}`).replaceAll('--port 3000', `--port ${port}`).replaceAll(':9464', `:${opsPort}`).replaceAll('--ops-port 9464', `--ops-port ${opsPort}`));
  assert.ok(steps.length >= 10, `only ${steps.length} sh blocks in docs/quickstart.md`);
  const run = shell();
  let node: Started | undefined;
  let starts = 0;
  const seen: string[] = [];

  // What each step must show, keyed by the block's first line.
  const checks: Array<{ first: RegExp; name: string; check: (r: { code: number; out: string }) => Promise<void> | void }> = [
    {
      first: /^export ANDON_OPS_URL=/,
      name: 'status',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^phase: running$/m);
        assert.match(r.out, /^tool:divide\s+tool\s+running\s+0/m);
      },
    },
    {
      first: /^curl -s -w '\\n' http:\/\/127\.0\.0\.1:\d+\/health\/live$/,
      name: 'health',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /"status":"live"/);
        assert.match(r.out, /^200$/m);
        assert.match(r.out, /"status":"healthy"/);
      },
    },
    {
      first: /^curl -s http:\/\/127\.0\.0\.1:\d+\/metrics/,
      name: 'metrics',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^andon_ready 1$/m);
        assert.match(r.out, /^andon_components_halted 0$/m);
      },
    },
    {
      first: /^andon tools .*\/mcp$/,
      name: 'tools and a call',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^divide \(Divide\)/m);
        assert.match(r.out, /\{"result":0\.25,"expression":"1 \/ 4"\}/);
      },
    },
    {
      first: /^cat \.andon\/admin-token$/,
      name: 'dashboard',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.equal(r.out.split('\n')[0]!.trim(), readFileSync(join(dir, '.andon/admin-token'), 'utf8').trim());
        assert.match(r.out, /^200$/m);
      },
    },
    {
      first: /^andon halt tool:divide /,
      name: 'halt a tool',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^halted tool:divide: wrong results, INC-7$/m);
        assert.match(r.out, /^tool:divide\s+tool\s+halted_manual\s+0\s+wrong results, INC-7$/m);
        assert.match(r.out, /^multiply \(Multiply\)/m, 'the other tools are listed');
        assert.doesNotMatch(r.out, /^divide \(/m, 'the halted tool is gone from tools/list');
      },
    },
    {
      first: /^andon call .* divide /,
      name: 'call the halted tool',
      check: (r) => {
        assert.equal(r.code, 1, r.out);
        assert.match(r.out, /Tool "divide" is halted: wrong results, INC-7/);
      },
    },
    {
      first: /^andon resume tool:divide$/,
      name: 'resume the tool',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^resumed tool:divide: running$/m);
        assert.match(r.out, /^divide \(Divide\)/m);
      },
    },
    {
      first: /^andon drain --reason "quick start"$/,
      name: 'drain',
      check: async (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^drain started \(quick start\)$/m);
        assert.equal(await node!.exited, 0, 'a clean drain exits 0');
        assert.match(node!.output(), /drain: stopped/);
      },
    },
    {
      first: /^andon halt node /,
      name: 'halt the node',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^halted node: maintenance window, INC-8$/m);
        assert.match(r.out, /^503$/m);
        assert.match(r.out, /"code":"ANDON_NODE_HALTED"/);
      },
    },
    {
      first: /^andon drain$/,
      name: 'stop',
      check: async (r) => {
        assert.equal(r.code, 0, r.out);
        assert.equal(await node!.exited, 0);
      },
    },
    {
      first: /^andon status \| grep '\^node'$/,
      name: 'still halted after the restart',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^node\s+node\s+halted_manual\s+0\s+maintenance window, INC-8$/m);
        assert.match(r.out, /^503$/m);
        assert.match(node!.output(), /component is halted from a previous run/);
      },
    },
    {
      first: /^andon resume node$/,
      name: 'resume the node',
      check: (r) => {
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^resumed node: running$/m);
        assert.match(r.out, /^200$/m);
        assert.match(r.out, /\{"result":0\.25,"expression":"1 \/ 4"\}/);
      },
    },
  ];

  for (const block of steps) {
    const first = block.split('\n')[0]!;
    if (/^andon start\b/.test(first)) {
      assert.equal(block.split('\n').length, 1, 'a Terminal 1 block starts the node and nothing else');
      if (node) await node.exited;
      node = await startNode(first);
      starts++;
      continue;
    }
    const check = checks.find((c) => c.first.test(first));
    assert.ok(check, `docs/quickstart.md has a step this test does not check:\n${block}`);
    const r = await run(block);
    await check.check(r);
    seen.push(check.name);
  }
  assert.equal(starts, 3, 'the guide starts the node three times');
  assert.deepEqual([...new Set(seen)].sort(), checks.map((c) => c.name).sort(), 'every step of the guide ran');
  // The last block (`andon drain`) stopped the node.
  assert.equal(await node!.exited, 0);
});
