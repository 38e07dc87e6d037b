/**
 * Issue 10's definition of done for connection limits, through a real process: `andon serve` with
 * `connections.max: 100` from its configuration file, 1,000 raw sockets from this process. The
 * first 100 are admitted and keep working (real MCP requests on them afterwards); the other 900
 * get a raw 503 with Retry-After and are closed; the metrics count them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { initialize, rawSocket, untilClosed } from './limits-helpers.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-limits-');

test('1,000 sockets against connections.max 100: the rest get 503 and are closed, the first 100 keep working', async () => {
  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.json');
  await writeFile(config, JSON.stringify({ connections: { max: 100, maxPerClient: 1000 } }));
  const node = await f.start({ ANDON_CONFIG: config });
  const port = f.port;
  const first: Socket[] = [];
  const rest: Socket[] = [];
  try {
    for (let i = 0; i < 100; i++) first.push(await rawSocket(port));
    // Let the node accept the first 100 before the flood.
    await new Promise((r) => setTimeout(r, 300));
    const replies: Array<Promise<{ text: string; closed: boolean }>> = [];
    for (let batch = 0; batch < 3; batch++) {
      const opened = await Promise.all(Array.from({ length: 300 }, () => rawSocket(port)));
      for (const s of opened) {
        rest.push(s);
        replies.push(untilClosed(s, 8000));
      }
    }
    const got = await Promise.all(replies);
    assert.equal(got.filter((g) => g.closed).length, 900, 'every socket beyond the cap is closed');
    const refused = got.filter((g) => /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 5\r\n/.test(g.text) && g.text.includes('ANDON_TOO_MANY_CONNECTIONS'));
    assert.equal(refused.length, 900, 'each got a raw 503 with Retry-After naming the limit');
    assert.match(refused[0]!.text, /connections\.max = 100/);

    // The admitted sockets still serve MCP: initialize on five of them.
    const body = JSON.stringify(initialize());
    for (const s of [first[0]!, first[25]!, first[50]!, first[75]!, first[99]!]) {
      const reply = untilClosed(s, 5000);
      // write, not end: a half-closed request is aborted by node:http before a slow answer.
      s.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const r = await reply;
      assert.match(r.text, /^HTTP\/1\.1 200 OK/);
      assert.match(r.text, /mcp-session-id: /i);
      assert.match(r.text, /"serverInfo":\{"name":"cord"/);
    }
    // Freed slots admit new connections again.
    await new Promise((r) => setTimeout(r, 200));
    const again = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
    assert.equal(again.status, 200);
    await again.text();

    const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
    assert.match(metrics, /^andon_connections_refused_total\{reason="max"\} 900$/m);
    const open = Number(/^andon_connections_open (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(open >= 95 && open <= 100, `andon_connections_open ${open}`);
  } finally {
    for (const s of [...first, ...rest]) s.destroy();
  }
});
