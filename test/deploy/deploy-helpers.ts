/**
 * Shared by the deployment-artefact tests (test/deploy/*.test.ts): parsers for the Dockerfile, the
 * systemd unit and .dockerignore, the container's /app laid out from this checkout as the image's
 * runtime stage would have it, and a node started from a command line taken from an artefact.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';

export const DEPLOY = join(ROOT, 'deploy');

// ---- Dockerfile

/** One instruction: `FROM`, `COPY`, ... with its argument text (continuations joined). */
export interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** One build stage: its base image, its name (`AS name`) and its instructions after FROM. */
export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages (and the ARGs before the first FROM). Comments and blank lines are dropped. */
export function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ') + lines[++i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${line}`);
    instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: bad FROM`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.op !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before FROM`);
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The JSON (exec) form of CMD / ENTRYPOINT / HEALTHCHECK CMD / VOLUME; throws on the shell form. */
export function execForm(args: string, what: string): string[] {
  const v: unknown = JSON.parse(args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what}: expected the exec (JSON array) form, got ${args}`);
  return v as string[];
}

/** A COPY instruction: `--from` stage (if any), sources and destination. */
export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function parseCopy(ins: Instruction): Copy {
  const words = ins.args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  if (words.length < 2) throw new Error(`Dockerfile line ${ins.line}: COPY needs a source and a destination`);
  const dest = words.pop()!;
  return { from, sources: words, dest };
}

/** `KEY=value` pairs of ENV instructions (the `KEY=value` form only). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.op === 'ENV')) {
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

/** The destination of `dest` (relative to WORKDIR `workdir` unless absolute) for a source named `src`. */
export function copyTarget(workdir: string, src: string, dest: string): string {
  const d = posix.isAbsolute(dest) ? dest : posix.join(workdir, dest);
  return dest.endsWith('/') ? posix.join(d, posix.basename(src)) : d;
}

// ---- .dockerignore

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether `.dockerignore` keeps `path` (relative to the context) out of the build context. Docker's
 * rule: patterns apply in order and the last one that matches the path, or a directory above it,
 * decides; `!` re-includes.
 */
export function dockerIgnored(patterns: string[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const p = posix.normalize((neg ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    const re = globToRegExp(p);
    if (prefixes.some((x) => re.test(x))) ignored = !neg;
  }
  return ignored;
}

export function readDockerignore(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

// ---- systemd unit

/** `[Section]` → key → values (a key may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = new Map();
      out.set(s[1]!, section);
      continue;
    }
    const kv = /^([A-Za-z0-9]+)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`unit: cannot parse "${line}"`);
    section.set(kv[1]!, [...(section.get(kv[1]!) ?? []), kv[2]!]);
  }
  return out;
}

/** A systemd time span (`60`, `90s`, `1min 30s`, `500ms`) in ms. */
export function systemdSpanMs(v: string): number {
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const unit: Record<string, number> = { ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of v.matchAll(/(\d+)\s*([a-z]+)/g)) {
    const f = unit[m[2]!];
    if (f === undefined) throw new Error(`unknown time unit in "${v}"`);
    total += Number(m[1]) * f;
  }
  return total;
}

// ---- the container's /app, from this checkout

/**
 * The top-level packages of package-lock.json that `npm prune --omit=dev` keeps (no `dev` flag),
 * linked from this checkout's node_modules into `dir`: code loaded from `dir` resolves production
 * dependencies only (a dev dependency it imported would fail to load).
 */
export function linkProductionModules(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const names: string[] = [];
  for (const [key, meta] of Object.entries(lock.packages)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
    if (!m || meta.dev) continue;
    const name = m[1]!;
    const target = join(ROOT, 'node_modules', name);
    if (!existsSync(target)) continue; // an optional dependency for another platform
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    symlinkSync(target, join(dir, name), 'dir');
    names.push(name);
  }
  return names;
}

/**
 * Lays out the runtime stage of deploy/docker/Dockerfile under `root` (a stand-in for the image's
 * `/`): each `COPY --from=build /app/X` takes X from this checkout after its build (the build
 * stage's `tsc` emits the same dist/), `node_modules` as {@link linkProductionModules}, and each
 * `COPY` from the context takes the file from the checkout. Returns the container path → host path map.
 */
export function layOutRuntimeStage(stage: Stage, root: string): { workdir: string; host(p: string): string } {
  let workdir = '/';
  const host = (p: string) => join(root, p);
  for (const ins of stage.instructions) {
    if (ins.op === 'WORKDIR') {
      workdir = posix.resolve(workdir, ins.args);
      mkdirSync(host(workdir), { recursive: true });
    }
    if (ins.op !== 'COPY') continue;
    const c = parseCopy(ins);
    for (const src of c.sources) {
      const target = host(copyTarget(workdir, src, c.dest));
      mkdirSync(dirname(target), { recursive: true });
      if (c.from !== undefined) {
        if (!src.startsWith('/app/')) throw new Error(`COPY --from=${c.from} ${src}: expected a path under the build stage's /app`);
        const rel = src.slice('/app/'.length);
        if (rel === 'node_modules') {
          mkdirSync(target, { recursive: true });
          linkProductionModules(target);
        } else cpSync(join(ROOT, rel), target, { recursive: true });
      } else cpSync(join(ROOT, src), target, { recursive: true });
    }
  }
  return { workdir, host };
}

// ---- a node started from an artefact's command line

export interface Started {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `argv` (argv[0] `node` is this Node) and waits for the "listening on" line. */
export async function startCommand(argv: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<Started> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd === 'node' || cmd?.endsWith('/node') ? process.execPath : cmd!, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (!err.includes('listening on')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${argv.join(' ')} exited before listening:\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${argv.join(' ')} did not start:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, stderr: () => err, exited };
}

/**
 * {@link startCommand} on two free ports (`spawnWith(port, opsPort)` gives argv and env): a port
 * picked free may be taken by another test before the node binds it, so an EADDRINUSE start is
 * retried on new ports, three times at most.
 */
export async function startOnFreePorts(spawnWith: (port: number, opsPort: number) => { argv: string[]; cwd: string; env: Record<string, string> }): Promise<Started & { port: number; opsPort: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const opsPort = await freePort();
    const { argv, cwd, env } = spawnWith(port, opsPort);
    try {
      return { ...(await startCommand(argv, { cwd, env })), port, opsPort };
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

/** Every file under `root` (symbolic links not followed) with its size and mtime, except under `skip`. */
export function snapshot(root: string, skip: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (skip.includes(p)) continue;
      const st = lstatSync(p);
      out.set(p, e.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** Paths added, removed or changed between two {@link snapshot}s. */
export function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

/** Runs a command to its end: exit code, stdout and stderr. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment a child starts with: PATH and HOME only, plus `extra`. */
export function cleanEnv(home: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...extra };
}
