/**
 * Feature flags through a real node (`andon serve` as a child process, real HTTP, the real CLI):
 * a flag at 50 % (from the config file) shows its gated tool to 40–60 % of 200 distinct 2025
 * sessions, the same answer every time for the same session; `ctx.flag` and the OpenFeature
 * provider agree with the list; a call, get or read of a gated entry from outside the cohort is
 * refused like an unknown one (ANDON_FLAG_DISABLED); targeting rules on the client's name and
 * version; raising the flag to 100 % through the CLI sends `notifications/tools/list_changed` to
 * exactly the newly included sessions' GET streams (and to a 2026 listener); the change is audited, counted in metrics and
 * alerted to a real webhook; `andon flags list --json`; the admin API refuses malformed flags.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { nodeFleet, type NodeProc } from '../helpers/node-process.js';
import { runCli } from '../helpers/run-cli.js';
import { V26, meta26, post26 } from '../helpers/mcp-http.js';

const MODULE = resolve(DIST, 'test/flags/fixtures/flag-server.js');
const fleet = nodeFleet(MODULE, 'andon-flags-');
const VERSION = '2025-11-25';

let node: NodeProc;
let hook: Server;
const alerts: Array<{ title?: string; severity?: string; context?: Record<string, unknown> }> = [];

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const a = JSON.parse(body) as { alert?: Record<string, unknown> } & Record<string, unknown>;
        alerts.push((a.alert ?? a) as { title?: string });
      } catch {
        alerts.push({ title: `unparsable: ${body.slice(0, 80)}` });
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const f = await fleet.fresh({ ANDON_WEBHOOK_SECRET: 'test-secret' });
  const config = join(f.stateDir, 'andon.config.json');
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  await writeFile(
    config,
    JSON.stringify({
      flags: { 'new-search': { percent: 50 }, beta: { rules: [{ clientName: 'claude-desktop', minVersion: '1.2.0' }, { action: 'exclude', clientName: 'other' }], percent: 0 } },
      alerts: { channels: { hook: { type: 'webhook', url: hookUrl } }, routes: { critical: ['hook'], warning: ['hook'], info: ['hook'] }, retry: { attempts: 1 } },
    }),
  );
  node = await f.start({ ANDON_CONFIG: config });
});

after(async () => {
  await new Promise<void>((r) => hook.close(() => r()));
});

let nextId = 1;
async function rpc(sid: string, method: string, params?: Record<string, unknown>): Promise<any> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) }),
  });
  const text = await res.text();
  const json = text.startsWith('{') ? text : text.split('\n').find((l) => l.startsWith('data: {'))!.slice(6);
  return JSON.parse(json);
}

async function open(clientInfo = { name: 'raw-test', version: '1.0.0' }): Promise<string> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo } }),
  });
  await res.text();
  const sid = res.headers.get('mcp-session-id');
  assert.ok(sid, `initialize answered ${res.status}`);
  const n = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': VERSION },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await n.text();
  return sid;
}

async function tools(sid: string): Promise<string[]> {
  const r = await rpc(sid, 'tools/list');
  assert.ok(r.result, JSON.stringify(r));
  return (r.result.tools as Array<{ name: string }>).map((t) => t.name);
}

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await fn(items[k]!);
      }
    }),
  );
  return out;
}

/** A session's GET stream: the notifications it received. */
async function stream(sid: string | null): Promise<{ messages: Array<{ method?: string }>; close(): void }> {
  const ac = new AbortController();
  const res =
    sid !== null
      ? await fetch(node.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': VERSION }, signal: ac.signal })
      : // A 2026 subscriptions/listen stream.
        await fetch(node.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V26, 'mcp-method': 'subscriptions/listen' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 'listen-1', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta26() } }),
          signal: ac.signal,
        });
  assert.equal(res.status, 200);
  const messages: Array<{ method?: string }> = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = ev
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          if (data.startsWith('{')) messages.push(JSON.parse(data) as { method?: string });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { messages, close: () => ac.abort() };
}

const sessions: string[] = [];
const shown: boolean[] = [];

