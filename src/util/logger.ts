/**
 * Logging. The runtime logs JSON through pino to stderr by default: stdout is reserved for the
 * stdio transport, so nothing in src/ may write there.
 */
import { pino } from 'pino';

/** The subset of pino's API the runtime uses; any pino logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
}

const noop = () => {};
/** A logger that drops everything (the default for embedded use and tests). */
export const nullLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export interface LoggerOptions {
  /** Minimum level. Default `info` (or `ANDON_LOG_LEVEL`). */
  level?: string;
  name?: string;
}

/** A JSON logger on stderr (fd 2), with secrets redacted from common places. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'andon',
      level: options.level ?? process.env.ANDON_LOG_LEVEL ?? 'info',
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.token', '*.apiKey', '*.secret'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
