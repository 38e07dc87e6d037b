/**
 * Request logging by subscription: a line when a request starts (debug: method, params with
 * secrets redacted, HTTP headers) and one when it completes (outcome, duration). Both run inside
 * the request scope, so the logger's mixin stamps them — and any line the handler writes — with
 * the same `trace_id` and `session_id`.
 */
import { channels, type RequestEvent } from '../runtime/events.js';
import type { Logger } from '../util/logger.js';
import { requestStartChannel, type RequestStartEvent } from './tracing.js';

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
}

/** Subscribes request start and completion events and writes them as log lines. */
export class RequestLogging {
  private readonly log: Logger;
  private readonly startLevel: Level | 'off';
  private readonly completeLevel: Level | 'off';
  private readonly errorLevel: Level | 'off';
  private started = false;

  /** See {@link RequestLoggingOptions} for defaults. */
  constructor(options: RequestLoggingOptions) {
    this.log = options.logger;
    this.startLevel = options.startLevel ?? 'debug';
    this.completeLevel = options.completeLevel ?? 'debug';
    this.errorLevel = options.errorLevel ?? 'info';
  }

  private enabled(level: Level | 'off'): level is Level {
    if (level === 'off') return false;
    return this.log.isLevelEnabled ? this.log.isLevelEnabled(level) : true;
  }

  private readonly onStart = (msg: unknown): void => {
    if (!this.enabled(this.startLevel)) return;
    const e = msg as RequestStartEvent;
    const line: Record<string, unknown> = { event: 'request.start', method: e.request.method, id: e.request.id, era: e.era };
    if (e.request.params !== undefined) line.params = e.request.params;
    if (e.headers) line.headers = e.headers;
    this.log[this.startLevel](line, 'request received');
  };

  private readonly onEnd = (msg: unknown): void => {
    const e = msg as RequestEvent;
    const level = e.outcome === 'error' ? this.errorLevel : this.completeLevel;
    if (!this.enabled(level)) return;
    const line: Record<string, unknown> = { event: 'request.end', method: e.method, era: e.era, outcome: e.outcome, durationMs: Math.round(e.durationMs * 1000) / 1000 };
    if (e.name !== undefined) line.name = e.name;
    this.log[level](line, 'request completed');
  };

  /** Subscribes. Idempotent. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    requestStartChannel.subscribe(this.onStart);
    channels.request.subscribe(this.onEnd);
    return this;
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    requestStartChannel.unsubscribe(this.onStart);
    channels.request.unsubscribe(this.onEnd);
  }
}