test('a flag at 50 % shows its gated tool to 40–60 % of 200 sessions, the same answer every time; ctx.flag and OpenFeature agree', async (t) => {
  const t0 = Date.now();
  sessions.push(...(await pool(Array.from({ length: 200 }, (_, i) => i), 16, () => open())));
  const first = await pool(sessions, 16, async (sid) => (await tools(sid)).includes('new-search'));
  const second = await pool(sessions, 16, async (sid) => (await tools(sid)).includes('new-search'));
  shown.push(...first);
  const n = first.filter(Boolean).length;
  assert.ok(n >= 80 && n <= 120, `new-search shown to ${n} of 200`);
  assert.deepEqual(second, first, 'the same session got a different answer');
  // Ungated tools are shown to everyone; `beta` (rules only) to nobody of these (raw-test 1.0.0).
  const all = await tools(sessions[0]!);
  assert.ok(all.includes('search') && all.includes('check') && !all.includes('beta-tool'), all.join(','));
  // ctx.flag and the OpenFeature provider give the list's answer, keyed on the session.
  for (const i of [0, 1, 2, 3, 4, 5]) {
    const r = await rpc(sessions[i]!, 'tools/call', { name: 'check', arguments: {} });
    const c = JSON.parse(r.result.content[0].text);
    assert.equal(c.flag, shown[i], `ctx.flag for session ${i}`);
    assert.equal(c.openfeature, shown[i], `OpenFeature for session ${i}`);
    assert.equal(c.reason, 'SPLIT');
    assert.equal(c.key, `session:${sessions[i]!}`);
    assert.deepEqual(c.missing, { value: true, errorCode: 'FLAG_NOT_FOUND' });
  }
  // 2026 (stateless HTTP): keyed on the remote address, the list and ctx.flag agree.
  const l26 = await post26(node.url, 'tools/list');
  const has = (l26.response!.result!.tools as Array<{ name: string }>).some((x) => x.name === 'new-search');
  const c26 = JSON.parse(((await post26(node.url, 'tools/call', { name: 'check', arguments: {} })).response!.result!.content as Array<{ text: string }>)[0]!.text);
  assert.equal(c26.flag, has);
  assert.match(c26.key, /^ip:/);
  t.diagnostic(`200 sessions opened and listed twice in ${Date.now() - t0} ms; shown to ${n}`);
});

test('a call, get, read or completion of a gated entry from outside the cohort is refused like an unknown one; inside it runs', async () => {
  const outside = sessions[shown.indexOf(false)]!;
  const inside = sessions[shown.indexOf(true)]!;
  const r = await rpc(outside, 'tools/call', { name: 'new-search', arguments: {} });
  assert.equal(r.error?.code, -32602, JSON.stringify(r));
  assert.equal(r.error.message, 'Unknown tool: new-search');
  assert.deepEqual(r.error.data, { code: 'ANDON_FLAG_DISABLED', flag: 'new-search' });
  const p = await rpc(outside, 'prompts/get', { name: 'new-prompt' });
  assert.equal(p.error?.data?.code, 'ANDON_FLAG_DISABLED');
  const comp = await rpc(outside, 'completion/complete', { ref: { type: 'ref/prompt', name: 'new-prompt' }, argument: { name: 'q', value: 'x' } });
  assert.deepEqual([comp.error?.message, comp.error?.data?.code], ['Unknown prompt: new-prompt', 'ANDON_FLAG_DISABLED']);
  const compT = await rpc(outside, 'completion/complete', { ref: { type: 'ref/resource', uri: 'items://{id}' }, argument: { name: 'id', value: '1' } });
  assert.equal(compT.error?.data?.code, 'ANDON_FLAG_DISABLED');
  assert.deepEqual((await rpc(inside, 'completion/complete', { ref: { type: 'ref/prompt', name: 'new-prompt' }, argument: { name: 'q', value: 'x' } })).result.completion.values, []);
  const res = await rpc(outside, 'resources/read', { uri: 'mem://new' });
  assert.equal(res.error?.data?.code, 'ANDON_FLAG_DISABLED');
  assert.deepEqual((await rpc(outside, 'prompts/list')).result.prompts, []);
  assert.deepEqual((await rpc(outside, 'resources/list')).result.resources, []);
  assert.deepEqual((await rpc(outside, 'resources/templates/list')).result.resourceTemplates, []);
  assert.equal((await rpc(outside, 'resources/read', { uri: 'items://7' })).error?.data?.code, 'ANDON_FLAG_DISABLED');
  assert.deepEqual(
    (await rpc(inside, 'resources/list')).result.resources.map((r: { uri: string }) => r.uri),
    ['mem://new', 'items://1'],
  );
  assert.equal((await rpc(inside, 'resources/templates/list')).result.resourceTemplates.length, 1);
  assert.equal((await rpc(inside, 'resources/read', { uri: 'items://7' })).result.contents[0].text, 'item items://7');
  assert.equal((await rpc(inside, 'tools/call', { name: 'new-search', arguments: {} })).result.content[0].text, 'new results');
  assert.equal((await rpc(inside, 'prompts/list')).result.prompts.length, 1);
  assert.equal((await rpc(inside, 'resources/read', { uri: 'mem://new' })).result.contents[0].text, 'new resource');
});

test('targeting rules on the client name and version', async () => {
  const newer = await open({ name: 'claude-desktop', version: '1.10.0' });
  const older = await open({ name: 'claude-desktop', version: '1.1.9' });
  const other = await open({ name: 'other', version: '9.0.0' });
  assert.ok((await tools(newer)).includes('beta-tool'));
  assert.ok(!(await tools(older)).includes('beta-tool'));
  assert.ok(!(await tools(other)).includes('beta-tool'));
  assert.equal((await rpc(newer, 'tools/call', { name: 'beta-tool', arguments: {} })).result.content[0].text, 'beta');
  assert.equal((await rpc(older, 'tools/call', { name: 'beta-tool', arguments: {} })).error?.data?.code, 'ANDON_FLAG_DISABLED');
});

