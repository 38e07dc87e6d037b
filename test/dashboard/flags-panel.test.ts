/**
 * The dashboard's flags panel in a real browser (issue 12: flags and rollbacks from the dashboard):
 * Chromium against a real node (`andon serve` of the flag fixture, `new-search` at 0 % from the
 * config file). Sets the flag to 100 % from the page and an MCP client sees the gated tool;
 * disables it and the tool is hidden again; the audit names `dashboard`; a rollout started through
 * the admin API shows a Roll back button, rolled back with a reason from the page; bad input is a
 * 400 shown on the page; the action routes refuse a request without the CSRF token. No console
 * error may occur on the way.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { Session2025 } from '../helpers/mcp-http.js';

const MODULE = resolve(DIST, 'test/flags/fixtures/flag-server.js');
const CHROMIUM = process.env.ANDON_CHROMIUM ?? '/usr/bin/chromium';
const fleet = nodeFleet(MODULE, 'andon-dashflags-');

async function toolNames(mcp: Session2025): Promise<string[]> {
  const r = (await mcp.call('tools/list')) as { tools: Array<{ name: string }> };
  return r.tools.map((t) => t.name);
}

describe('the flags panel of the dashboard in Chromium', () => {
  let node: NodeProc;
  let browser: Browser;
  let page: Page;
  let mcp: Session2025;
  const problems: string[] = [];
  const row = () => page.locator('[data-panel="flags"] tr[data-flag="new-search"]');
  const flag = async () => (await node.admin('GET', '/admin/flags/new-search')).body as { enabled: boolean; percent: number; kind: string };

  before(async () => {
    const f = await fleet.fresh();
    const config = join(f.stateDir, 'andon.config.json');
    await writeFile(config, JSON.stringify({ flags: { 'new-search': { percent: 0 } } }));
    const [n, b] = await Promise.all([
      f.start({ ANDON_CONFIG: config }),
      chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] }),
    ]);
    node = n;
    browser = b;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => {
      // The page's own 400 answers are logged by Chromium as failed resources; they are expected here.
      if ((m.type() === 'error' || m.type() === 'warning') && !/status of 400/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    mcp = new Session2025(node.url);
    await mcp.initialize();
  });
  after(async () => {
    await browser?.close();
  });

  test('log in: the flags panel lists new-search at 0 % with named controls', async () => {
    await page.goto(`${node.opsUrl}/dashboard`);
    await page.getByLabel('Admin token').fill(node.token());
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    await row().waitFor({ timeout: 3_000 });
    assert.equal(await row().getAttribute('data-component'), 'new-search');
    assert.ok(await row().getByRole('button', { name: 'Disable new-search' }).isVisible(), 'a percentage flag at 0 % is enabled');
    assert.ok(await row().getByRole('spinbutton', { name: 'Percent for new-search' }).isVisible());
    assert.equal(await row().getByRole('button', { name: 'Roll back new-search' }).count(), 0, 'no rollout runs');
    assert.ok(!(await toolNames(mcp)).includes('new-search'));
  });

  test('set 100 % from the page: an MCP client sees the gated tool; disable: hidden again; the audit says dashboard', async () => {
    await row().getByRole('spinbutton', { name: 'Percent for new-search' }).fill('100');
    await row().getByRole('button', { name: 'Set percent of new-search' }).click();
    await page.waitForSelector('[data-panel="flags"] tr[data-flag="new-search"] td.num >> text=100', { timeout: 3_000 });
    assert.equal((await flag()).percent, 100);
    assert.ok((await toolNames(mcp)).includes('new-search'), 'the gated tool is listed at 100 %');

    await row().getByRole('button', { name: 'Disable new-search' }).click();
    await page.waitForSelector('[data-panel="flags"] tr[data-flag="new-search"][data-state="disabled"]', { timeout: 3_000 });
    assert.equal((await flag()).enabled, false);
    assert.ok(!(await toolNames(mcp)).includes('new-search'), 'hidden again');

    await row().getByRole('button', { name: 'Enable new-search' }).click();
    await page.waitForSelector('[data-panel="flags"] tr[data-flag="new-search"][data-state="enabled"]', { timeout: 3_000 });
    assert.ok((await toolNames(mcp)).includes('new-search'));

    const audit = (await node.admin('GET', '/admin/flags/audit?flag=new-search')).body as { records: Array<{ by: string; to: { enabled: boolean; percent: number } | null }> };
    const mine = audit.records.filter((r) => r.by === 'dashboard');
    assert.deepEqual(mine.map((r) => [r.to?.enabled, r.to?.percent]), [[true, 100], [false, 100], [true, 100]]);
  });

  test('bad input is a 400 with its message on the page', async () => {
    await row().getByRole('spinbutton', { name: 'Percent for new-search' }).fill('150');
    await row().getByRole('button', { name: 'Set percent of new-search' }).click();
    await page.waitForSelector('#notice[data-kind="error"]:has-text("a number from 0 to 100")', { timeout: 3_000 });
    assert.equal((await flag()).percent, 100, 'unchanged');
    // An unknown flag (no row on the page: through the page's own session and CSRF token).
    const unknown = await page.evaluate(`fetch('/dashboard/api/flags/no-such-flag/enable', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': document.querySelector('meta[name="csrf-token"]').content }, body: '{}' }).then(async (r) => [r.status, (await r.json()).error])`) as [number, string];
    assert.equal(unknown[0], 400);
    assert.match(unknown[1], /unknown feature flag "no-such-flag"/);
    assert.equal((await node.admin('GET', '/admin/flags/no-such-flag')).status, 404, 'not created');
  });

  test('a rollout started through the admin API: Roll back with a reason from the page', async () => {
    const started = await node.admin('POST', '/admin/rollouts/new-search', { phases: [10, 50, 100], by: 'test' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const button = row().getByRole('button', { name: 'Roll back new-search' });
    await button.waitFor({ timeout: 3_000 });
    await button.click();
    const dialog = page.getByRole('dialog', { name: /Roll back new-search/ });
    await dialog.getByLabel(/Reason/).fill('errors up after phase 1, INC-9');
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await page.waitForSelector('[data-panel="flags"] tr[data-flag="new-search"][data-state="disabled"]', { timeout: 3_000 });
    assert.equal(await row().getByRole('button', { name: 'Roll back new-search' }).count(), 0);
    const r = (await node.admin('GET', '/admin/rollouts/new-search')).body as { state: string; rollbackReason: string };
    assert.equal(r.state, 'rolled_back');
    assert.equal(r.rollbackReason, 'errors up after phase 1, INC-9');
    assert.equal((await flag()).enabled, false, 'the flag is off');
    assert.ok(!(await toolNames(mcp)).includes('new-search'));
    const audit = (await node.admin('GET', '/admin/flags/audit?flag=new-search')).body as { records: Array<{ by: string; reason?: string }> };
    assert.deepEqual(audit.records.at(-1), { ...audit.records.at(-1), by: 'dashboard', reason: 'errors up after phase 1, INC-9' });
  });

  test('the action routes refuse a request without the CSRF token (403) or a session (401)', async () => {
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const paths = ['/dashboard/api/flags/new-search/enable', '/dashboard/api/flags/new-search/disable', '/dashboard/api/flags/new-search/percent', '/dashboard/api/rollouts/new-search/rollback'];
    for (const path of paths) {
      const body = JSON.stringify({ percent: 100, reason: 'csrf probe' });
      const noCsrf = await fetch(`${node.opsUrl}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body });
      assert.equal(noCsrf.status, 403, path);
      assert.equal(((await noCsrf.json()) as { code: string }).code, 'ANDON_DASHBOARD_CSRF');
      const bearer = await fetch(`${node.opsUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${node.token()}`, 'content-type': 'application/json' }, body });
      assert.equal(bearer.status, 401, `${path}: the admin token is no way in`);
    }
    assert.equal((await flag()).enabled, false, 'nothing changed');
  });

  test('no console errors or page errors on the way', () => {
    assert.deepEqual(problems, []);
  });
});
