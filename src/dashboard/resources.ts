/**
 * Resource gauges for the dashboard when no resource guardian provides them: heap, RSS, open file
 * descriptors and event-loop delay, sampled cheaply (process.memoryUsage, one readdir of
 * /proc/self/fd on Linux, a perf_hooks event-loop-delay histogram at 20 ms resolution).
 */
import { readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** One reading of the gauges. */
export interface ResourceSample {
  heapUsedBytes: number;
  /** V8's heap limit: the gauge's maximum. */
  heapLimitBytes: number;
  rssBytes: number;
  /** The machine's memory (os.totalmem): the RSS gauge's maximum when no guardian sets one. */
  systemMemoryBytes: number;
  /** Open file descriptors; null where /proc/self/fd does not exist. */
  fds: number | null;
  /** Event-loop delay since the previous sample, ms: mean and p99; null before the first sample. */
  eventLoopDelayMs: { mean: number; p99: number; max: number } | null;
}

/** Counts /proc/self/fd entries (Linux); null elsewhere. */
export function countFds(): number | null {
  try {
    // One entry is the directory handle readdir itself opened.
    return Math.max(0, readdirSync('/proc/self/fd').length - 1);
  } catch {
    return null;
  }
}

/** Memory and descriptors alone (no event-loop reading): for a one-off answer with no page open. */
export function sampleMemory(): ResourceSample {
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, heapLimitBytes: getHeapStatistics().heap_size_limit, rssBytes: m.rss, systemMemoryBytes: totalmem(), fds: countFds(), eventLoopDelayMs: null };
}

const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;

/** Samples the gauges; {@link stop} releases the event-loop monitor. */
export class ResourceSampler {
  private readonly loop: IntervalHistogram;

  constructor() {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
  }

  sample(): ResourceSample {
    const h = this.loop;
    const eld = h.count > 0 ? { mean: ms(h.mean), p99: ms(h.percentile(99)), max: ms(h.max) } : null;
    h.reset();
    return { ...sampleMemory(), eventLoopDelayMs: eld };
  }

  stop(): void {
    this.loop.disable();
  }
}
