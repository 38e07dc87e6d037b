/**
 * stdio transport: newline-delimited JSON-RPC on a pair of streams. Nothing but MCP messages is
 * written to the output stream: while serving on process.stdout, console.log/info/debug go to
 * stderr (see {@link redirectConsoleToStderr}). A malformed line gets -32700 and the next line is
 * still served. Input is decoded with a streaming UTF-8 decoder, so a multi-byte character split
 * across two reads (64 KiB pipe chunks) arrives intact.
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { decodeMessage, errorResponse, type JsonRpcMessage, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { McpError } from '../protocol/errors.js';
import { META } from '../protocol/versions.js';
import { Incoming, check2026Meta, type Listener, type McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import { RequestAbort, type Exchange } from '../server/context.js';
import { refusalResponse } from '../admission/wire.js';
import { redirectConsoleToStderr } from './stdio-console.js';

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
  const session = new Session('stdio');
  session.transport = 'stdio';
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
  const exchange: Exchange = { send: write };
  let buffered = '';
  let registered = false;
  const listeners = new Set<Listener>();

  const onLine = (line: string) => {
    if (line.trim().length === 0) return;
    const c = decodeMessage(line);
    if (c.kind === 'invalid') {
      write(errorResponse(c.id, c.error));
      return;
    }
    if (c.kind === 'response') {
      server.handleResponse(c.message, session);
      return;
    }
    if (c.kind === 'notification') {
      server.handleNotification(c.message, session);
      return;
    }
    const request: JsonRpcRequest = c.message;
    const meta = request.params?._meta as Record<string, unknown> | undefined;
    const era = request.method === 'server/discover' || (meta !== undefined && META.protocolVersion in meta) ? '2026' : '2025';
    if (era === '2026' && request.method === 'subscriptions/listen') {
      const err = check2026Meta(request.params);
      if (err) return write(errorResponse(request.id, err));
      // Every listen shares the one stdout; each is told apart by its subscription id. The
      // client ends one with notifications/cancelled naming the listen request's id. A listen
      // runs no handler: it passes the admission stages only.
      const ac = new AbortController();
      server.admission.admit(new Incoming(request, session, undefined, era, exchange, ac)).then(() => {
        const listener = server.openListener(request, write);
        session.inflight.set(request.id, ac);
        listeners.add(listener);
        ac.signal.addEventListener('abort', () => {
          listeners.delete(listener);
          server.removeListener(listener);
          session.inflight.delete(request.id);
        });
      }, (refused: unknown) => write(refusalResponse(request.id, refused)));
      return;
    }
    if (session.inflight.has(request.id)) {
      write(errorResponse(request.id, new McpError(-32600, `Invalid Request: request id ${JSON.stringify(request.id)} is already in flight`)));
      return;
    }
    const ac = new RequestAbort();
    session.inflight.set(request.id, ac);
    void server.handleRequest(new Incoming(request, session, era === '2025' ? session : undefined, era, exchange, ac)).then(
      (response) => {
        session.inflight.delete(request.id);
        if (request.method === 'initialize' && 'result' in response && !registered) {
          registered = true;
          session.standalone = write;
          server.addSession(session);
        }
        if (era === '2025' && ac.cancelledByClient) return;
        try {
          write(response);
        } catch {
          // A result that cannot be serialised (a BigInt, a cycle): the caller gets an error.
          write(errorResponse(request.id, new McpError(-32603, 'Internal error: the result could not be serialised')));
        }
      },
      // handleRequest answers errors itself; this is the backstop that keeps a bug from becoming
      // an unhandled rejection (process exit) instead of one -32603 answer.
      (err: unknown) => {
        session.inflight.delete(request.id);
        write(errorResponse(request.id, err));
      },
    );
  };

  /** One line, with the same backstop: no input line can throw out of the 'data' listener. */
  const serveLine = (line: string) => {
    try {
      onLine(line);
    } catch (err) {
      write(errorResponse(null, err));
    }
  };

  // A multi-byte character split across two chunks is held back until its last byte arrives.
  const decoder = new StringDecoder('utf8');
  // After an over-long line is discarded, the rest of it (up to its newline) is skipped too: it is
  // not a line of its own (it used to be parsed as one, one more error per chunk of the same line).
  let skipping = false;
  const onData = (chunk: Buffer | string) => {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (skipping) {
      const end = buffered.indexOf('\n');
      buffered = end === -1 ? '' : buffered.slice(end + 1);
      if (end === -1) return;
      skipping = false;
    }
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      serveLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      nl = buffered.indexOf('\n');
    }
    if (buffered.length > maxLine) {
      buffered = '';
      skipping = true;
      write(errorResponse(null, new McpError(-32600, `Invalid Request: line exceeds ${maxLine} bytes and was discarded`)));
    }
  };

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    buffered += decoder.end();
    if (buffered.trim() && !skipping) serveLine(buffered);
    buffered = '';
    restoreConsole();
    for (const l of listeners) server.removeListener(l);
    listeners.clear();
    server.removeSession(session);
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
