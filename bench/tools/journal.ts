/**
 * Cost of the exactly-once journal: tools/call through a real runtime (FileStore with fsync,
 * HTTP on 127.0.0.1) for a read-only tool (not journaled), an idempotent one (outcome recorded
 * before the response) and a side-effecting one (write-ahead record + outcome), and with the
 * journal off. Reports wall µs per call and group-commit batch sizes at each concurrency. Rate
 * limits are off (the default 50 tools/call per second per client would answer most calls 429 and
 * the bench would time refusals); every answer that is not a tool result is counted as refused.
 * `node dist/bench/tools/journal.js [calls=2000] [concurrency=1,16,64]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRuntime, createServer } from '../../src/index.js';

const calls = Number(process.argv[2] ?? 2000);
const levels = (process.argv[3] ?? '1,16,64').split(',').map(Number);

async function post(url: string, sid: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify(body) });
}

async function measure(journal: boolean, tool: string, c: number): Promise<{ us: number; writes: number; commits: number; maxBatch: number; refused: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'andon-journal-bench-'));
  const server = createServer({ name: 'jb', version: '1' });
  server.tool('read', { annotations: { readOnlyHint: true } }, () => 'ok');
  server.tool('idem', { idempotent: true }, () => 'ok');
  server.tool('write', () => 'ok');
  const rt = createRuntime({ server, stateDir: dir, http: { port: 0, responseMode: 'json' }, ops: false, observability: false, signals: false, adminToken: 'x', rateLimits: false, journal: journal ? {} : false });
  await rt.start();
  const url = rt.url!;
  const init = await post(url, '', { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } } });
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  let next = 1;
  let refused = 0;
  const worker = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await post(url, sid, { jsonrpc: '2.0', id: next++, method: 'tools/call', params: { name: tool, arguments: {} } });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('"result"')) refused++;
    }
  };
  await Promise.all(Array.from({ length: c }, () => worker(Math.ceil(100 / c)))); // warm-up
  refused = 0;
  const before = { ...(rt.journal?.stats ?? { writes: 0, commits: 0, maxBatch: 0 }) };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, () => worker(Math.ceil(calls / c))));
  const us = ((performance.now() - t0) * 1000) / (Math.ceil(calls / c) * c);
  const s = rt.journal?.stats ?? { writes: 0, commits: 0, maxBatch: 0 };
  await rt.drain();
  rmSync(dir, { recursive: true, force: true });
  return { us, writes: s.writes - before.writes, commits: s.commits - before.commits, maxBatch: s.maxBatch, refused };
}

console.log(`| concurrency | tool | journal | µs/call (wall) | store writes | calls per write (avg / max) | refused |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const c of levels) {
  for (const [tool, journal] of [['write', false], ['read', true], ['idem', true], ['write', true]] as const) {
    const r = await measure(journal, tool, c);
    const batch = r.writes ? `${(r.commits / r.writes).toFixed(1)} / ${r.maxBatch}` : '-';
    console.log(`| ${c} | ${tool === 'read' ? 'read-only' : tool === 'idem' ? 'idempotent' : 'side-effecting'} | ${journal ? 'on' : 'off'} | ${r.us.toFixed(0)} | ${r.writes} | ${batch} | ${r.refused} |`);
  }
}
