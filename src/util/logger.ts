/**
 * Logging. The runtime logs JSON through pino to stderr by default: stdout is reserved for the
 * stdio transport, so nothing in src/ may write there. Optionally to a file instead, rotated by
 * size. Secrets are redacted by key name at any depth and by value on the final line (see
 * src/observability/redact.ts), and every line written inside a request carries that request's
 * `trace_id`, `span_id` and `session_id` (see src/observability/scope.ts).
 */
import { pino, type DestinationStream } from 'pino';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { KeyMatcher, REDACTED, Scrubber, redactObject } from '../observability/redact.js';
import { requestScope } from '../observability/scope.js';

/** The subset of pino's API the runtime uses; any pino logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
  /** Whether a level is enabled (pino's `isLevelEnabled`); lets callers skip building objects. */
  isLevelEnabled?(level: string): boolean;
  /** Writes out anything buffered (call before exit). */
  flush?(cb?: (err?: Error) => void): void;
}

const noop = () => {};
/** A logger that drops everything (the default for embedded use and tests). */
export const nullLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, isLevelEnabled: () => false };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level: trace, debug, info, warn, error, fatal, silent. Default `info` (or `ANDON_LOG_LEVEL`). */
  level?: string;
  /** `name` field on every line. Default `andon`. */
  name?: string;
  /**
   * Log to this file instead of stderr (or `ANDON_LOG_FILE`). Directories are created. Rotated by
   * size: `file` → `file.1` → … → `file.<maxFiles>` (the oldest is deleted).
   */
  file?: string;
  /** Rotate the file when it grows past this many bytes. Default 10 MiB (or `ANDON_LOG_MAX_BYTES`). */
  maxBytes?: number;
  /** Rotated files kept besides the live one. Default 5 (or `ANDON_LOG_MAX_FILES`). */
  maxFiles?: number;
  /**
   * Most bytes of log output waiting for a slow destination (stderr, the file). A line that would
   * go past it is dropped and counted; the next line that fits is preceded by one `log.dropped`
   * warning with the counts. Default 16 MiB (or `ANDON_LOG_MAX_BUFFER_BYTES`). Not applied to a
   * `destination` given here.
   */
  maxBufferBytes?: number;
  /**
   * Key names whose values are redacted anywhere in a log object (headers, tool arguments…),
   * added to the defaults in `DEFAULT_REDACT_KEYS` (authorization, cookie, password, token,
   * api_key, secret… and keys ending in token/secret/password/apikey). Also `ANDON_LOG_REDACT_KEYS`
   * (comma-separated).
   */
  redactKeys?: string[];
  /** Exact secret values to scrub from every line (e.g. tokens loaded from the environment). */
  redactValues?: string[];
  /** Extra value patterns to scrub from every line. */
  redactPatterns?: RegExp[];
  /** Add `trace_id`, `span_id` and `session_id` of the current request to each line. Default true. */
  traceContext?: boolean;
  /** Write here instead (tests, custom transports). Takes precedence over `file`. */
  destination?: DestinationStream;
}

/** A pino logger with the extras {@link createLogger} adds. */
export interface AndonLogger extends Logger {
  /** Registers a secret value to scrub from every later line (e.g. a token read at start-up). */
  addSecret(value: string): void;
  flush(cb?: (err?: Error) => void): void;
  child(bindings: object): AndonLogger;
  /** Sets the level of this logger and every child made from it (a config reload; pino children otherwise keep the level they were born with). */
  setLevel(level: string): void;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

/** A JSON logger (stderr by default) with secrets redacted and the request's trace context on each line. */
export function createLogger(options: LoggerOptions = {}): AndonLogger {
  const extraKeys = [...(options.redactKeys ?? []), ...(process.env.ANDON_LOG_REDACT_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean)];
  const keys = new KeyMatcher(undefined, extraKeys);
  const scrubber = new Scrubber({ values: options.redactValues ?? [], patterns: options.redactPatterns ?? [] });
  const withTrace = options.traceContext ?? true;
  let destination: DestinationStream;
  const drops = new DropCounter(options.name ?? 'andon');
  if (options.destination) destination = options.destination;
  else {
    const file = options.file ?? process.env.ANDON_LOG_FILE;
    const maxBuffer = options.maxBufferBytes ?? envInt('ANDON_LOG_MAX_BUFFER_BYTES') ?? DEFAULT_MAX_BUFFER_BYTES;
    if (file) destination = new RotatingFileStream(file, options.maxBytes ?? envInt('ANDON_LOG_MAX_BYTES') ?? 10 * 1024 * 1024, options.maxFiles ?? envInt('ANDON_LOG_MAX_FILES') ?? 5, maxBuffer, (d) => drops.dropped(d));
    else {
      // Asynchronous writes to stderr queue in sonic-boom while the reader is slower than the
      // logging (a full pipe: each EAGAIN waits 100 ms). Without a bound that queue grew by every
      // line the fuzzer made the node log (docs/fuzzing.md); `maxLength` drops past it instead.
      const sb = pino.destination({ fd: 2, sync: false, maxLength: maxBuffer });
      sb.on('drop', (d: unknown) => drops.dropped(String(d)));
      destination = sb;
    }
  }
  const logger = pino(
    {
      name: options.name ?? 'andon',
      level: options.level ?? process.env.ANDON_LOG_LEVEL ?? 'info',
      // pino's own redaction covers the fixed, well-known paths cheaply; the deep key walk below
      // handles free-form objects (tool arguments, headers under any name).
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'req.headers.cookie', 'headers.cookie'], censor: REDACTED },
      formatters: {
        bindings: (b) => redactObject(b, keys),
        log: (o) => redactObject(o, keys),
      },
      hooks: { streamWrite: (s) => drops.prefix(scrubber.scrub(s)) },
      ...(withTrace
        ? {
            mixin: () => {
              const s = requestScope.getStore();
              if (!s) return {};
              return s.sessionId ? { trace_id: s.traceId, span_id: s.spanId, session_id: s.sessionId } : { trace_id: s.traceId, span_id: s.spanId };
            },
          }
        : {}),
    },
    destination,
  );
  return decorate(logger, scrubber);
}

