/**
 * The stdio load client: newline-delimited JSON-RPC to a child's stdin, responses read from its
 * stdout, `concurrency` requests kept in flight. Requests released by one stdout chunk go out in
 * one write. Only the `"id":` of each response line is extracted, to keep the client cheap.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { INITIALIZED, initializeBody, summarise, type LoadResult } from './load-http.js';

const TEXT = 'hello, andon';

export class StdioLoad {
  private buf = '';
  private onLine: ((line: string) => void) | null = null;
  private nextId = 1;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl = this.buf.indexOf('\n');
      let from = 0;
      while (nl !== -1) {
        const line = this.buf.slice(from, nl);
        from = nl + 1;
        if (line) this.onLine?.(line);
        nl = this.buf.indexOf('\n', from);
      }
      this.buf = this.buf.slice(from);
      this.flush();
    });
  }

  private pending = '';
  private flush(): void {
    if (this.pending) {
      this.child.stdin!.write(this.pending);
      this.pending = '';
    }
  }

  /** initialize + notifications/initialized (2025). Resolves with the time to the response, ms. */
  initialize(): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stdio initialize timed out')), 20_000);
      this.onLine = (line) => {
        if (!line.includes('"result"')) return;
        clearTimeout(timer);
        this.onLine = null;
        const ms = performance.now() - t0;
        this.child.stdin!.write(`${INITIALIZED}\n`);
        resolve(ms);
      };
      this.child.stdin!.write(`${initializeBody('init')}\n`);
    });
  }

  run(calls: number, concurrency: number, maxSeconds = 60): Promise<LoadResult> {
    const base = this.nextId;
    this.nextId += calls;
    const sentAt = new Float64Array(calls);
    const lat = new Float64Array(calls);
    let issued = 0;
    let done = 0;
    let errors = 0;
    let firstError: string | undefined;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const deadline = start + maxSeconds * 1000;
    const issue = () => {
      const i = issued++;
      sentAt[i] = performance.now();
      this.pending += `{"jsonrpc":"2.0","id":${base + i},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"}}}\n`;
    };
    return new Promise((resolve) => {
      const finish = () => {
        this.onLine = null;
        const seconds = (performance.now() - start) / 1000;
        const cpu = process.cpuUsage(cpu0);
        resolve(summarise(lat, done, errors, firstError, seconds, cpu));
      };
      this.onLine = (line) => {
        const at = line.indexOf('"id":');
        if (at === -1) return; // a notification
        const id = Number.parseInt(line.slice(at + 5, at + 20), 10) - base;
        if (!(id >= 0 && id < calls)) return;
        if (!line.includes('"result"') || line.includes('"isError":true')) {
          errors++;
          firstError ??= line.slice(0, 300);
        }
        lat[done++] = performance.now() - sentAt[id]!;
        if (issued < calls && performance.now() < deadline) issue();
        else if (done === issued) finish();
      };
      const first = Math.min(concurrency, calls);
      for (let i = 0; i < first; i++) issue();
      this.flush();
    });
  }
}
