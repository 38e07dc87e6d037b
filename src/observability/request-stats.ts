/**
 * Request counters and the latency histogram, aggregated in plain numbers on the request path and
 * turned into Prometheus series only when scraped. prom-client's labelled children hash their
 * label object on every inc/observe (about a microsecond per request for the pair); here a
 * request costs one Map lookup, three additions and a bucket search. The two objects registered
 * on the registry implement prom-client's metric interface (`get()`), so they render and merge
 * like any other metric.
 */
import type { Registry } from 'prom-client';

/** Distinct raw (method, name) keys and series kept before new ones fold into an overflow series. */
const MAX_KEYS = 10_000;
/**
 * Longest raw method or tool name that gets its own index entry. MCP tool names are 1–128
 * characters and method names shorter; a client's 300,000-character "method" must not be kept
 * (10,000 of them would hold gigabytes), so a longer one goes straight to the bounded labels.
 */
const MAX_RAW_LENGTH = 128;

const OUTCOME: Record<string, number> = { ok: 0, error: 1, tool_error: 2, input_required: 3 };

/** One series' running totals. */
interface Entry {
  labels: { method: string; tool: string; era: string; outcome: string };
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: Float64Array;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric object prom-client's Registry can render (duck-typed to its Metric interface). */
interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

/** Aggregates request events for `<prefix>requests_total` and `<prefix>request_duration_seconds`. */
export class RequestStats {
  private readonly index = new Map<string, Map<string, Array<Entry | undefined>>>();
  private entries: Entry[] = [];
  private rawKeys = 0;
  private readonly overflow = new Map<string, Entry>();
  private readonly bounds: Float64Array;

  /** `buckets` in seconds, ascending. */
  constructor(
    registry: Registry,
    prefix: string,
    buckets: number[],
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    const counter: CollectedMetric = {
      name: `${prefix}requests_total`,
      help: 'MCP requests completed, by method, tool (tools/call only), era and outcome (ok, error, tool_error, input_required).',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: counter.name, help: counter.help, type: 'counter', aggregator: 'sum', values: this.counterValues() }),
      reset: () => this.clear(),
    };
    const histogram: CollectedMetric = {
      name: `${prefix}request_duration_seconds`,
      help: 'MCP request latency from dispatch to response, seconds.',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: histogram.name, help: histogram.help, type: 'histogram', aggregator: 'sum', values: this.histogramValues(histogram.name) }),
      reset: () => this.clear(),
    };
    registry.registerMetric(counter as never);
    registry.registerMetric(histogram as never);
  }

  /**
   * Records one request. The raw method and name index the series without building a key string
   * (a fresh string per request costs its hash and its garbage); `labels` derives the bounded
   * label values the first time a combination is seen.
   */
  record(method: string, name: string | undefined, era: string, outcome: string, seconds: number, labels: () => Entry['labels']): void {
    let byName = this.index.get(method);
    let slots = byName?.get(name ?? '');
    let e: Entry | undefined;
    if (!slots && (this.rawKeys >= MAX_KEYS || method.length > MAX_RAW_LENGTH || (name !== undefined && name.length > MAX_RAW_LENGTH))) {
      // The raw index is bounded too, or a client sending random method names would grow it.
      e = this.entry(labels(), true);
    } else {
      if (!byName) this.index.set(method, (byName = new Map()));
      if (!slots) {
        byName.set(name ?? '', (slots = new Array<Entry | undefined>(8)));
        this.rawKeys++;
      }
      const slot = (era === '2026' ? 4 : 0) + (OUTCOME[outcome] ?? 1);
      e = slots[slot];
      if (!e) slots[slot] = e = this.entry(labels(), this.entries.length >= MAX_KEYS);
    }
    e.count++;
    e.sum += seconds;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    e.buckets[i]!++;
  }

  private entry(l: Entry['labels'], overflow: boolean): Entry {
    // Raw values come partly from clients (method names): past the cap, new ones share one series.
    if (overflow) {
      const key = `${l.era}\0${l.outcome}`;
      let e = this.overflow.get(key);
      if (!e) this.overflow.set(key, (e = { labels: { ...l, method: '_other', tool: '' }, count: 0, sum: 0, buckets: new Float64Array(this.bounds.length + 1) }));
      return e;
    }
    const e: Entry = { labels: l, count: 0, sum: 0, buckets: new Float64Array(this.bounds.length + 1) };
    this.entries.push(e);
    return e;
  }

  /** Number of distinct label combinations seen. */
  get size(): number {
    return this.entries.length + this.overflow.size;
  }

  private all(): Entry[] {
    return this.overflow.size ? [...this.entries, ...this.overflow.values()] : this.entries;
  }

  private clear(): void {
    this.index.clear();
    this.rawKeys = 0;
    this.entries = [];
    this.overflow.clear();
  }

  private counterValues(): MetricValue[] {
    // Several raw keys can map to one label set (e.g. many unknown methods → `_other`): merge.
    const merged = new Map<string, MetricValue>();
    for (const e of this.all()) {
      const l = e.labels;
      const k = `${l.method}\0${l.tool}\0${l.era}\0${l.outcome}`;
      const v = merged.get(k);
      if (v) v.value += e.count;
      else merged.set(k, { labels: { method: l.method, tool: l.tool, era: l.era, outcome: l.outcome }, value: e.count });
    }
    return [...merged.values()];
  }

  private histogramValues(name: string): MetricValue[] {
    // The histogram has no era label: merge entries that differ only by era (and raw key).
    const merged = new Map<string, { labels: Omit<Entry['labels'], 'era'>; count: number; sum: number; buckets: Float64Array }>();
    for (const e of this.all()) {
      const { method, tool, outcome } = e.labels;
      const k = `${method}\0${tool}\0${outcome}`;
      let m = merged.get(k);
      if (!m) merged.set(k, (m = { labels: { method, tool, outcome }, count: 0, sum: 0, buckets: new Float64Array(this.bounds.length + 1) }));
      m.count += e.count;
      m.sum += e.sum;
      for (let i = 0; i < e.buckets.length; i++) m.buckets[i]! += e.buckets[i]!;
    }
    const out: MetricValue[] = [];
    for (const m of merged.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += m.buckets[i]!;
        out.push({ metricName: `${name}_bucket`, labels: { le: this.bounds[i]!, ...m.labels }, value: acc });
      }
      out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...m.labels }, value: m.count });
      out.push({ metricName: `${name}_sum`, labels: { ...m.labels }, value: m.sum });
      out.push({ metricName: `${name}_count`, labels: { ...m.labels }, value: m.count });
    }
    return out;
  }
}
