/**
 * The dashboard over plain HTTP on an in-process runtime: the live feed (snapshot, then a `state`
 * event when a component is halted through the admin API), the ring buffer fed by real tools/call
 * traffic, logout with the CSRF token, session expiry ending the event stream, and
 * `dashboard: false`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createServer, createRuntime, type Runtime } from '../../src/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Session2025 } from '../helpers/mcp-http.js';

const TOKEN = 'dashboard-test-token';
const runtimes: Runtime[] = [];
const dirs: string[] = [];
after(async () => {
  for (const rt of runtimes) await rt.drain();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runtime(dashboard?: { sessionTtlMs?: number } | false): Promise<Runtime> {
  const server = createServer({ name: 'live', version: '1' });
  server.tool('echo', { annotations: { readOnlyHint: true } }, ({ text }: { text?: string }) => text ?? '');
  const stateDir = await mkdtemp(join(tmpdir(), 'andon-dash-live-'));
  dirs.push(stateDir);
  const rt = createRuntime({ server, store: new MemoryStore(), stateDir, http: { port: 0 }, ops: { port: 0, ...(dashboard === undefined ? {} : { dashboard }) }, observability: false, signals: false, adminToken: TOKEN });
  await rt.start();
  runtimes.push(rt);
  return rt;
}

async function login(ops: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${ops}/dashboard/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}` });
  assert.equal(res.status, 303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${ops}/dashboard`, { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
  assert.ok(csrf, 'the logged-in page carries the CSRF token');
  return { cookie, csrf };
}

/** Reads SSE events from a streaming response. */
function events(res: Response) {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    /** The next event named `name` (others are skipped), or null when the stream ends first. */
    async next(name: string, ms = 3000): Promise<any> {
      const deadline = Date.now() + ms;
      for (;;) {
        let i: number;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev === name && data) return JSON.parse(data);
        }
        if (Date.now() > deadline) throw new Error(`no ${name} event within ${ms} ms`);
        const r = await reader.read();
        if (r.done) {
          ended = true;
          return null;
        }
        buf += dec.decode(r.value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

test('the live feed: a snapshot on connect, then a state event when the admin API halts a tool; the series counts real calls', async () => {
  const rt = await runtime();
  const ops = rt.ops!.url;
  const { cookie } = await login(ops);
  const res = await fetch(`${ops}/dashboard/api/events`, { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const feed = events(res);
  try {
    const snap = await feed.next('snapshot');
    assert.equal(snap.node.name, 'live');
    assert.equal(snap.node.phase, 'running');
    assert.ok(snap.components.some((c: { id: string; state: string }) => c.id === 'tool:echo' && c.state === 'running'));
    assert.equal(snap.alerts.enabled, false);
    // The runtime's own panels: breakers, rate limits and feature flags are on by default; the guardian is not (no `guardian` option).
    assert.deepEqual(Object.keys(snap.panels).sort(), ['breakers', 'flags', 'rateLimits', 'recovery']);
    assert.deepEqual(snap.panels.flags.data.rows, [], 'no flags defined');
    assert.ok(snap.resources.heapUsedBytes > 0 && snap.resources.rssBytes > 0);

    const t0 = Date.now();
    const halted = await fetch(`${ops}/admin/components/tool:echo/halt`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'from the admin API', by: 'cli:test' }) });
    assert.equal(halted.status, 200);
    let echo: any;
    while (!echo || echo.state !== 'halted_manual') echo = (await feed.next('state', 1000)).components.find((c: { id: string }) => c.id === 'tool:echo');
    assert.ok(Date.now() - t0 < 1000, 'pushed, not polled');
    assert.equal(echo.reason, 'from the admin API');
    assert.equal(echo.by, 'cli:test');
    assert.ok(Math.abs(echo.since - Date.now()) < 5000);
    await fetch(`${ops}/admin/components/tool:echo/resume`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });

    const mcp = new Session2025(rt.url!);
    await mcp.initialize();
    for (let i = 0; i < 5; i++) await mcp.call('tools/call', { name: 'echo', arguments: { text: 'x' } });
    // A tick already on its way while the calls ran may count only some of them: read ticks
    // (one a second) until one counts all five, for a few seconds.
    const count = (tk: { slots: Array<{ lat: Record<string, number[]> }> }) => tk.slots.reduce((n, s) => n + (s.lat.echo?.[0] ?? 0), 0);
    let tick = await feed.next('tick', 2500);
    for (let i = 0; i < 5 && count(tick) < 5; i++) tick = await feed.next('tick', 2500);
    const open = tick.slots[tick.slots.length - 1];
    assert.equal(count(tick), 5, 'five echo calls in the latency series');
    assert.ok(open.sessions >= 1);
  } finally {
    await feed.cancel();
  }
});

test('logout needs the CSRF token, ends the session and its streams', async () => {
  const rt = await runtime();
  const ops = rt.ops!.url;
  const { cookie, csrf } = await login(ops);
  const feed = events(await fetch(`${ops}/dashboard/api/events`, { headers: { cookie } }));
  await feed.next('snapshot');
  assert.equal((await fetch(`${ops}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } })).status, 403);
  const out = await fetch(`${ops}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal(await feed.next('never', 3000), null, 'the event stream ended');
  assert.equal((await fetch(`${ops}/dashboard/api/state`, { headers: { cookie } })).status, 401);
});

test('an idle session expires (dashboard.sessionTtlMs) and its event stream ends', async () => {
  const rt = await runtime({ sessionTtlMs: 300 });
  const ops = rt.ops!.url;
  const { cookie } = await login(ops);
  const feed = events(await fetch(`${ops}/dashboard/api/events`, { headers: { cookie } }));
  await feed.next('snapshot');
  assert.equal(await feed.next('never', 3000), null, 'ended by the tick once the session lapsed');
  assert.equal((await fetch(`${ops}/dashboard/api/state`, { headers: { cookie } })).status, 401);
});

test('dashboard: false serves no dashboard; the admin API stays', async () => {
  const rt = await runtime(false);
  const ops = rt.ops!.url;
  assert.equal((await fetch(`${ops}/dashboard`)).status, 404);
  assert.equal((await fetch(`${ops}/`, { redirect: 'manual' })).status, 404);
  assert.equal((await fetch(`${ops}/admin/components`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
});

test('the page files ship in the package: listed in package.json "files" and read from the path relative to the compiled module', async () => {
  const { ASSET_DIR, ASSET_TYPES, loadAssets } = await import('../../src/dashboard/assets.js');
  const { ROOT } = await import('../helpers/paths.js');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('dashboard'), 'package.json "files" lists dashboard/');
  assert.equal(ASSET_DIR, join(ROOT, 'dashboard') + '/');
  const { files, pages } = loadAssets();
  assert.deepEqual([...files.keys()].sort(), Object.keys(ASSET_TYPES).sort());
  assert.match(pages['index.html'], /\{\{CSRF\}\}/);
  assert.match(pages['login.html'], /\{\{ERROR\}\}/);
  // No inline script or style anywhere: the CSP would refuse it.
  for (const html of Object.values(pages)) {
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or event-handler attributes');
  }
  const js = readFileSync(join(ASSET_DIR, 'app.js'), 'utf8') + readFileSync(join(ASSET_DIR, 'charts.js'), 'utf8');
  assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, 'the page builds its DOM with textContent only');
});