/** Default of {@link LoggerOptions.maxBufferBytes}: 16 MiB. */
export const DEFAULT_MAX_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * Counts the lines a bounded destination dropped and reports them: the next line written is
 * preceded by one `log.dropped` warning (level 40) with the counts. A dropped warning's counts are
 * carried over to the next one.
 */
export class DropCounter {
  lines = 0;
  bytes = 0;
  /** Lines dropped since the start (the counts reported so far included). */
  total = 0;
  private notice: { text: string; lines: number; bytes: number } | undefined;

  constructor(private readonly name: string) {}

  /** The destination dropped `data` (one or more lines). */
  dropped(data: string): void {
    let text = data;
    const n = this.notice;
    if (n && text.startsWith(n.text)) {
      // The warning itself did not fit: its counts go to the next one.
      this.lines += n.lines;
      this.bytes += n.bytes;
      text = text.slice(n.text.length);
    }
    this.notice = undefined;
    let count = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    this.lines += count || 1;
    this.total += count || 1;
    this.bytes += Buffer.byteLength(text);
  }

  /** `line`, preceded by the warning when lines were dropped since the last one. */
  prefix(line: string): string {
    if (this.lines === 0) return line;
    // Stamped with the time of the line it precedes (pino's clock), so the file stays in order.
    const time = /"time":(\d+)/.exec(line.slice(0, 64))?.[1];
    const text = `${JSON.stringify({ level: 40, ...(time ? { time: Number(time) } : {}), pid: process.pid, name: this.name, event: 'log.dropped', lines: this.lines, bytes: this.bytes, msg: 'log lines dropped: the log destination was slower than the logging (logging.maxBufferBytes)' })}\n`;
    this.notice = { text, lines: this.lines, bytes: this.bytes };
    this.lines = 0;
    this.bytes = 0;
    return text + line;
  }
}

function decorate(l: pino.Logger, scrubber: Scrubber, family = new Set<WeakRef<pino.Logger>>()): AndonLogger {
  const out = l as unknown as AndonLogger;
  const child = l.child.bind(l);
  family.add(new WeakRef(l));
  out.addSecret = (v: string) => scrubber.addValue(v);
  out.child = (bindings: object) => decorate(child(bindings), scrubber, family);
  out.setLevel = (level: string) => {
    for (const ref of family) {
      const x = ref.deref();
      if (x) x.level = level;
      else family.delete(ref);
    }
  };
  return out;
}

/**
 * A file destination rotated by size. Each file is written by its own fs.WriteStream: at rotation
 * the live file is renamed, its stream ends (what is still buffered lands in the renamed file, in
 * order, through the descriptor it already holds) and a new stream opens the path again. Nothing
 * is lost and nothing is written to the wrong generation.
 */
export class RotatingFileStream {
  private stream: WriteStream;
  private size: number;
  private readonly closing = new Set<WriteStream>();

  /** `maxBytes` per file; `maxFiles` rotated files kept (default 10 MiB, 5). */
  /** `maxBuffer`: most bytes waiting to be written; a line past it goes to `onDrop` instead. */
  constructor(
    readonly path: string,
    private readonly maxBytes = 10 * 1024 * 1024,
    private readonly maxFiles = 5,
    private readonly maxBuffer = Infinity,
    private readonly onDrop: (line: string) => void = () => {},
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = existsSync(path) ? statSync(path).size : 0;
    this.stream = this.open();
  }

  private open(): WriteStream {
    const s = createWriteStream(this.path, { flags: 'a', mode: 0o640 });
    // A logging failure (disk full, permissions) must not crash the process it is observing.
    s.on('error', () => {});
    return s;
  }

  write(chunk: string): boolean {
    const bytes = Buffer.byteLength(chunk);
    if (this.stream.writableLength + bytes > this.maxBuffer) {
      this.onDrop(chunk);
      return false;
    }
    const ok = this.stream.write(chunk);
    this.size += bytes;
    // While the new file is still opening (`pending`) the path may not exist yet: rotate later.
    if (this.size >= this.maxBytes && !this.stream.pending) this.rotate();
    return ok;
  }

  private rotate(): void {
    this.size = 0;
    try {
      if (this.maxFiles <= 0) rmSync(this.path, { force: true });
      else {
        for (let i = this.maxFiles - 1; i >= 1; i--) {
          const from = `${this.path}.${i}`;
          if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
        }
        renameSync(this.path, `${this.path}.1`);
      }
    } catch {
      // A failed rename (file removed by an operator, read-only dir) must not take logging down:
      // the new stream below writes to whatever the path now is.
    }
    const old = this.stream;
    this.closing.add(old);
    old.end(() => this.closing.delete(old));
    this.stream = this.open();
  }

  /** Calls back once everything written so far is on its file (all generations). */
  flush(cb?: (err?: Error) => void): void {
    const waits = [...this.closing].map((s) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r()))));
    // A write's callback runs after every earlier write of the same stream has completed.
    waits.push(new Promise<void>((r) => this.stream.write('', () => r())));
    Promise.all(waits).then(
      () => cb?.(),
      (err: Error) => cb?.(err),
    );
  }

  /** Flushes and closes the file. */
  end(cb?: () => void): void {
    this.flush(() => this.stream.end(cb));
  }
}
