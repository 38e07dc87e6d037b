/**
 * The IPC side every benchmarked server runs: it reports its own CPU time (process.cpuUsage, all
 * threads), memory after a full GC, and runs a broadcast when told. Nothing here runs on the
 * request path; a server is only asked between measurements.
 */
import { performance } from 'node:perf_hooks';

export interface ControlHooks {
  /** Sends one notifications/resources/updated to every subscriber; returns how many were sent. */
  broadcast?: (uri: string) => number | Promise<number>;
  /** Number of live sessions, when the server keeps any. */
  sessions?: () => number;
}

type Msg = { id: number; cmd: 'cpu' | 'mem' | 'broadcast' | 'sessions' | 'exit'; uri?: string };

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) gc();
}

/** Installs the control channel (no-op without IPC). */
export function control(hooks: ControlHooks = {}): void {
  if (!process.send) return;
  process.on('message', (raw: unknown) => {
    const m = raw as Msg;
    const reply = (data: Record<string, unknown>) => process.send?.({ id: m.id, ...data });
    switch (m.cmd) {
      case 'cpu': {
        const u = process.cpuUsage();
        reply({ cpuUs: u.user + u.system });
        return;
      }
      case 'mem': {
        fullGc();
        // Let finalizers and the allocator settle, then GC again before reading.
        setTimeout(() => {
          fullGc();
          const mu = process.memoryUsage();
          reply({ rss: mu.rss, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers });
        }, 200);
        return;
      }
      case 'broadcast': {
        const t0 = performance.timeOrigin + performance.now();
        void Promise.resolve(hooks.broadcast ? hooks.broadcast(m.uri ?? '') : -1).then((sent) => {
          reply({ t0, sent, syncMs: performance.timeOrigin + performance.now() - t0 });
        });
        return;
      }
      case 'sessions':
        reply({ sessions: hooks.sessions ? hooks.sessions() : -1 });
        return;
      case 'exit':
        // A clean exit, so that --cpu-prof / --heap-prof write their files.
        reply({});
        setImmediate(() => process.exit(0));
        return;
    }
  });
}

/** Tells the parent the server is ready (and on which port). */
export function ready(port?: number): void {
  process.send?.({ ready: true, port });
}

/** Parses the JSON config passed as the first argument. */
export function config<T>(defaults: T): T {
  const raw = process.argv[2];
  return raw ? { ...defaults, ...(JSON.parse(raw) as Partial<T>) } : defaults;
}

export const ECHO_DESCRIPTION = 'Returns its text argument unchanged.';
export const RESOURCE_URI = 'bench://counter';
