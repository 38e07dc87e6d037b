/**
 * A real `redis-server` (Debian's package, installed by .ci/run) on 127.0.0.1 for a test file:
 * its own port and directory, no persistence unless asked, stopped by PID when the file ends.
 */
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort } from './node-process.js';

export interface RedisProc {
  url: string;
  port: number;
  child: ChildProcess;
  /** Pauses the server (SIGSTOP) / resumes it (SIGCONT). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Answers PING over a raw socket (no client library): true when the server is up. */
function ping(port: number): Promise<boolean> {
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

export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<RedisProc> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'andon-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.appendonly ? 'yes' : 'no', '--protected-mode', 'yes'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start (is the redis-server package installed?): ${err}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  };
  after(stop);
  return { url: `redis://127.0.0.1:${port}`, port, child, pause: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT'), stop };
}
