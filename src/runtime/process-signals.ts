/**
 * Process signals and exit codes: SIGTERM/SIGINT drain then exit (0, or 3 when the grace ran out);
 * a second signal forces exit 4 after saving state; an escaped error that no tool owns is fatal
 * (brief drain, exit 70). See {@link EXIT}.
 */
import type { Logger } from '../util/logger.js';
import { EXIT, type DrainResult } from './exit.js';

/** What the handlers act on. */
export interface ProcessHooks {
  log: Logger;
  /** Ends the process with a code. */
  exit(code: number): void;
  drain(reason: string): Promise<DrainResult>;
  /** Saves state (second signal: no drain, just what must survive). */
  flush(): Promise<void>;
  /** True when the error was contained as a tool's crash (see FailureDetector). */
  escaped(err: unknown, how: string): boolean;
  /** SIGHUP: re-read the configuration (without a handler SIGHUP's default action would end the process). */
  reload?(): void;
  /** Called before the fatal drain: shorten its grace. */
  shortenDrain(): void;
}

/** Installs the handlers on `proc` (default the process); returns a function that removes them. */
export function installProcessHandlers(h: ProcessHooks, proc: NodeJS.EventEmitter = process): () => void {
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) {
      h.log.warn({ signal: sig }, 'second signal: forcing exit now');
      void h.flush().finally(() => h.exit(EXIT.forced));
      return;
    }
    h.log.info({ signal: sig }, 'signal received: draining');
    void h.drain(`signal ${sig}`).then(
      (r) => h.exit(r.graceExpired ? EXIT.graceExpired : EXIT.ok),
      () => h.exit(EXIT.fatal),
    );
  };
  const onEscaped = (err: unknown, how: string) => {
    if (h.escaped(err, how)) return;
    const error = err instanceof Error ? err : new Error(String(err));
    h.log.error({ err: error.message, stack: error.stack, how }, 'fatal: error outside any component; saving state and exiting');
    h.shortenDrain();
    void h.drain(`fatal ${how}`).finally(() => h.exit(EXIT.fatal));
  };
  const listeners: Array<[string, (...a: unknown[]) => void]> = [
    ['SIGTERM', () => onSignal('SIGTERM')],
    ['SIGINT', () => onSignal('SIGINT')],
    ['SIGHUP', () => h.reload?.()],
    ['uncaughtException', (err) => onEscaped(err, 'uncaught exception')],
    ['unhandledRejection', (err) => onEscaped(err, 'unhandled rejection')],
  ];
  for (const [ev, fn] of listeners) proc.on(ev, fn);
  return () => {
    for (const [ev, fn] of listeners) proc.off(ev, fn);
  };
}