test('raising the flag to 100 % through the CLI sends tools/list_changed to the newly included sessions only; audited, counted, alerted', async () => {
  const excluded = shown.map((s, i) => (s ? -1 : i)).filter((i) => i >= 0).slice(0, 3);
  const included = shown.map((s, i) => (s ? i : -1)).filter((i) => i >= 0).slice(0, 3);
  const streams = new Map<number, Awaited<ReturnType<typeof stream>>>();
  for (const i of [...excluded, ...included]) streams.set(i, await stream(sessions[i]!));
  // A 2026 listener has no stable client identity: it is told of every cohort change.
  const listener = await stream(null);
  await new Promise((r) => setTimeout(r, 100));
  const auth = ['--ops-url', node.opsUrl, '--token', node.token()];
  const set = await runCli(['flags', 'set', 'new-search', '--percent', '100', '--by', 'alice', '--json', ...auth]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(JSON.parse(set.stdout).percent, 100);
  const deadline = Date.now() + 3000;
  while (excluded.some((i) => !streams.get(i)!.messages.some((m) => m.method === 'notifications/tools/list_changed')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const i of excluded) {
    const methods = streams.get(i)!.messages.map((m) => m.method);
    assert.ok(methods.includes('notifications/tools/list_changed'), `newly included session ${i} got ${methods.join(',')}`);
    // The prompt and the resource are gated by the same flag.
    assert.ok(methods.includes('notifications/prompts/list_changed') && methods.includes('notifications/resources/list_changed'), methods.join(','));
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const i of included) assert.deepEqual(streams.get(i)!.messages.filter((m) => m.method?.endsWith('list_changed')), [], `already included session ${i} was told`);
  assert.ok(listener.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'));
  assert.ok(listener.messages.some((m) => m.method === 'notifications/tools/list_changed'), JSON.stringify(listener.messages));
  listener.close();
  for (const s of streams.values()) s.close();
  for (const i of excluded) assert.ok((await tools(sessions[i]!)).includes('new-search'));

  const audit = await node.admin('GET', '/admin/flags/audit?flag=new-search');
  assert.equal(audit.status, 200);
  const last = audit.body.records.at(-1);
  assert.equal(last.by, 'alice');
  assert.equal(last.from.percent, 50);
  assert.equal(last.to.percent, 100);
  assert.equal(audit.body.records[0].by, 'config');

  const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();
  // Two changes: seeded from the config at start, then raised.
  assert.match(metrics, /andon_flag_changes_total\{flag="new-search"\} 2/);
  assert.match(metrics, /andon_flag_percent\{flag="new-search"\} 100/);
  assert.match(metrics, /andon_flag_enabled\{flag="beta"\} 1/);

  const until = Date.now() + 3000;
  while (!alerts.some((a) => a.title === 'Feature flag changed: new-search') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const a = alerts.find((x) => x.title === 'Feature flag changed: new-search');
  assert.ok(a, JSON.stringify(alerts));
  assert.equal(a.severity, 'info');
});

test('andon flags list --json, disable, and the admin API: malformed flags 400, unknown 404, delete hides the entry', async () => {
  const auth = ['--ops-url', node.opsUrl, '--token', node.token()];
  const list = await runCli(['flags', 'list', '--json', ...auth]);
  assert.equal(list.code, 0, list.stderr);
  const flags = JSON.parse(list.stdout).flags as Array<{ name: string; kind: string; percent: number; enabled: boolean }>;
  assert.deepEqual(
    flags.map((f) => [f.name, f.kind, f.enabled, f.percent]),
    [
      ['beta', 'percentage', true, 0],
      ['new-search', 'percentage', true, 100],
    ],
  );
  const table = await runCli(['flags', ...auth]);
  assert.match(table.stdout, /new-search\s+percentage\s+on 100%/);
  const off = await runCli(['flags', 'disable', 'new-search', ...auth]);
  assert.equal(off.code, 0, off.stderr);
  assert.ok(!(await tools(sessions[0]!)).includes('new-search'));
  for (const body of [{ percent: 150 }, { kind: 'ternary' }, { rules: [{ clientName: 'x', color: 'red' }] }, { bogus: 1 }]) {
    const r = await node.admin('PUT', '/admin/flags/new-search', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.code, 'ANDON_FLAG_INVALID');
  }
  assert.equal((await node.admin('GET', '/admin/flags/nope')).status, 404);
  const created = await node.admin('PUT', '/admin/flags/fresh', { enabled: true });
  assert.equal(created.status, 201);
  assert.equal(created.body.kind, 'boolean');
  assert.equal((await node.admin('DELETE', '/admin/flags/fresh?by=bob')).status, 200);
  assert.equal((await node.admin('GET', '/admin/flags/fresh')).status, 404);
  const audit = await node.admin('GET', '/admin/flags/audit?flag=fresh');
  assert.deepEqual(
    audit.body.records.map((r: { action: string; by: string }) => [r.action, r.by]),
    [
      ['set', 'admin-api'],
      ['delete', 'bob'],
    ],
  );
});
