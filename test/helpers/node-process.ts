/** Spawns `andon serve <module>` as a real child process for runtime tests. */
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './paths.js';

export interface NodeProc {
  child: ChildProcess;
  url: string;
  opsUrl: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  token(): string;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** A free TCP port on 127.0.0.1 (so a restarted node can take the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startNode(module: string, opts: { stateDir: string; port: number; opsPort: number; env?: Record<string, string> }): Promise<NodeProc> {
  const child = spawn(process.execPath, [CLI, 'serve', module, '--port', String(opts.port), '--ops-port', String(opts.opsPort), '--state-dir', opts.stateDir], {
    env: { ...process.env, ANDON_ADMIN_TOKEN: '', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Generous: a node's start on the shared, loaded 2-core machine took over 10 s at times.
  const deadline = Date.now() + 30_000;
  while (!err.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // Not started in time: this process is nobody's to kill later, so kill it now.
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`node did not start:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const opsUrl = `http://127.0.0.1:${opts.opsPort}`;
  const token = () => readFileSync(join(opts.stateDir, 'admin-token'), 'utf8').trim();
  return {
    child,
    url: `http://127.0.0.1:${opts.port}/mcp`,
    opsUrl,
    stderr: () => err,
    exited,
    token,
    async admin(method, path, body) {
      const res = await fetch(`${opsUrl}${path}`, { method, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/**
 * The nodes and state directories one test file starts: `fresh()` makes a state directory and two
 * free ports and returns a `start` that spawns `andon serve <module>` on them; every node is killed
 * and every directory removed after the file (register extra ones in `procs` / `dirs`).
 */
export function nodeFleet(module: string, prefix = 'andon-node-') {
  const dirs: string[] = [];
  const procs: NodeProc[] = [];
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function fresh(env?: Record<string, string>) {
    const stateDir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(stateDir);
    const f = { stateDir, port: await freePort(), opsPort: await freePort(), start };
    let started = false;
    async function start(extra?: Record<string, string>): Promise<NodeProc> {
      // A port from freePort() is free when picked, not when the node binds it: another test file
      // (or a node started alongside) may take it first. A first start retries on new ports;
      // restarts keep theirs (a test restarting on the same port means it).
      for (let attempt = 0; ; attempt++) {
        try {
          const p = await startNode(module, { stateDir, port: f.port, opsPort: f.opsPort, env: { ...env, ...extra } });
          started = true;
          procs.push(p);
          return p;
        } catch (err) {
          if (started || attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
          f.port = await freePort();
          f.opsPort = await freePort();
        }
      }
    }
    return f;
  }
  return { dirs, procs, fresh };
}
