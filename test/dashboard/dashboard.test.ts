/**
 * The operations dashboard in a real browser (issue 11): Chromium driven by playwright-core
 * against a real node (`andon serve` of the calculator example) on 127.0.0.1. Logs in with the
 * admin token, halts `tool:divide` from its row and checks an MCP client no longer lists it, sees a
 * halt from the CLI within a second, resumes from the page, watches the charts draw real traffic,
 * checks the security rules over plain HTTP (login page, 401, 403 without the CSRF token, CSP) and
 * finally drains the node from the page. No console error may occur on the way.
 *
 * With ANDON_DASHBOARD_SCREENSHOTS=1 (`npm run screenshots`) it also writes
 * docs/images/dashboard-{light,dark,phone}.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DIST, ROOT } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/run-cli.js';
import { OpsServer } from '../../src/admin/ops-server.js';
import { mountDashboard } from '../../src/dashboard/mount.js';
import type { ComponentInfo } from '../../src/runtime/supervisor.js';

const MODULE = resolve(DIST, 'examples/calculator.js');
const CHROMIUM = process.env.ANDON_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.ANDON_DASHBOARD_SCREENSHOTS === '1';
const fleet = nodeFleet(MODULE, 'andon-dashboard-');

/** POST/GET against the ops listener without following redirects. */
function raw(node: NodeProc, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${node.opsUrl}${path}`, { redirect: 'manual', ...init });
}

async function toolNames(mcp: Session2025): Promise<string[]> {
  const r = (await mcp.call('tools/list')) as { tools: Array<{ name: string }> };
  return r.tools.map((t) => t.name);
}

describe('operations dashboard in Chromium', () => {
  let node: NodeProc;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let mcp: Session2025;
  const problems: string[] = [];
  let navigations = 0;

  const watch = (p: Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    p.on('requestfailed', (r) => {
      // The event stream is cut when the node drains at the end; anything else is a problem.
      if (!r.url().endsWith('/dashboard/api/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
  };

  before(async () => {
    const [n, b] = await Promise.all([
      fleet.fresh().then((f) => f.start()),
      chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] }),
    ]);
    node = n;
    browser = b;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    watch(page);
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    mcp = new Session2025(node.url);
    await mcp.initialize();
  });
  after(async () => {
    await browser?.close();


  });

  test('without a session: the login page, 401 from the API and the event stream, 403 without the CSRF token', async () => {
    const root = await raw(node, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard');

    const loginPage = await raw(node, '/dashboard');
    assert.equal(loginPage.status, 200);
    const html = await loginPage.text();
    assert.match(html, /<form method="post" action="\/dashboard\/login"/);
    assert.doesNotMatch(html, /csrf-token|data-component/, 'no data before login');
    const csp = loginPage.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

    for (const path of ['/dashboard/api/state', '/dashboard/api/events']) {
      const r = await raw(node, path);
      assert.equal(r.status, 401, path);
      assert.equal(((await r.json()) as { code: string }).code, 'ANDON_DASHBOARD_LOGIN_REQUIRED');
    }
    // The admin bearer token is no way in: the dashboard API takes its session cookie only.
    assert.equal((await raw(node, '/dashboard/api/state', { headers: { authorization: `Bearer ${node.token()}` } })).status, 401);

    const wrong = await raw(node, '/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=not-the-token' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.match(await wrong.text(), /wrong admin token/);

    const res = await raw(node, '/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: node.token() }) });
    assert.equal(res.status, 303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP on loopback: no Secure flag');
    const cookie = setCookie.split(';')[0]!;

    const state = await raw(node, '/dashboard/api/state', { headers: { cookie } });
    assert.equal(state.status, 200);
    const body = (await state.json()) as { components: Array<{ id: string }> };
    assert.ok(body.components.some((c) => c.id === 'tool:divide'));

    const halt = (headers: Record<string, string>) => raw(node, '/dashboard/api/components/tool%3Adivide/halt', { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ reason: 'csrf probe' }) });
    const noToken = await halt({});
    assert.equal(noToken.status, 403);
    assert.equal(((await noToken.json()) as { code: string }).code, 'ANDON_DASHBOARD_CSRF');
    assert.equal((await halt({ 'x-csrf-token': 'forged' })).status, 403);
    assert.equal((await raw(node, '/dashboard/api/drain', { method: 'POST', headers: { cookie } })).status, 403);
    assert.equal((await raw(node, '/dashboard/logout', { method: 'POST', headers: { cookie } })).status, 403);
    const divide = (await node.admin('GET', '/admin/components/tool:divide')).body as { state: string };
    assert.equal(divide.state, 'running', 'nothing was halted by the refused requests');
  });

  test('log in through the form; the page paints (first paint reported; a ceiling of 2 s catches a page that blocks) and weighs under 200 KB', async (t) => {
    // Everything the login page and then the logged-in page load, cold (nothing cached yet).
    let bytes = 0;
    const sizes: Promise<void>[] = [];
    const onResponse = (r: import('playwright-core').Response) => {
      if (r.url().endsWith('/dashboard/api/events') || r.request().method() !== 'GET' || r.status() !== 200) return;
      sizes.push(r.body().then((b) => void (bytes += b.length + 400), () => undefined)); // + headers
    };
    page.on('response', onResponse);
    await page.goto(`${node.opsUrl}/`);
    await page.getByLabel('Admin token').fill(node.token());
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    page.off('response', onResponse);
    await Promise.all(sizes);
    assert.ok(await page.locator('tr[data-component="tool:divide"]').isVisible());
    // Every button has an accessible name (its text or aria-label).
    const unnamed = await page.locator('button').evaluateAll((bs) => bs.filter((b) => !(b.getAttribute('aria-label') ?? b.textContent ?? '').trim()).length);
    assert.equal(unnamed, 0);
    // The component tree: the node first, each tool under its server.
    const ids = await page.locator('#components tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-component')));
    assert.equal(ids[0], 'node');
    const server = ids.findIndex((id) => id?.startsWith('server:'));
    assert.deepEqual(ids.slice(server + 1, server + 5), ['tool:add', 'tool:subtract', 'tool:multiply', 'tool:divide']);
    assert.ok(ids.includes('transport:http') && ids.includes('store'));
    const paint = Number(await page.evaluate(`(() => { const p = performance.getEntriesByType('paint'); return (p.find((e) => e.name === 'first-contentful-paint') ?? p[0])?.startTime ?? -1; })()`));
    // Wall-clock on a shared CI machine is not a performance measurement (docs/dashboard.md has
    // the measured figures): this ceiling only catches a page that waits on something it should not.
    assert.ok(paint > 0 && paint < 2_000, `first paint ${paint} ms`);
    assert.ok(bytes > 0 && bytes < 200 * 1024, `transferred ${bytes} bytes`);
    t.diagnostic(`first contentful paint ${paint.toFixed(0)} ms, ${bytes} bytes transferred`);
  });

  test('halt tool:divide from its row with a reason: tools/list drops it and the row shows it without a reload', async () => {
    assert.ok((await toolNames(mcp)).includes('divide'));
    const before = navigations;
    const row = page.locator('tr[data-component="tool:divide"]');
    await row.getByRole('button', { name: 'Halt tool:divide' }).click();
    const dialog = page.getByRole('dialog', { name: /Halt tool:divide/ });
    await dialog.getByLabel(/Reason/).fill('wrong results, INC-7');
    await dialog.getByRole('button', { name: 'Halt', exact: true }).click();
    await page.waitForSelector('tr[data-component="tool:divide"][data-state="halted_manual"]', { timeout: 5_000 });
    const text = await row.innerText();
    assert.match(text, /wrong results, INC-7/);
    assert.match(text, /dashboard/, 'who halted it');
    assert.match(text, /s ago/, 'since when');
    assert.ok(await row.getByRole('button', { name: 'Resume tool:divide' }).isVisible());
    assert.equal(navigations, before, 'no reload');
    assert.ok(!(await toolNames(mcp)).includes('divide'), 'an MCP client no longer sees divide');
    const rec = (await node.admin('GET', '/admin/components/tool:divide')).body as { state: string; haltReason: string };
    assert.equal(rec.state, 'halted_manual');
    assert.equal(rec.haltReason, 'wrong results, INC-7');
  });

  test('resume from the page', async () => {
    await page.locator('tr[data-component="tool:divide"]').getByRole('button', { name: 'Resume tool:divide' }).click();
    await page.waitForSelector('tr[data-component="tool:divide"][data-state="running"]', { timeout: 5_000 });
    assert.ok((await toolNames(mcp)).includes('divide'));
  });

  test('a halt from the CLI shows on the page within 1 s; resume it from the page', async () => {
    const cli = await runCli(['halt', 'tool:divide', '--reason', 'halted from the cli', '--ops-url', node.opsUrl, '--token', node.token()]);
    assert.equal(cli.code, 0, cli.stderr);
    const t0 = Date.now();
    await page.waitForSelector('tr[data-component="tool:divide"][data-state="halted_manual"]', { timeout: 1_000 });
    const ms = Date.now() - t0;
    assert.ok(ms < 1_000, `${ms} ms`);
    assert.match(await page.locator('tr[data-component="tool:divide"]').innerText(), /halted from the cli[\s\S]*cli:/);
    await page.locator('tr[data-component="tool:divide"]').getByRole('button', { name: 'Resume tool:divide' }).click();
    await page.waitForSelector('tr[data-component="tool:divide"][data-state="running"]', { timeout: 5_000 });
  });

  test('the charts draw real traffic: requests/s, error rate, latency per tool', async () => {
    const calls = [];
    for (let i = 0; i < 30; i++) calls.push(mcp.request('tools/call', { name: 'divide', arguments: { a: i, b: i % 5 === 0 ? 0 : 2 } }));
    const replies = await Promise.all(calls);
    assert.ok(replies.every((r) => r.status === 200));
    const num = (sel: string, attr: string) => page.locator(sel).getAttribute(attr).then(Number);
    // Polled from here: the page's CSP (no eval) refuses Playwright's in-page waitForFunction.
    const waitAbove = async (sel: string, attr: string, min: number) => {
      for (let i = 0; i < 40; i++) {
        if ((await num(sel, attr)) > min) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${sel} ${attr} stayed <= ${min}`);
    };
    await waitAbove('#chart-rps', 'data-max', 0);
    await waitAbove('#chart-errors', 'data-max', 0);
    assert.ok((await num('#chart-rps', 'data-points')) > 0);
    assert.ok((await page.locator('#chart-rps path').getAttribute('d'))!.length > 2, 'a drawn line');
    await page.selectOption('#latency-key', 'divide');
    assert.ok((await num('#chart-latency', 'data-points')) >= 3, 'p50, p95 and p99 of divide');
    assert.equal(await page.locator('#chart-latency path').count(), 3);
    assert.ok((await num('#chart-memory', 'data-max')) > 1, 'memory in MB');
    // The gauges are live too.
    assert.match(await page.locator('#gauges').innerText(), /Heap[\s\S]*MB[\s\S]*RSS/);
  });

  test('light and dark, the theme toggle, and a phone-width layout without horizontal scrolling', async () => {
    const bg = () => page.evaluate('getComputedStyle(document.body).backgroundColor');
    const theme = () => page.evaluate('document.documentElement.dataset.theme ?? null');
    const light = await bg();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await bg();
    assert.notEqual(light, dark, 'prefers-color-scheme: dark changes the colours');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('button', { name: /^Theme:/ }).click(); // auto → light
    await page.getByRole('button', { name: /^Theme:/ }).click(); // light → dark
    assert.equal(await theme(), 'dark');
    assert.equal(await bg(), dark, 'the toggle overrides the system preference');
    if (SCREENSHOTS) {
      // A halted tool makes a more telling picture.
      await node.admin('POST', '/admin/components/tool:subtract/halt', { reason: 'wrong sign on negative input, INC-42', by: 'cli:alice' });
      await page.waitForSelector('tr[data-component="tool:subtract"][data-state="halted_manual"]');
      mkdirSync(resolve(ROOT, 'docs/images'), { recursive: true });
      await page.screenshot({ path: resolve(ROOT, 'docs/images/dashboard-dark.png'), fullPage: true });
    }
    await page.getByRole('button', { name: /^Theme:/ }).click(); // dark → auto
    assert.equal(await theme(), null);
    if (SCREENSHOTS) await page.screenshot({ path: resolve(ROOT, 'docs/images/dashboard-light.png'), fullPage: true });

    const phone = await context.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${node.opsUrl}/dashboard`);
    await phone.waitForSelector('body[data-ready="true"]');
    const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok(overflow <= 0, `no horizontal scroll at 390 px (overflow ${overflow} px)`);
    assert.ok(await phone.locator('tr[data-component="tool:divide"]').getByRole('button', { name: 'Halt tool:divide' }).isVisible());
    if (SCREENSHOTS) {
      await phone.screenshot({ path: resolve(ROOT, 'docs/images/dashboard-phone.png'), fullPage: true });
      await node.admin('POST', '/admin/components/tool:subtract/resume');
    }
    await phone.close();
  });

  test('drain from the page: asks first, then the node drains and exits 0', async () => {
    await page.getByRole('button', { name: 'Drain this node' }).click();
    const dialog = page.getByRole('dialog', { name: 'Drain this node?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(node.child.exitCode, null, 'cancel does nothing');
    await page.getByRole('button', { name: 'Drain this node' }).click();
    await dialog.getByRole('button', { name: 'Drain', exact: true }).click();
    let timer: NodeJS.Timeout | undefined;
    await page.waitForSelector('#drain:disabled', { timeout: 3_000 });
    const exit = await Promise.race([node.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 8_000)))]);
    clearTimeout(timer);
    assert.deepEqual(exit, { code: 0, signal: null });
    // Before the page's event stream retries (2 s) against a node that is gone.
    await page.close();
  });

  test('panels plug in through optional providers: drawn only when given, live, with countdowns and guardian thresholds', async () => {
    // An in-process ops listener with a stand-in runtime and three of the six providers.
    const ops = new OpsServer({ token: 'panel-token', port: 0 });
    let breaker = 'open';
    const components: ComponentInfo[] = [{ id: 'node', kind: 'node', state: 'running', restarts: 0, lastError: null, haltReason: null, critical: true }];
    const target = { drainPhase: 'running', components: () => components, halt: () => Promise.reject(new Error('x')), resume: () => Promise.resolve(), drain: () => Promise.reject(new Error('x')), exitAfterDrain: () => undefined };
    mountDashboard(ops, {
      target,
      name: 'panels',
      breakers: () => ({ rows: [{ id: 'tool:divide', state: breaker, failures: 7, retryAt: Date.now() + 30_000 }] }),
      guardian: () => ({ rows: [{ id: 'heap', state: 'ok' }], thresholds: { heapUsedBytes: 512 * 1024 * 1024 } }),
      recovery: () => {
        throw new Error('recovery provider failed');
      },
    }, 'panel-token');
    const url = await ops.listen();
    const ctx = await browser.newContext({ colorScheme: 'dark' });
    try {
      const p = await ctx.newPage();
      watch(p);
      await p.goto(`${url}/dashboard`);
      await p.getByLabel('Admin token').fill('panel-token');
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.waitForSelector('body[data-ready="true"]');
      const shown = await p.locator('[data-panel]').evaluateAll((els) => els.map((e) => e.getAttribute('data-panel')));
      assert.deepEqual(shown, ['breakers', 'guardian', 'recovery'], 'only the panels whose provider exists, in order');
      const row = p.locator('[data-panel="breakers"] tr[data-component="tool:divide"]');
      assert.match(await row.innerText(), /open[\s\S]*7[\s\S]*in (29|30) s/);
      assert.match(await p.locator('[data-panel="recovery"]').innerText(), /unavailable: recovery provider failed/);
      assert.match(await p.locator('#gauges').innerText(), /limit 536\.9M|limit 512/);
      breaker = 'closed';
      await p.waitForSelector('[data-panel="breakers"] tr[data-component="tool:divide"] .badge[data-state="closed"]', { timeout: 3_000 });
      await p.close();
    } finally {
      await ctx.close();
      await ops.close();
    }
  });

  test('no console errors, page errors or failed requests on the way', () => {
    assert.deepEqual(problems, []);
  });
});
