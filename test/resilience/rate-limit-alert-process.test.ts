/**
 * "Rate limiting active" through a real process: a node with `sustainedAlertSec: 2` and a webhook
 * alert channel pointing at a receiver in this test; one session calls over its limit for about
 * 3 s → the receiver gets the warning, and after the flood stops the resolution of the same incident.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { waitFor } from '../helpers/wait.js';

const MODULE = resolve(DIST, 'test/runtime/fixtures/cord-server.js');
const { fresh } = nodeFleet(MODULE, 'andon-rates-alert-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  action: string;
  severity: string;
  title: string;
  incident?: string;
}

const received: Received[] = [];
let receiver: Server | undefined;
after(() => receiver?.close());

test('sustained throttling raises "Rate limiting active" on a real webhook and resolves it when the flood stops', async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Received);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

  const f = await fresh();
  const config = join(f.stateDir, 'andon.config.yaml');
  writeFileSync(config, ['rateLimits:', '  perClient:', '    toolCallsPerSec: 5', '  sustainedAlertSec: 2', 'alerts:', '  channels:', '    hook:', '      type: webhook', `      url: ${hookUrl}`, ''].join('\n'));
  // Webhooks are signed; the secret comes from the environment (never the file).
  const node = await f.start({ ANDON_CONFIG: config, ANDON_WEBHOOK_SECRET: 'rates-webhook-secret-1' });
  const s = new Session2025(node.url);
  await s.initialize();

  // Well over 5 calls per second for 3 s against 5/s: refusals in every second.
  let refused = 0;
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    const r = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
    if (r.status === 429) refused++;
    await sleep(20);
  }
  assert.ok(refused >= 5, `refused ${refused}`);
  await waitFor(() => received.some((r) => r.title === 'Rate limiting active'), 5000, 'the "Rate limiting active" alert');
  // The flood stopped: a whole second without a refusal resolves the incident.
  await waitFor(() => received.some((r) => r.action === 'resolve'), 5000, 'the resolution');
  const lines = received.map((r) => `${r.action} ${r.severity} ${r.title} ${r.incident}`);
  assert.deepEqual(lines, ['trigger warning Rate limiting active rate-limits:sustained', 'resolve warning Rate limiting no longer active rate-limits:sustained']);
  const alerts = await node.admin('GET', '/admin/alerts?limit=10');
  assert.equal(alerts.status, 200);
  assert.ok(alerts.body.alerts.some((a: { title: string }) => a.title === 'Rate limiting active'));
  node.child.kill('SIGTERM');
  await node.exited;
});
