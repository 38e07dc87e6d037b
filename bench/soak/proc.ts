/**
 * The processes a soak runs: one `redis-server`, `andon serve` nodes on it, and a round-robin TCP
 * proxy in front of the nodes. No `node:test` hooks here: the soak runs as a script and as a test,
 * and cleans up itself (every process by its PID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { appendFileSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redisPing } from '../lib/redis-server.js';

/** A free TCP port on 127.0.0.1 (checked, not reserved). */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process a soak spawned and that has not exited yet. */
const spawned = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

/** Kills (SIGKILL, after SIGCONT for a paused Redis) every process a soak spawned that still runs: for an interrupted soak. */
export function killSpawned(): void {
  for (const c of spawned) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
}

export interface Redis {
  url: string;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** A `redis-server` without persistence in `dir`. */
export async function startRedis(dir: string): Promise<Redis> {
  const port = await freePort();
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await redisPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start (is the redis-server package installed?): ${err}`);
    await sleep(30);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/** One `andon serve` node: the same ports and state directory across restarts. */
export class AndonNode {
  child: ChildProcess | undefined;
  /** Incremented at each start: samples of one process lifetime share it. */
  lifetime = 0;
  /** The soak killed it on purpose (its exit is not a crash). */
  private expectExit = false;
  private stderr = '';
  /** Called when the process exits without the soak asking it to. */
  onUnexpectedExit: (info: string) => void = () => {};
  /** Called when a start attempt failed and is retried. */
  onStartRetry: (info: string) => void = () => {};
  /** Every line of the node's stderr, over all lifetimes, is appended here too (for investigation). */
  logFile: string | undefined;

  constructor(
    readonly id: string,
    readonly cli: string,
    readonly module: string,
    readonly stateDir: string,
    readonly port: number,
    readonly opsPort: number,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }
  get opsUrl(): string {
    return `http://127.0.0.1:${this.opsPort}`;
  }
  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
  /** The last 8 KB of the node's stderr (pino JSON lines). */
  tail(): string {
    return this.stderr.slice(-8192);
  }
  token(): string {
    return readFileSync(join(this.stateDir, 'admin-token'), 'utf8').trim();
  }

  /** Spawns the node and waits for "listening on" (retries a few times: a loaded machine is slow). */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (err) {
        if (attempt >= 4) throw err;
        this.onStartRetry(String(err).slice(0, 1500));
        await sleep(1000);
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.expectExit = false;
    this.stderr = '';
    const child = track(spawn(process.execPath, [this.cli, 'serve', this.module, '--port', String(this.port), '--ops-port', String(this.opsPort), '--state-dir', this.stateDir], {
      env: { ...process.env, ANDON_ADMIN_TOKEN: '', ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }));
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => {
      if (this.logFile) appendFileSync(this.logFile, d);
      this.stderr += d.toString();
      if (this.stderr.length > 65_536) this.stderr = this.stderr.slice(-32_768);
    });
    child.on('exit', (code, signal) => {
      if (!this.expectExit) this.onUnexpectedExit(`${this.id} exited by itself (code ${code}, signal ${signal}): ${this.tail().slice(-2000)}`);
    });
    const deadline = Date.now() + 60_000;
    while (!this.stderr.includes('listening on')) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        this.expectExit = true;
        if (child.exitCode === null) child.kill('SIGKILL');
        throw new Error(`${this.id} did not start:\n${this.stderr.slice(-2000)}`);
      }
      await sleep(25);
    }
    this.lifetime++;
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectExit = true;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }
}

/** Writes a node's config file (Redis store, limits raised for the soak's load). */
export async function writeNodeConfig(file: string, o: { prefix: string; nodeId: string; commandTimeoutMs: number; guardianEventLoopDelayMs?: number }): Promise<void> {
  await writeFile(
    file,
    [
      'store:',
      '  kind: redis',
      `  prefix: ${o.prefix}`,
      `  nodeId: ${o.nodeId}`,
      `  commandTimeoutMs: ${o.commandTimeoutMs}`,
      // The soak's clients all come from 127.0.0.1: the default per-client limits (100 messages/s,
      // 50 tools/call/s) would refuse the steady load itself.
      'rateLimits:',
      '  perClient:',
      '    messagesPerSec: 100000',
      '    toolCallsPerSec: 100000',
      '  global:',
      '    messagesPerSec: 100000',
      ...(o.guardianEventLoopDelayMs ? ['guardian:', `  eventLoopDelayMs: ${o.guardianEventLoopDelayMs}`] : []),
      '',
    ].join('\n'),
  );
}

/** Round-robin TCP proxy: each client connection goes to the next node that accepts it. */
export async function startProxy(ports: number[]) {
  let next = 0;
  const sockets = new Set<Socket>();
  const perNode = ports.map(() => 0);
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const attempt = (tries: number) => {
      if (tries >= ports.length || client.destroyed) {
        client.destroy();
        return;
      }
      const i = next++ % ports.length;
      const up = connect(ports[i]!, '127.0.0.1');
      let connected = false;
      sockets.add(up);
      up.on('close', () => {
        sockets.delete(up);
        if (connected) client.destroy();
      });
      up.on('error', () => {
        up.destroy();
        if (!connected) attempt(tries + 1);
      });
      up.once('connect', () => {
        connected = true;
        perNode[i]!++;
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
      });
    };
    attempt(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    /** Connections accepted per node. */
    perNode,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
