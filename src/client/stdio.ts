/**
 * stdio for the client: spawns the server process and speaks newline-delimited JSON on its
 * stdin/stdout. Shutting down follows the spec's sequence: close the child's stdin, wait for it to
 * exit, then SIGTERM, then SIGKILL. A dying process fails the calls in flight with
 * `PROCESS_EXITED` (carrying the exit code and the tail of its stderr) instead of hanging them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.js';
import { ClientError } from './errors.js';
import type { ClientTransport, SendContext, TransportSink } from './transport.js';

/** Options of {@link StdioTransport}. */
export interface StdioTransportOptions {
  /** The executable. */
  command: string;
  /** Its arguments. Default none. */
  args?: string[];
  /** Environment added to (or, with `inheritEnv: false`, instead of) this process's. */
  env?: Record<string, string>;
  /** Inherit this process's environment. Default true. */
  inheritEnv?: boolean;
  /** Working directory. Default this process's. */
  cwd?: string;
  /**
   * The child's stderr: `pipe` keeps the last 8 KiB for error messages and reports each chunk as
   * a `stderr` event; `inherit` shares this process's stderr; `ignore` drops it. Default `pipe`.
   */
  stderr?: 'pipe' | 'inherit' | 'ignore';
  /** How long each shutdown step waits for the process to exit, ms. Default 2000. */
  shutdownTimeoutMs?: number;
  /** Largest accepted line from the server, bytes. Default 16 MiB. */
  maxLineBytes?: number;
}

const STDERR_TAIL = 8 * 1024;

/** Spawns an MCP server and talks to it over stdio. */
export class StdioTransport implements ClientTransport {
  readonly kind = 'stdio' as const;
  private child: ChildProcess | undefined;
  private sink!: TransportSink;
  private buffered = '';
  private stderrTail = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exitPromise: Promise<void> | undefined;
  private closing = false;
  private reportedClose = false;

  constructor(private readonly options: StdioTransportOptions) {}

  /** The child's process id, once spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few KiB the child wrote to stderr (with `stderr: 'pipe'`). */
  get stderr(): string {
    return this.stderrTail;
  }

  start(sink: TransportSink): Promise<void> {
    this.sink = sink;
    const o = this.options;
    const env = o.inheritEnv === false ? { ...o.env } : { ...process.env, ...o.env };
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(o.command, o.args ?? [], { cwd: o.cwd, env, stdio: ['pipe', 'pipe', o.stderr ?? 'pipe'], windowsHide: true });
      } catch (err) {
        reject(new ClientError('PROCESS_EXITED', `Cannot spawn ${o.command}: ${(err as Error).message}`, { cause: err }));
        return;
      }
      this.child = child;
      let spawned = false;
      this.exitPromise = new Promise<void>((r) => child.once('exit', () => r()));
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
      child.once('error', (err) => {
        if (!spawned) {
          this.exited = { code: null, signal: null };
          reject(new ClientError('PROCESS_EXITED', `Cannot spawn ${o.command}: ${err.message}`, { cause: err, details: { command: o.command } }));
          return;
        }
        this.sink.event('warning', { code: 'PROCESS_ERROR', message: err.message });
      });
      // EPIPE and friends after the child died: the exit handler reports it; never crash the host.
      child.stdin!.on('error', () => {});
      // Decode as a stream: a multi-byte character split across two 64 KiB reads stays intact.
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => this.onData(chunk));
      child.stdout!.on('error', () => {});
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
        this.sink.event('stderr', { text });
      });
      child.stderr?.on('error', () => {});
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        // stdout may still hold buffered lines: let them drain before reporting the close, but
        // don't wait for a grandchild that inherited the pipe.
        const fallback = setTimeout(() => this.reportClose(), 200);
        fallback.unref();
        child.stdout!.once('close', () => {
          clearTimeout(fallback);
          this.reportClose();
        });
        if (child.stdout!.destroyed || child.stdout!.readableEnded) {
          clearTimeout(fallback);
          this.reportClose();
        }
      });
    });
  }

  private reportClose(): void {
    if (this.reportedClose) return;
    this.reportedClose = true;
    if (this.buffered.trim()) this.onLine(this.buffered);
    this.buffered = '';
    const e = this.exited;
    const how = e?.signal ? `was killed by ${e.signal}` : `exited with code ${String(e?.code)}`;
    const tail = this.stderrTail.trim();
    const message = this.closing ? `The server process was shut down` : `The server process ${how}${tail ? `; its stderr ended with: ${tail.slice(-500)}` : ''}`;
    this.sink.closed(new ClientError(this.closing ? 'CONNECTION_CLOSED' : 'PROCESS_EXITED', message, { details: { exitCode: e?.code ?? null, signal: e?.signal ?? null, stderr: tail.slice(-2000) } }));
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf('\n');
    while (nl !== -1) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      this.onLine(line);
      nl = this.buffered.indexOf('\n');
    }
    const max = this.options.maxLineBytes ?? 16 * 1024 * 1024;
    if (this.buffered.length > max) {
      const id = guessId(this.buffered);
      this.buffered = '';
      this.sink.malformed(`A line from the server exceeds ${max} bytes and was discarded`, id);
    }
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      // Which call does the garbage belong to? If the line names a pending id, fail that call
      // now instead of letting it time out.
      this.sink.malformed(`Line from the server is not JSON: ${(err as Error).message}: ${line.slice(0, 200)}`, guessId(line));
      return;
    }
    this.sink.message(value);
  }

  sendRequest(request: JsonRpcRequest, _ctx: SendContext): void {
    if (!this.write(request)) {
      queueMicrotask(() => this.sink.requestFailed(request.id, this.deadError()));
    }
  }

  async sendMessage(message: JsonRpcMessage, _ctx: SendContext): Promise<void> {
    if (!this.write(message)) throw this.deadError();
  }

  abandon(_id: RequestId): void {
    // One shared pipe: there is no per-request stream to close.
  }

  private write(message: JsonRpcMessage): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || this.exited || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  private deadError(): ClientError {
    if (this.closing) return new ClientError('CONNECTION_CLOSED', 'The client was closed');
    return new ClientError('PROCESS_EXITED', `The server process is not running${this.exited ? ` (exit code ${String(this.exited.code)})` : ''}`);
  }

  /** The spec's shutdown: close stdin, wait; SIGTERM, wait; SIGKILL. Resolves once the child is gone. */
  async close(): Promise<void> {
    const child = this.child;
    this.closing = true;
    if (!child || this.exited) return;
    const wait = this.options.shutdownTimeoutMs ?? 2000;
    const gone = this.exitPromise!;
    const within = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void gone.then(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    child.stdin?.end();
    if (await within(wait)) return;
    child.kill('SIGTERM');
    if (await within(wait)) return;
    child.kill('SIGKILL');
    await within(wait);
  }
}

/** Finds `"id": <value>` in a broken line so the failure lands on the right call. */
function guessId(line: string): RequestId | undefined {
  const m = /"id"\s*:\s*(-?\d+|"((?:[^"\\]|\\.)*)")/.exec(line);
  if (!m) return undefined;
  if (m[2] !== undefined) return m[2];
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
