/** Machine-level CPU accounting from /proc/stat, to recognise a noisy run. */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';

export interface CpuSample {
  /** jiffies per CPU line: [busy, total, steal] */
  cpus: Array<[number, number, number]>;
  at: number;
}

const HZ = 100;

export function sampleCpu(): CpuSample {
  const out: Array<[number, number, number]> = [];
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      if (!line.startsWith('cpu')) continue;
      const f = line.trim().split(/\s+/).slice(1).map(Number);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
      const busy = user + nice + system + irq + softirq + steal;
      out.push([busy, busy + idle + iowait, steal]);
    }
  } catch {
    // not Linux: no machine accounting
  }
  return { cpus: out, at: performance.now() };
}

export interface CpuDelta {
  /** Busy share of the whole machine (all CPUs), %. */
  busyPct: number;
  /** Busy share per CPU, %. */
  perCpuPct: number[];
  /** Steal (hypervisor) share, %. */
  stealPct: number;
  /** Machine CPU time in the window, µs (busy). */
  busyUs: number;
  wallUs: number;
}

export function cpuDelta(a: CpuSample, b: CpuSample): CpuDelta {
  const d = (i: number) => {
    const x = a.cpus[i];
    const y = b.cpus[i];
    if (!x || !y) return [0, 0, 0] as const;
    return [y[0] - x[0], y[1] - x[1], y[2] - x[2]] as const;
  };
  const all = d(0);
  const perCpuPct: number[] = [];
  for (let i = 1; i < a.cpus.length; i++) {
    const [busy, total] = d(i);
    perCpuPct.push(total ? (100 * busy) / total : NaN);
  }
  return {
    busyPct: all[1] ? (100 * all[0]) / all[1] : NaN,
    perCpuPct,
    stealPct: all[1] ? (100 * all[2]) / all[1] : NaN,
    busyUs: (all[0] * 1e6) / HZ,
    wallUs: (b.at - a.at) * 1000,
  };
}

/** Samples the machine while nothing of ours runs. */
export async function idleBackground(ms = 1000): Promise<{ busyPct: number; stealPct: number; perCpuPct: number[]; loadavg: number[] }> {
  const a = sampleCpu();
  await new Promise((r) => setTimeout(r, ms));
  const b = sampleCpu();
  const d = cpuDelta(a, b);
  return { busyPct: d.busyPct, stealPct: d.stealPct, perCpuPct: d.perCpuPct, loadavg: loadavg() };
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    cpuModel: c[0]?.model ?? 'unknown',
    cpus: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadavg: loadavg(),
  };
}

/** CPU ticks (utime + stime) of every process except `exclude`, by pid. */
export function sampleProcs(exclude: Set<number>): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => d.charCodeAt(0) >= 48 && d.charCodeAt(0) <= 57);
  } catch {
    return out;
  }
  for (const d of pids) {
    const pid = Number(d);
    if (exclude.has(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the command: state(0) ... utime(11) stime(12)
      out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      // exited
    }
  }
  return out;
}

/** CPU µs used by other processes between two samples (processes that started in between count in full). */
export function foreignCpuUs(a: Map<number, number>, b: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of b) ticks += t - (a.get(pid) ?? 0);
  return (Math.max(0, ticks) * 1e6) / HZ;
}
