/** Spawning benchmarked processes pinned to a CPU, and talking to their control channel. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench */
export const BENCH_DIST = resolve(here, '..');
/** Repository root. */
export const ROOT = resolve(BENCH_DIST, '../..');

export const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** argv prefix that pins a command to `cpu` (empty when taskset is unavailable). */
export function pinned(cpu: number | undefined, cmd: string, args: string[]): [string, string[]] {
  if (cpu === undefined || !HAS_TASKSET) return [cmd, args];
  return ['taskset', ['-c', String(cpu), cmd, ...args]];
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  port: number | undefined;
  /** Sends a control command and resolves with the reply. */
  ask<T = Record<string, unknown>>(cmd: string, extra?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** CPU seconds used by the process so far, in µs (user + system, all threads). */
  cpuUs(): Promise<number>;
  kill(): Promise<void>;
}

let nextAsk = 1;

export interface SpawnOptions {
  /** Script under dist/bench/servers or an absolute path. */
  script: string;
  config?: Record<string, unknown>;
  cpu?: number;
  /** stdio servers get piped stdin/stdout. */
  stdio?: boolean;
  nodeArgs?: string[];
  /** Extra argv after the config (for CLI children). */
  argv?: string[];
  readyTimeoutMs?: number;
  /** Don't wait for a ready message. */
  noReady?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * A child that does not speak the control channel (e.g. the andon CLI): it is ready when
   * `readyPort` accepts connections, and its CPU time is read from /proc/<pid>/stat (10 ms ticks).
   */
  noIpc?: boolean;
  readyPort?: number;
  /** A command the node process runs under, e.g. `['valgrind', '--tool=callgrind']` (after the CPU pin; exec keeps the pid). */
  wrap?: string[];
}

/** CPU time of a process from /proc/<pid>/stat (utime + stime, all threads), µs. */
export function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveC) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolveC(true);
    });
    s.once('error', () => resolveC(false));
  });
}

/** Spawns a server pinned to a CPU and waits for its ready message. */
export async function spawnServer(o: SpawnOptions): Promise<Child> {
  const script = o.script.startsWith('/') ? o.script : resolve(BENCH_DIST, 'servers', o.script);
  const args = [...(o.nodeArgs ?? ['--expose-gc']), script, ...(o.config ? [JSON.stringify(o.config)] : []), ...(o.argv ?? [])];
  const [cmd, argv] = o.wrap?.length ? pinned(o.cpu, o.wrap[0]!, [...o.wrap.slice(1), process.execPath, ...args]) : pinned(o.cpu, process.execPath, args);
  const proc = spawn(cmd, argv, {
    stdio: o.noIpc ? [o.stdio ? 'pipe' : 'ignore', o.stdio ? 'pipe' : 'ignore', 'pipe'] : [o.stdio ? 'pipe' : 'ignore', o.stdio ? 'pipe' : 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', ...o.env },
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const waiters = new Map<number, (m: Record<string, unknown>) => void>();
  let readyResolve: ((port: number | undefined) => void) | undefined;
  proc.on('message', (m: Record<string, unknown>) => {
    if (m.ready) readyResolve?.(m.port as number | undefined);
    else if (typeof m.id === 'number') {
      waiters.get(m.id)?.(m);
      waiters.delete(m.id);
    }
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const child: Child = {
    proc,
    pid: proc.pid!,
    port: undefined,
    ask<T>(cmd: string, extra: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
      const id = nextAsk++;
      return new Promise<T>((resolveAsk, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(id);
          reject(new Error(`control ${cmd} timed out (pid ${proc.pid})`));
        }, timeoutMs);
        waiters.set(id, (m) => {
          clearTimeout(timer);
          resolveAsk(m as T);
        });
        proc.send({ id, cmd, ...extra });
      });
    },
    async cpuUs() {
      if (o.noIpc) return procCpuUs(proc.pid!);
      const r = await child.ask<{ cpuUs: number }>('cpu');
      return r.cpuUs;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (process.env.ANDON_BENCH_PROF) {
        proc.kill('SIGTERM');
        if (await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))])) return;
      }
      proc.kill('SIGKILL');
      await exited;
    },
  };
  if (o.noReady) return child;
  const timeout = o.readyTimeoutMs ?? 20_000;
  if (o.readyPort !== undefined) {
    const end = Date.now() + timeout;
    while (!(await canConnect(o.readyPort))) {
      if (proc.exitCode !== null || Date.now() > end) throw new Error(`${o.script} did not listen on ${o.readyPort}: ${stderr}`);
      await sleep(20);
    }
    child.port = o.readyPort;
    return child;
  }
  child.port = await new Promise<number | undefined>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.script} did not become ready in ${timeout} ms: ${stderr}`)), timeout);
    readyResolve = (port) => {
      clearTimeout(timer);
      resolveReady(port);
    };
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${o.script} exited (${code}) before ready: ${stderr}`));
    });
  });
  return child;
}

/** A free TCP port on 127.0.0.1 (for servers that need one chosen up front). */
export function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolveP(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
