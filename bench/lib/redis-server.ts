/**
 * A private `redis-server` for a bench run: 127.0.0.1, a free port, its own temporary directory,
 * no persistence, killed (by PID) and its directory removed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, pinned, sleep } from './proc.js';

export interface BenchRedis {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** True when a Redis on 127.0.0.1:`port` answers PING (raw RESP, no client library). */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
  });
}

export async function startBenchRedis(cpu?: number): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'andon-bench-redis-'));
  const [cmd, args] = pinned(cpu, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.on('error', (e) => (err += String(e)));
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start (is the redis-server package installed?): ${err}`);
    }
    await sleep(30);
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    child,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
