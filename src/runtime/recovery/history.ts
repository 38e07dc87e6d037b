/**
 * Failure history of one component, for the recovery strategist: the last N failures (time,
 * normalised error group, message), failures per minute over a sliding window, the trend
 * (second half of the window against the first) and a prediction of the next failure (the mean
 * interval between the failures in the window, added to the last one). Time comes from the
 * caller (the runtime's injected clock), so a TestClock drives it in tests.
 */

/** One recorded failure. */
export interface FailureRecord {
  /** Epoch ms. */
  time: number;
  /** The normalised message ({@link errorGroup}): failures with the same group are "the same error". */
  group: string;
  /** The message as reported (truncated). */
  error: string;
}

export type Trend = 'increasing' | 'decreasing' | 'stable';

/** What the history says about the window ending now. */
export interface HistoryStats {
  /** Failures recorded (at most the history size). */
  total: number;
  failuresInWindow: number;
  /** failuresInWindow per minute of the window. */
  perMinute: number;
  trend: Trend;
  /** Epoch ms of the last failure, or null. */
  lastAt: number | null;
  /** Mean interval between the failures in the window (needs two), ms, or null. */
  meanIntervalMs: number | null;
  /** Predicted epoch ms of the next failure (last + mean interval), or null. */
  predictedNextAt: number | null;
  /** Failures in the window per error group, most frequent first. */
  groups: Array<{ group: string; count: number }>;
}

const MAX_MESSAGE = 500;
const MAX_GROUP = 200;

/**
 * Normalises an error message into its group: quoted values, UUIDs, hex (0x… and long hex runs),
 * and numbers are replaced by placeholders, whitespace collapsed, so "timeout after 3012ms" and
 * "timeout after 2999ms" are one group, as are "ENOENT: open '/tmp/a'" and "ENOENT: open '/tmp/b'".
 */
export function errorGroup(message: string): string {
  return message
    .replace(/'[^'\n]*'|"[^"\n]*"|`[^`\n]*`/g, '<str>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<hex>')
    .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+(?:\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_GROUP);
}

/** The bounded failure history of one component. */
export class FailureHistory {
  private readonly records: FailureRecord[] = [];

  constructor(
    /** Failures kept (the oldest go first). */
    private readonly size: number,
    /** The sliding window of rates, trend and prediction, ms. */
    private readonly windowMs: number,
  ) {}

  /** Records a failure at `time` (its group from the message unless given) and returns its record. */
  record(time: number, error: string, group = errorGroup(error)): FailureRecord {
    const r: FailureRecord = { time, group, error: error.slice(0, MAX_MESSAGE) };
    this.records.push(r);
    if (this.records.length > this.size) this.records.splice(0, this.records.length - this.size);
    return r;
  }

  /** The recorded failures, oldest first. */
  list(): readonly FailureRecord[] {
    return this.records;
  }

  /** The last failure, if any. */
  last(): FailureRecord | undefined {
    return this.records.at(-1);
  }

  /** Failures inside the window ending at `now`. */
  inWindow(now: number): FailureRecord[] {
    return this.records.filter((r) => r.time > now - this.windowMs && r.time <= now);
  }

  /** Rate, trend, prediction and groups for the window ending at `now`. */
  stats(now: number): HistoryStats {
    const w = this.inWindow(now);
    const half = now - this.windowMs / 2;
    const early = w.filter((r) => r.time <= half).length;
    const late = w.length - early;
    const last = this.records.at(-1)?.time ?? null;
    const mean = w.length >= 2 ? (w.at(-1)!.time - w[0]!.time) / (w.length - 1) : null;
    const counts = new Map<string, number>();
    for (const r of w) counts.set(r.group, (counts.get(r.group) ?? 0) + 1);
    return {
      total: this.records.length,
      failuresInWindow: w.length,
      perMinute: Math.round((w.length / (this.windowMs / 60_000)) * 100) / 100,
      trend: trendOf(early, late),
      lastAt: last,
      meanIntervalMs: mean === null ? null : Math.round(mean),
      predictedNextAt: mean === null || last === null ? null : Math.round(last + mean),
      groups: [...counts].map(([group, count]) => ({ group, count })).sort((a, b) => b.count - a.count),
    };
  }
}

/**
 * Trend from the failures in the first and second half of the window: increasing when the second
 * half has at least 2 more and at least 50 % more than the first; decreasing the other way round;
 * else stable.
 */
export function trendOf(early: number, late: number): Trend {
  if (late - early >= Math.max(2, early * 0.5)) return 'increasing';
  if (early - late >= Math.max(2, late * 0.5)) return 'decreasing';
  return 'stable';
}
