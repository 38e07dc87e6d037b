/**
 * A deterministic in-process microbenchmark of the JavaScript cost of one tools/call through the
 * Streamable HTTP handler, with mock request/response objects (no sockets, no syscalls). The
 * machine's drift hardly moves it, so it is the tool for judging a hot-path edit before the real
 * bench. `node dist/bench/tools/micro.js [json|sse|2026|bare] [requests]`
 * `ANDON_BENCH_STAGES=1` also installs the runtime's built-in node stage (idle), so every built-in
 * admission stage is on the path, as under `andon start`; `ANDON_BENCH_RATE=1` adds the rate-limit stage.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, nodeStage, StreamableHttpHandler } from '../../src/index.js';
import { RateLimits } from '../../src/resilience/rate-limits.js';

const mode = process.argv[2] ?? 'json';
const total = Number(process.argv[3] ?? 300_000);

class MockRes extends EventEmitter {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  statusCode = 0;
  bytes = 0;
  socket = null;
  req: MockReq | undefined;
  constructor(private readonly done: () => void) {
    super();
  }
  writeHead(status: number, _headers?: unknown): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  flushHeaders(): void {}
  cork(): void {}
  uncork(): void {}
  write(chunk: string): boolean {
    this.bytes += chunk.length;
    return true;
  }
  end(body?: string, cb?: () => void): this {
    if (typeof body === 'string') this.bytes += body.length;
    this.writableEnded = true;
    this.emit('finish');
    this.emit('close');
    this.done();
    cb?.();
    return this;
  }
}

class MockReq extends EventEmitter {
  url = '/mcp';
  method = 'POST';
  socket = { destroy() {} };
  constructor(readonly headers: Record<string, string>) {
    super();
  }
  pause(): this {
    return this;
  }
}

const server = createServer({ name: 'micro', version: '0' });
server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }: { text: string }) => text);
if (process.env.ANDON_BENCH_STAGES === '1') server.use(nodeStage({ drainPhase: () => 'running', nodeHalt: () => undefined }));
// ANDON_BENCH_RATE=1: the rate-limit stage with its defaults' shape, limits high enough that nothing is refused.
if (process.env.ANDON_BENCH_RATE === '1') new RateLimits({ perClient: { messagesPerSec: 1e12, toolCallsPerSec: 1e12 }, global: { messagesPerSec: 1e12 } }).install(server.admission);
const handler = new StreamableHttpHandler(server, { responseMode: mode === 'sse' ? 'sse' : 'auto' });
const base = { host: '127.0.0.1:3000', 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function once(headers: Record<string, string>, body: string): Promise<MockRes> {
  return new Promise((resolve) => {
    const res: MockRes = new MockRes(() => resolve(res));
    const req = new MockReq(headers);
    res.req = req;
    if (mode === 'bare') {
      // The JS floor: what the bare responder does per request.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const msg = JSON.parse(chunks[0]!.toString()) as { id: number; params?: { arguments?: { text: string } } };
        const out = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: msg.params?.arguments?.text }] } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      });
    } else {
      handler.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    }
    req.emit('data', Buffer.from(body));
    req.emit('end');
  });
}

let headers: Record<string, string> = { ...base };
if (mode === 'json' || mode === 'sse' || mode === 'bare') {
  const r = await once({ ...base }, '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"m","version":"1"}}}');
  if (r.statusCode !== 200) throw new Error(`initialize ${r.statusCode}`);
  const sid = [...handler.sessions.keys()][0] ?? 'bare';
  headers = { ...base, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
} else {
  headers = { ...base, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
}
const meta = mode === '2026' ? ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}' : '';
const bodyOf = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, andon"}${meta}}}`;

/** CPU time (not wall time: other processes on the machine hardly move it) per request, ns. */
async function run(n: number): Promise<number> {
  const c0 = process.cpuUsage();
  let id = 1;
  for (let i = 0; i < n; i += 64) {
    const batch: Promise<MockRes>[] = [];
    for (let j = 0; j < 64; j++) batch.push(once(headers, bodyOf(id++)));
    const out = await Promise.all(batch);
    if (out[0]!.statusCode !== 200) throw new Error(`status ${out[0]!.statusCode}`);
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1e3) / n;
}

await run(50_000);
if (process.env.ALLOC) {
  // Allocation sites (including objects already collected): where the young-generation churn comes from.
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) => new Promise<T>((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r as T))));
  await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const n = 50_000;
  await run(n);
  type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
  const { profile } = await post<{ profile: { head: Node } }>('HeapProfiler.stopSampling');
  const sites = new Map<string, number>();
  const walk = (node: Node) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  let total = 0;
  for (const v of sites.values()) total += v;
  console.log(`~${(total / n).toFixed(0)} bytes allocated per request; top sites (bytes/request):`);
  for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / n).toFixed(0).padStart(6)}  ${k}`);
  process.exit(0);
}
const runs: number[] = [];
for (let i = 0; i < 5; i++) runs.push(await run(total / 5));
runs.sort((a, b) => a - b);
console.log(`${mode}: ${runs[0]!.toFixed(0)} ns CPU/request (min of 5; median ${runs[2]!.toFixed(0)}, max ${runs[4]!.toFixed(0)})`);
await handler.close();
process.exit(0);
