/**
 * Failure detection: which component an escaped error belongs to. Tool handlers run inside an
 * AsyncLocalStorage scope named after the tool, so an uncaught exception or unhandled rejection
 * raised from a handler's timers or lost promises is traced to that tool and contained as its
 * crash (its supervisor restarts it or halts it past the restart intensity).
 *
 * An error a handler throws or rejects with is not a crash: it is the caller's `isError` result
 * (see src/server/tools.ts), whoever sends the call, however often. Error rates are the circuit
 * breaker's business, not the supervisor's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../util/logger.js';
import type { ChildLink } from './supervisor.js';

/** Tracks running tools and attributes escaped errors to them. */
export class FailureDetector {
  /** The scope tool handlers run in (set on the server as `toolScope`). */
  readonly scope = new AsyncLocalStorage<string>();
  private readonly links = new Map<string, ChildLink>();

  constructor(private readonly log: Logger) {}

  /** A tool (re)started under its supervisor: escaped errors in its scope crash it through `link`. */
  started(tool: string, link: ChildLink): void {
    this.links.set(tool, link);
  }

  /** A tool stopped (halted or waiting for a restart). */
  stopped(tool: string): void {
    this.links.delete(tool);
  }

  /**
   * An uncaught exception or unhandled rejection. Returns true when it escaped a tool's handler:
   * contained as that tool's crash when it runs, only logged when it is stopped (halted, or waiting
   * for a restart); false when it belongs to no component (fatal).
   */
  escaped(err: unknown, how: string): boolean {
    const tool = this.scope.getStore();
    if (tool === undefined) return false;
    const error = err instanceof Error ? err : new Error(String(err));
    const link = this.links.get(tool);
    if (!link) {
      // From a handler of a tool that is not running now (halted, or waiting for its restart): a
      // timer or promise it left behind. Still that tool's, never the node's: logged, nothing more
      // (the tool is stopped already; its supervisor decides when it runs again).
      this.log.error({ component: `tool:${tool}`, err: error.message, how }, 'error escaped a handler of a stopped tool; contained (the tool is not running)');
      return true;
    }
    this.log.error({ component: `tool:${tool}`, err: error.message, how }, 'error escaped a tool handler; contained as a crash of that tool');
    link.crashed(new Error(`${how}: ${error.message}`));
    return true;
  }
}
