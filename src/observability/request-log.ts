/**
 * Request logging by subscription: a line when a request starts (debug: method, params with
 * secrets redacted, HTTP headers; long client-sent strings cut, see {@link clipForLog}) and one when it completes (outcome, duration). Both run inside
 * the request scope, so the logger's mixin stamps them — and any line the handler writes — with
 * the same `trace_id` and `session_id`.
 */
import { channels, type RequestEvent } from '../runtime/events.js';
import type { Logger } from '../util/logger.js';
import { requestStartChannel, type RequestStartEvent, type RequestTracing } from './tracing.js';
import type { RequestScope } from './scope.js';
import { handlerErrorChannel, type HandlerErrorEvent } from '../server/handler-errors.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Options of {@link RequestLogging}. */
export interface RequestLoggingOptions {
  logger: Logger;
  /** Level of the "request received" line (with params and headers). Default `debug`. */
  startLevel?: Level | 'off';
  /** Level of the completion line for ok, tool_error and input_required outcomes. Default `debug`. */
  completeLevel?: Level | 'off';
  /** Level of the completion line for protocol errors. Default `info`. */
  errorLevel?: Level | 'off';
  /**
   * Where the request's trace and session ids come from when they are not in the async context
   * (tracing without `propagate`). Subscribe it first: it must see the start event before this.
   */
  tracing?: RequestTracing;
}

/** Longest method, tool name or request id written as is (MCP names are 1–128 characters). */
export const LOG_NAME_CHARS = 128;
/** Longest string inside logged params or headers written as is. */
export const LOG_STRING_CHARS = 1024;
/** Most entries of one object or array, and depth, written from params or headers. */
const LOG_ENTRIES = 64;
const LOG_DEPTH = 8;

/** `s` cut to `max` characters, saying how many were left out. */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length - max} more chars)`;
}

/** A name or id as logged: a long string is cut (the client chooses it; a log line must stay small). */
function short(v: unknown): unknown {
  return typeof v === 'string' ? cut(v, LOG_NAME_CHARS) : v;
}

/**
 * A copy of client-sent `v` (parsed JSON: params, headers) small enough for a log line: strings
 * past {@link LOG_STRING_CHARS} are cut, objects and arrays keep their first 64 entries and 8 levels.
 * Without it one request carrying megabytes wrote megabytes of log (at debug: twice, escaped).
 */
export function clipForLog(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return cut(v, LOG_STRING_CHARS);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= LOG_DEPTH) return '[nested too deep]';
  if (Array.isArray(v)) {
    const out = v.slice(0, LOG_ENTRIES).map((x) => clipForLog(x, depth + 1));
    if (v.length > LOG_ENTRIES) out.push(`…(${v.length - LOG_ENTRIES} more items)`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k of Object.keys(v)) {
    if (n++ === LOG_ENTRIES) {
      out['…'] = `${Object.keys(v).length - LOG_ENTRIES} more keys`;
      break;
    }
    // An own "__proto__" key (JSON.parse makes one) stays a plain property.
    Object.defineProperty(out, cut(k, LOG_NAME_CHARS), { value: clipForLog((v as Record<string, unknown>)[k], depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function stamp(line: Record<string, unknown>, s: RequestScope | undefined): Record<string, unknown> {
  if (!s) return line;
  line.trace_id = s.traceId;
  line.span_id = s.spanId;
  if (s.sessionId !== undefined) line.session_id = s.sessionId;
  return line;
}

/** Subscribes request start and completion events and writes them as log lines. */
export class RequestLogging {
  private readonly log: Logger;
  private readonly startLevel: Level | 'off';
  private readonly completeLevel: Level | 'off';
  private readonly errorLevel: Level | 'off';
  private readonly tracing: RequestTracing | undefined;
  private started = false;
  private subscribedStart = false;
  private subscribedEnd = false;

  /** See {@link RequestLoggingOptions} for defaults. */
  constructor(options: RequestLoggingOptions) {
    this.log = options.logger;
    this.startLevel = options.startLevel ?? 'debug';
    this.completeLevel = options.completeLevel ?? 'debug';
    this.errorLevel = options.errorLevel ?? 'info';
    this.tracing = options.tracing;
  }

  private enabled(level: Level | 'off'): level is Level {
    if (level === 'off') return false;
    return this.log.isLevelEnabled ? this.log.isLevelEnabled(level) : true;
  }

  /**
   * A diagnostics-channel subscriber that throws has its error rethrown on the next tick, which
   * ends the process: one odd request must cost at most its log line, never the node.
   */
  private guard(fn: (msg: unknown) => void): (msg: unknown) => void {
    return (msg) => {
      try {
        fn(msg);
      } catch (err) {
        try {
          this.log.warn({ err: (err as Error)?.message }, 'request log line skipped: the event could not be read');
        } catch {
          // The logger itself failed: nothing safer to do than drop the line.
        }
      }
    };
  }

  private readonly onStart = this.guard((msg: unknown): void => {
    if (!this.enabled(this.startLevel)) return;
    const e = msg as RequestStartEvent;
    const line: Record<string, unknown> = { event: 'request.start', method: short(e.request.method), id: short(e.request.id), era: e.era };
    if (e.request.params !== undefined) line.params = clipForLog(e.request.params);
    if (e.headers) line.headers = clipForLog(e.headers);
    this.log[this.startLevel](stamp(line, this.tracing?.scopeFor(e, this.enabled(this.completeLevel) || this.enabled(this.errorLevel))), 'request received');
  });

  private readonly onEnd = this.guard((msg: unknown): void => {
    const e = msg as RequestEvent & { incoming?: object };
    const level = e.outcome === 'error' ? this.errorLevel : this.completeLevel;
    if (!this.enabled(level)) return;
    const line: Record<string, unknown> = { event: 'request.end', method: short(e.method), era: e.era, outcome: e.outcome, durationMs: Math.round(e.durationMs * 1000) / 1000 };
    if (e.name !== undefined) line.name = short(e.name);
    this.log[level](stamp(line, this.tracing?.scopeFor(e.incoming)), 'request completed');
  });

  /** A resource, prompt or completion handler threw: an error line with the URI or name and the stack. */
  private readonly onHandlerError = this.guard((msg: unknown): void => {
    const e = msg as HandlerErrorEvent;
    const line: Record<string, unknown> = { event: 'handler.error', kind: e.kind, err: e.error };
    if (e.uri !== undefined) line.uri = short(e.uri);
    if (e.name !== undefined) line.name = short(e.name);
    this.log.error(stamp(line, this.tracing?.scopeFor(undefined)), `${e.kind} handler failed: ${e.error.message}`);
  });

  /**
   * Subscribes to what the logger's level lets through, as set now: a start subscriber alone makes
   * the server run every request through the start channel, so there is none unless the start
   * line is enabled. Call `restart()` after changing the logger's level. Idempotent.
   */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.subscribedStart = this.enabled(this.startLevel);
    this.subscribedEnd = this.enabled(this.completeLevel) || this.enabled(this.errorLevel);
    if (this.subscribedStart) requestStartChannel.subscribe(this.onStart);
    if (this.subscribedEnd) channels.request.subscribe(this.onEnd);
    handlerErrorChannel.subscribe(this.onHandlerError);
    return this;
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    if (this.subscribedStart) requestStartChannel.unsubscribe(this.onStart);
    if (this.subscribedEnd) channels.request.unsubscribe(this.onEnd);
    handlerErrorChannel.unsubscribe(this.onHandlerError);
  }

  /** Re-reads the logger's level (after it changed). */
  restart(): this {
    this.stop();
    return this.start();
  }
}
