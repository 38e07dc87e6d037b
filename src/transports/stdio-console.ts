/**
 * In stdio mode stdout is the transport: one stray `console.log` from a handler (or a library it
 * uses) would put a non-JSON line into the client's message stream. While a stdio server owns
 * process.stdout, `console.log`, `console.info` and `console.debug` write to stderr instead —
 * where MCP clients expect a server's diagnostics. `console.warn`/`console.error` already do.
 */
import { format } from 'node:util';

type ConsoleMethod = (...args: unknown[]) => void;

let owners = 0;
let saved: { log: ConsoleMethod; info: ConsoleMethod; debug: ConsoleMethod } | undefined;

/**
 * Points console.log/info/debug at stderr until the returned function is called (reference
 * counted: several stdio connections in one process restore only when the last one closes).
 */
export function redirectConsoleToStderr(stderr: NodeJS.WritableStream = process.stderr): () => void {
  // The global console is the point here: this module exists to re-route it.
  const c = globalThis.console as unknown as Record<'log' | 'info' | 'debug', ConsoleMethod>;
  if (owners++ === 0) {
    saved = { log: c.log, info: c.info, debug: c.debug };
    const toStderr: ConsoleMethod = (...args) => {
      stderr.write(`${format(...args)}\n`);
    };
    c.log = toStderr;
    c.info = toStderr;
    c.debug = toStderr;
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--owners === 0 && saved) {
      c.log = saved.log;
      c.info = saved.info;
      c.debug = saved.debug;
      saved = undefined;
    }
  };
}
