/**
 * What the resource guardian measures, and how: one cheap read of each resource per interval.
 * Heap and RSS from V8 and the process, open file descriptors from `/proc/self/fd` against the
 * soft limit of `/proc/self/limits` (Linux; elsewhere fds are not guarded; listed off the event
 * loop, so a sample reports the count the previous interval's listing found), event-loop delay from
 * `monitorEventLoopDelay` (p99 over the interval, then reset) and utilisation from
 * `performance.eventLoopUtilization` (delta over the interval).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { measureMemory } from 'node:vm';

/** One reading of the process's resources. */
export interface ResourceSample {
  heapUsedBytes: number;
  /** The heap size V8 can reach before it aborts with "heap out of memory". */
  heapLimitBytes: number;
  rssBytes: number;
  /** The memory limit of the process's container (`process.constrainedMemory()`), when it has one. */
  memoryLimitBytes: number | undefined;
  /** Open file descriptors and their soft limit; undefined where `/proc` is unavailable. */
  fds: number | undefined;
  fdLimit: number | undefined;
  /** p99 event-loop delay over the last interval, ms. */
  eventLoopDelayMs: number;
  /** Event-loop utilisation over the last interval, 0-1. */
  eventLoopUtilization: number;
}

/** Reads the resources; the guardian calls it once per interval. Tests inject their own. */
export interface Sampler {
  sample(): ResourceSample;
  /**
   * Starts a full garbage collection, so that a later sample reads the live heap rather than
   * garbage V8 has had no reason to collect yet (an idle heap keeps it). Fire and forget.
   */
  collect?(): void;
  close?(): void;
}

/**
 * V8's `heap_size_limit` includes the young generation's reservation (3 × 16 MiB semi-spaces on
 * Node 20, measured: 48 MiB at every `--max-old-space-size`), which live data never fills: with
 * `--max-old-space-size=128` the process aborts at about 74 % of `heap_size_limit`. The guardian
 * measures heap use against the old-generation part: the flag's value when it is given (exact on
 * every Node version), else `heap_size_limit` minus this reserve (the default heaps are gigabytes,
 * so a different reserve on another Node version moves the ratio by a percent or two).
 */
export const YOUNG_GENERATION_RESERVE = 48 * 1024 * 1024;

/** The soft "Max open files" limit of this process, or undefined when it cannot be read. */
export function readFdLimit(file = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The old-generation limit set by `--max-old-space-size` (command line, else NODE_OPTIONS), bytes;
 * undefined when the process runs with V8's default. When set, it is exactly the limit V8 enforces,
 * whatever the young generation's size on this Node version.
 */
export function maxOldSpaceFromFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): number | undefined {
  const find = (text: string) => {
    let mb: number | undefined;
    for (const m of text.matchAll(/--max[-_]old[-_]space[-_]size[= ](\d+)/g)) mb = Number(m[1]);
    return mb;
  };
  const mb = find(execArgv.join(' ')) ?? find(nodeOptions);
  return mb !== undefined && mb > 0 ? mb * 1024 * 1024 : undefined;
}

/** Options of {@link processSampler}. */
export interface ProcessSamplerOptions {
  /** Heap limit override, bytes. Default `--max-old-space-size` when given, else V8's `heap_size_limit` minus {@link YOUNG_GENERATION_RESERVE}. */
  heapLimitBytes?: number;
  /** Event-loop delay histogram resolution, ms. Default 20. */
  resolutionMs?: number;
}

/** The sampler of this process (Linux `/proc` for fds). Call `close()` to stop the delay histogram. */
export function processSampler(options: ProcessSamplerOptions = {}): Sampler {
  const raw = getHeapStatistics().heap_size_limit;
  const heapLimitBytes = options.heapLimitBytes ?? maxOldSpaceFromFlags() ?? Math.max(raw / 2, raw - YOUNG_GENERATION_RESERVE);
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  // Unconstrained processes report 0 or UINT64_MAX: only a limit below the machine's memory is one.
  const memoryLimitBytes = constrained !== undefined && constrained > 0 && constrained < totalmem() ? constrained : undefined;
  const fdLimit = readFdLimit();
  const fdDir = fdLimit !== undefined ? '/proc/self/fd' : undefined;
  // Listing /proc/self/fd costs time in proportion to the open fds: 61 ms of blocked event loop
  // at 15,000 fds with readdirSync (measured, loaded 2-core VM), 8 ms of loop time with readdir on
  // the thread pool. The first count is read at once; after that each sample reports the latest
  // finished listing and starts the next one.
  let fds: number | undefined;
  if (fdDir) {
    try {
      fds = readdirSync(fdDir).length;
    } catch {
      fds = undefined;
    }
  }
  let listing = false;
  const relist = (): void => {
    if (!fdDir || listing) return;
    listing = true;
    readdir(fdDir).then(
      (l) => {
        fds = l.length;
        listing = false;
      },
      () => {
        fds = undefined;
        listing = false;
      },
    );
  };
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: options.resolutionMs ?? 20 });
  delay.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let collecting = false;
  return {
    collect(): void {
      if (collecting) return;
      collecting = true;
      // `execution: 'eager'` runs a full mark-compact at once (52-84 ms for a 96 MB heap on the
      // 2-core VM); the measurement itself is not used. vm.measureMemory is experimental in
      // Node 20/22 and its first call emits an ExperimentalWarning (synchronously): that one
      // warning is dropped, so stderr stays the JSON log; every other warning passes.
      const emit = process.emitWarning;
      process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
        const text = typeof warning === 'string' ? warning : warning?.message;
        if (typeof text === 'string' && text.includes('measureMemory')) return;
        (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
      } as typeof process.emitWarning;
      let collected: Promise<unknown>;
      try {
        collected = measureMemory({ mode: 'summary', execution: 'eager' });
      } finally {
        process.emitWarning = emit;
      }
      collected.then(
        () => (collecting = false),
        () => (collecting = false),
      );
    },
    sample(): ResourceSample {
      relist();
      const now = performance.eventLoopUtilization();
      const u = performance.eventLoopUtilization(now, elu);
      elu = now;
      // The histogram holds nanoseconds; a fresh one (no sample yet) reports NaN or 0.
      const p99 = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
      delay.reset();
      return {
        heapUsedBytes: getHeapStatistics().used_heap_size,
        heapLimitBytes,
        rssBytes: process.memoryUsage.rss(),
        memoryLimitBytes,
        fds,
        fdLimit,
        eventLoopDelayMs: Number.isFinite(p99) ? p99 : 0,
        eventLoopUtilization: u.utilization,
      };
    },
    close() {
      delay.disable();
    },
  };
}
