/**
 * stdio transport: newline-delimited JSON-RPC on a pair of streams. Nothing but MCP messages is
 * written to the output stream: while serving on process.stdout, console.log/info/debug go to
 * stderr (see {@link redirectConsoleToStderr}). A malformed line gets -32700 and the next line is
 * still served. Input is decoded with a streaming UTF-8 decoder, so a multi-byte character split
 * across two reads (64 KiB pipe chunks) arrives intact.
 */
import type { Readable, Writable } from 'node:stream';
import { errorResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { McpError } from '../protocol/errors.js';
import type { McpServer } from '../server/server.js';
import type { Session } from '../server/session.js';
import { redirectConsoleToStderr } from './stdio-console.js';
import { MessageConnection } from './message-connection.js';
import { LineFramer } from './line-framing.js';

export interface StdioOptions {
  /** Default process.stdin. */
  input?: Readable;
  /** Default process.stdout. */
  output?: Writable;
  /** Largest accepted line in bytes. Default 4 MiB. */
  maxLineBytes?: number;
  /**
   * Send console.log/info/debug to stderr while this connection is open, so that a handler's
   * logging cannot corrupt the message stream. Default true when `output` is process.stdout.
   */
  redirectConsole?: boolean;
}

/** A running stdio connection. */
export interface StdioConnection {
  /** Resolves when the input ends (the client closed stdin). */
  closed: Promise<void>;
  /** Stops reading and aborts in-flight requests. */
  close(): void;
  /** The connection's peer state (also the 2025 session once initialized). */
  session: Session;
}

/** Serves `server` over newline-delimited JSON on stdin/stdout. */
export function serveStdio(server: McpServer, options: StdioOptions = {}): StdioConnection {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const maxLine = options.maxLineBytes ?? 4 * 1024 * 1024;
  const restoreConsole = (options.redirectConsole ?? output === process.stdout) ? redirectConsoleToStderr() : () => {};
  // Messages produced in one event-loop turn leave in one write: stdout on a pipe is synchronous
  // on Linux, so each write is a blocking syscall, and one per message was a third of the CPU.
  let out = '';
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    queued = 0;
    if (out) {
      const text = out;
      out = '';
      output.write(text);
    }
  };
  // ...but not all of them: every 8 messages go out at once, so that a client with many requests
  // in flight works on the first answers while the rest are produced (client and server overlap
  // instead of taking turns; see docs/performance.md), for one extra syscall per 8 messages.
  let queued = 0;
  const write = (m: JsonRpcMessage) => {
    out += `${JSON.stringify(m)}\n`;
    if (++queued >= 8) {
      queued = 0;
      const text = out;
      out = '';
      output.write(text);
      return;
    }
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const conn = new MessageConnection(server, { kind: 'stdio', write, sessionId: 'stdio', abortOnClose: false });
  const session = conn.session;
  // No input line can throw out of the 'data' listener: the connection answers every failure.
  const framer = new LineFramer(
    (line) => conn.receive(line),
    (max) => write(errorResponse(null, new McpError(-32600, `Invalid Request: line exceeds ${max} bytes and was discarded`))),
    maxLine,
  );
  const onData = (chunk: Buffer | string) => framer.push(chunk);

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    framer.end();
    restoreConsole();
    conn.close();
    flush();
    resolveClosed();
  };
  input.on('data', onData);
  input.once('end', finish);
  input.once('close', finish);
  return {
    closed,
    session,
    close() {
      input.off('data', onData);
      finish();
    },
  };
}
