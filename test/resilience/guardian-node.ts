/**
 * Shared parts of the guardian process tests: a real webhook receiver, a node of the memory
 * fixture started with `--max-old-space-size=128` and a guardian configuration, and polling helpers.
 *
 * Thresholds are lowered for the tests (degrade 50 %, hard 70 % of the 128 MB old generation):
 * V8 aborts with "Ineffective mark-compacts near heap limit" once the old generation is above
 * 80 % of its limit and collection stops keeping up (measured: an abort at 107.5 of 128 MB), so
 * a test that must see the guardian act first keeps its hard limit under 80 %. Event-loop delay
 * counts only from 60 s, so a GC pause on a loaded machine cannot be what degrades the node here.
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeFleet, freePort, type NodeProc } from '../helpers/node-process.js';
import { ROOT } from '../helpers/paths.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReceivedAlert {
  action: string;
  severity: string;
  title: string;
  context: Record<string, unknown>;
}

/** A real webhook receiver: every alert body it is sent, in order. */
export async function receiver(): Promise<{ url: string; got: ReceivedAlert[] }> {
  const got: ReceivedAlert[] = [];
  const srv = createHttpServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body) as ReceivedAlert);
      res.writeHead(200).end('ok');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  after(() => {
    srv.closeAllConnections();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return { url: `http://127.0.0.1:${port}/hook`, got };
}

/** Polls `f` every 50 ms until it returns a value (not undefined/false); fails after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** GET /admin/guardian. */
export async function guardianOf(n: NodeProc): Promise<{ mode: string; pressure: number; reason: string | null; ratios: Record<string, number> }> {
  const r = await n.admin('GET', '/admin/guardian');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** A fleet of memory-fixture nodes, and `fresh()` with the guardian config and the webhook wired. */
export function guardianFleet(prefix: string) {
  const fleet = nodeFleet(join(ROOT, 'dist/test/resilience/fixtures/memory-server.js'), prefix);
  return async (hookUrl: string) => {
    const n = await fleet.fresh({ NODE_OPTIONS: '--max-old-space-size=128', ANDON_WEBHOOK_SECRET: 'guardian-test-secret' });
    const config = join(n.stateDir, 'andon.config.json');
    await writeFile(
      config,
      JSON.stringify({
        guardian: { intervalMs: 100, warning: 0.45, degrade: 0.5, hard: 0.7, recover: 0.4, recoverSamples: 2, eventLoopDelayMs: 60_000 },
        alerts: { channels: { hook: { type: 'webhook', url: hookUrl } }, retry: { attempts: 2, baseMs: 100, maxMs: 200 } },
      }),
    );
    return { ...n, config, start: (extra: Record<string, string> = {}) => n.start({ ANDON_CONFIG: config, ...extra }) };
  };
}
