/**
 * Child process for the many-streams figure: creates N 2025 sessions subscribed to one resource,
 * then holds one GET SSE stream per session on raw sockets (lean: no HTTP client library on the
 * stream side), and records when each stream receives its first notifications/resources/updated.
 * Driven by its parent over IPC; it exits when told to or when the parent goes away.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createSessions, V2025 } from './lib/load-http.js';

const MARKER = 'notifications/resources/updated';

interface OpenCmd {
  cmd: 'open';
  port: number;
  path: string;
  n: number;
  uri: string;
  maxSeconds: number;
}

interface Stream {
  socket: Socket;
  ok: boolean;
  got: boolean;
  tail: string;
}

const streams: Stream[] = [];
let armed = false;
let received = 0;
let lastAt = 0;
let firstAt = 0;

function reply(m: Record<string, unknown>): void {
  process.send?.(m);
}

function openStream(port: number, path: string, sid: string): Promise<Stream> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const s: Stream = { socket, ok: false, got: false, tail: '' };
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve(s);
      }
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: ${V2025}\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      if (!s.ok) {
        if (chunk.startsWith('HTTP/1.1 200')) s.ok = true;
        settle();
      }
      if (armed && !s.got) {
        const text = s.tail + chunk;
        if (text.includes(MARKER)) {
          s.got = true;
          received++;
          const now = performance.timeOrigin + performance.now();
          if (received === 1) firstAt = now;
          lastAt = now;
          if (received === streams.length) reply({ event: 'all', received, firstAt, lastAt });
          return;
        }
        s.tail = chunk.slice(-40);
      }
    });
    socket.on('error', settle);
    socket.on('close', settle);
  });
}

async function open(c: OpenCmd): Promise<void> {
  const origin = `http://127.0.0.1:${c.port}`;
  const sessions = await createSessions(origin, c.path, c.n, 64, c.maxSeconds, c.uri);
  const t0 = performance.now();
  // Bounded concurrency of connects: the listen backlog is finite.
  let next = 0;
  const worker = async () => {
    while (next < sessions.ids.length) {
      const sid = sessions.ids[next++]!;
      streams.push(await openStream(c.port, c.path, sid));
    }
  };
  await Promise.all(Array.from({ length: 128 }, worker));
  const opened = streams.filter((s) => s.ok).length;
  reply({
    event: 'opened',
    sessions: sessions.created,
    sessionErrors: sessions.errors,
    firstError: sessions.firstError,
    sessionsPerSecond: sessions.perSecond,
    opened,
    openSeconds: (performance.now() - t0) / 1000,
  });
}

process.on('message', (raw: unknown) => {
  const m = raw as { cmd: string };
  switch (m.cmd) {
    case 'open':
      open(m as OpenCmd).catch((err: unknown) => reply({ event: 'error', error: String(err) }));
      return;
    case 'arm':
      // Streams that failed to open can never receive: leave them out of the count.
      for (let i = streams.length - 1; i >= 0; i--) if (!streams[i]!.ok) streams.splice(i, 1);
      for (const s of streams) {
        s.got = false;
        s.tail = '';
      }
      armed = true;
      received = 0;
      reply({ event: 'armed', streams: streams.length });
      return;
    case 'status':
      reply({ event: 'status', received, firstAt, lastAt, streams: streams.length });
      return;
    case 'close':
      for (const s of streams) s.socket.destroy();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
