// The andon dashboard page: renders the state the ops listener pushes over Server-Sent Events
// (no polling) and sends halt, resume and drain with the session's CSRF token.
import { drawChart, fmt } from './charts.js';

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const view = { state: null, panels: {}, thresholds: null, resources: null, slots: [], slotMs: 5000, maxSlots: 180, now: Date.now(), skew: 0 };

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

function ago(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  const txt = s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : s < 86400 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 86400)} d`;
  return ms >= 0 ? `${txt} ago` : `in ${txt}`;
}
const now = () => Date.now() + view.skew;
const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
const isHalted = (s) => s === 'halted_manual' || s === 'halted_fatal';

let noticeTimer;
function notice(text, kind = 'info') {
  const n = $('notice');
  n.textContent = text;
  n.dataset.kind = kind;
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (kind !== 'error') noticeTimer = setTimeout(() => (n.hidden = true), 6000);
}

// ───────────── actions ─────────────

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body ?? {}) });
  if (res.status === 401) return void location.reload();
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : {};
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

let haltTarget = '';
function askHalt(id) {
  haltTarget = id;
  $('halt-id').textContent = id;
  $('halt-reason').value = '';
  $('halt-dialog').showModal();
  $('halt-reason').focus();
}

async function act(verb, id, reason) {
  try {
    await post(`/dashboard/api/components/${encodeURIComponent(id)}/${verb}`, verb === 'halt' ? { reason } : {});
    notice(verb === 'halt' ? `halted ${id}: ${reason}` : `resumed ${id}`);
  } catch (err) {
    notice(`${verb} ${id} failed: ${err.message}`, 'error');
  }
}

$('halt-form').addEventListener('submit', (ev) => {
  const reason = $('halt-reason').value.trim();
  if (!reason) {
    ev.preventDefault();
    return;
  }
  void act('halt', haltTarget, reason);
});
$('halt-cancel').addEventListener('click', () => $('halt-dialog').close());
$('drain').addEventListener('click', () => $('drain-dialog').showModal());
$('drain-cancel').addEventListener('click', () => $('drain-dialog').close());
$('drain-form').addEventListener('submit', () => {
  post('/dashboard/api/drain').then(() => notice('draining: new work is refused; the node exits when in-flight work is done'), (err) => notice(`drain failed: ${err.message}`, 'error'));
});
$('logout').addEventListener('click', async () => {
  await fetch('/dashboard/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
  location.reload();
});

// ───────────── theme ─────────────

const THEMES = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  $('theme').setAttribute('aria-label', `Theme: ${t === 'auto' ? 'follow the system' : t} (change)`);
  $('theme').textContent = t === 'light' ? '☀' : t === 'dark' ? '☾' : '◐';
}
let theme = localStorage.getItem('andon-theme') ?? 'auto';
applyTheme(theme);
$('theme').addEventListener('click', () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem('andon-theme', theme);
  applyTheme(theme);
});

// ───────────── components ─────────────

function depth(c) {
  if (c.id === 'node') return 0;
  return c.kind === 'tool' ? 2 : 1;
}

/** Tree order: node, then each part; a server's tools follow it (they are its children). */
function treeOrder(list) {
  const tools = list.filter((c) => c.kind === 'tool');
  const out = [];
  for (const c of list) {
    if (c.kind === 'tool') continue;
    out.push(c);
    if (c.kind === 'server') out.push(...tools);
  }
  if (!list.some((c) => c.kind === 'server')) out.push(...tools);
  return out;
}

function renderComponents(all) {
  const list = treeOrder(all);
  const body = $('components').querySelector('tbody');
  const rows = new Map([...body.children].map((r) => [r.dataset.component, r]));
  const order = [];
  for (const c of list) {
    let tr = rows.get(c.id);
    rows.delete(c.id);
    const key = JSON.stringify(c);
    if (!tr || tr.dataset.key !== key) {
      const halted = isHalted(c.state);
      const fresh = h('tr', { dataset: { component: c.id, state: c.state, key }, class: `depth-${depth(c)}` },
        h('td', { class: 'id' }, c.id, c.critical ? h('span', { class: 'muted', title: 'critical: a halt makes the node not ready' }, ' *') : null),
        h('td', { class: 'state' }, h('span', { class: 'badge', dataset: { state: c.state } }, c.state.replace('_', ' '))),
        h('td', { class: 'reason' }, c.reason ?? c.lastError ?? ''),
        h('td', { class: 'meta' }, c.by ?? ''),
        h('td', { class: 'meta since', dataset: { since: c.since ?? '' }, title: c.since ? new Date(c.since).toISOString() : null }, c.since ? ago(now() - c.since) : ''),
        h('td', { class: 'num' }, String(c.restarts)),
        h('td', { class: 'num' }, c.inflight === null ? '' : String(c.inflight)),
        h('td', { class: 'actions' },
          halted
            ? h('button', { type: 'button', class: 'primary', 'aria-label': `Resume ${c.id}`, onclick: () => act('resume', c.id) }, 'Resume')
            : h('button', { type: 'button', class: 'danger', 'aria-label': `Halt ${c.id}`, onclick: () => askHalt(c.id) }, 'Halt')),
      );
      const hadFocus = tr?.contains(document.activeElement);
      if (tr) tr.replaceWith(fresh);
      tr = fresh;
      if (hadFocus) tr.querySelector('button')?.focus();
    }
    order.push(tr);
  }
  for (const r of rows.values()) r.remove();
  order.forEach((tr, i) => {
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
  });
}

function refreshAges() {
  for (const td of document.querySelectorAll('td.since')) if (td.dataset.since) td.textContent = ago(now() - Number(td.dataset.since));
  for (const td of document.querySelectorAll('[data-at]')) td.textContent = ago(now() - Number(td.dataset.at));
}

// ───────────── node, alerts ─────────────

function renderNode(n) {
  $('phase').textContent = n.phase;
  $('phase').dataset.state = n.phase;
  const ready = $('ready');
  ready.hidden = n.ready === null;
  if (n.ready) {
    ready.textContent = n.ready.ready ? 'ready' : `not ready: ${n.ready.reasons.join('; ')}`;
    ready.dataset.state = n.ready.ready ? 'ready' : 'not-ready';
  }
  // A node that is already draining cannot be drained again.
  $('drain').disabled = n.phase !== 'running';
  $('degraded').hidden = !n.degraded;
  $('degraded').textContent = n.degraded ? `Degraded: ${n.degraded}` : '';
}

function renderAlerts(a) {
  $('alerts-off').hidden = a.enabled;
  $('alerts').hidden = !a.enabled;
  const body = $('alerts').querySelector('tbody');
  body.replaceChildren(...(a.history.length === 0
    ? [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No alerts yet.'))]
    : a.history.map((r) => h('tr', { dataset: { component: r.component ?? r.id, alert: r.id } },
        h('td', { title: r.time }, new Date(r.time).toLocaleTimeString()),
        h('td', {}, h('span', { class: 'badge', dataset: { state: r.severity } }, r.severity)),
        h('td', {}, `${r.action === 'resolve' ? 'resolved: ' : ''}${r.title}${r.test ? ' (test)' : ''}${r.suppressed ? ` (+${r.suppressed} suppressed)` : ''}`),
        h('td', {}, h('span', { class: 'badge', dataset: { state: r.status } }, r.status)),
        h('td', {}, h('span', { class: 'chips' }, r.deliveries.map((d) =>
          h('span', { class: 'chip', dataset: { ok: String(d.ok), channel: d.channel }, title: d.error ?? '' },
            `${d.channel} ${d.ok ? '✓' : '✗'} ${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'}${d.fallbackOf ? ` (fallback of ${d.fallbackOf})` : ''}`)))),
      ))));
}

// ───────────── optional panels (breakers, limits, guardian, recovery, flags, nodes) ─────────────

function cell(key, v) {
  if (v === null || v === undefined) return h('td', {}, '');
  if (key === 'state' || key === 'status') return h('td', {}, h('span', { class: 'badge', dataset: { state: String(v) } }, String(v)));
  if (/(At|Until)$/.test(key) && typeof v === 'number' && v > 1e12) return h('td', { dataset: { at: v }, title: new Date(v).toISOString() }, ago(now() - v));
  if (typeof v === 'object') return h('td', {}, h('code', {}, JSON.stringify(v)));
  return h('td', { class: typeof v === 'number' ? 'num' : null }, typeof v === 'number' ? fmt(v) : String(v));
}

function panelBody(p, key) {
  if (p.error) return [h('p', { class: 'error' }, `unavailable: ${p.error}`)];
  const d = p.data;
  const rows = Array.isArray(d) ? d : Array.isArray(d?.rows) ? d.rows : null;
  const out = [];
  if (d && typeof d.note === 'string') out.push(h('p', { class: 'muted' }, d.note));
  if (!rows) return [...out, h('pre', {}, h('code', {}, JSON.stringify(d, null, 2)))];
  if (rows.length === 0) return [...out, h('p', { class: 'muted' }, 'Nothing to show.')];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const actions = key === 'flags' && d.actions ? d.actions : null;
  return [...out, h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col' }, k)), actions ? h('th', { scope: 'col' }, h('span', { class: 'sr' }, 'Actions')) : null)),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { component: String(r.id ?? r.component ?? r.name ?? ''), ...(actions ? { flag: String(r.id), state: String(r.state ?? '') } : {}) } },
      keys.map((k) => cell(k, r[k])), actions ? flagControls(r, actions) : null)))))];
}

// The flags panel's controls: Enable / Disable, Set percent, and Roll back for a running rollout.
function flagControls(r, actions) {
  const name = String(r.id);
  const on = r.state === 'enabled';
  const pct = h('input', { type: 'number', min: 0, max: 100, step: 'any', value: r.percent ?? 0, class: 'pct', 'aria-label': `Percent for ${name}`, dataset: { pct: name } });
  const controls = [
    on
      ? h('button', { type: 'button', 'aria-label': `Disable ${name}`, onclick: () => flagAct(name, 'disable') }, 'Disable')
      : h('button', { type: 'button', class: 'primary', 'aria-label': `Enable ${name}`, onclick: () => flagAct(name, 'enable') }, 'Enable'),
    h('span', { class: 'pct-form' }, pct, h('button', { type: 'button', 'aria-label': `Set percent of ${name}`, onclick: () => flagAct(name, 'percent', pct.value) }, 'Set %')),
  ];
  if (actions.rollback && String(r.rollout ?? '').startsWith('running')) {
    controls.push(h('button', { type: 'button', class: 'danger', 'aria-label': `Roll back ${name}`, onclick: () => askRollback(name) }, 'Roll back'));
  }
  return h('td', { class: 'actions' }, controls);
}

async function flagAct(name, verb, value) {
  try {
    const body = verb === 'percent' ? { percent: value === '' ? null : Number(value) } : {};
    const f = await post(`/dashboard/api/flags/${encodeURIComponent(name)}/${verb}`, body);
    notice(verb === 'percent' ? `${name} at ${f.percent} %` : `${verb}d ${name}`);
  } catch (err) {
    notice(`${verb === 'percent' ? 'set percent of' : verb} ${name} failed: ${err.message}`, 'error');
  }
}

let rollbackTarget = '';
function askRollback(name) {
  rollbackTarget = name;
  $('rollback-id').textContent = name;
  $('rollback-reason').value = '';
  $('rollback-dialog').showModal();
  $('rollback-reason').focus();
}
$('rollback-form').addEventListener('submit', (ev) => {
  const reason = $('rollback-reason').value.trim();
  if (!reason) {
    ev.preventDefault();
    return;
  }
  const name = rollbackTarget;
  post(`/dashboard/api/rollouts/${encodeURIComponent(name)}/rollback`, { reason }).then(() => notice(`rolled back ${name}: ${reason}`), (err) => notice(`roll back ${name} failed: ${err.message}`, 'error'));
});
$('rollback-cancel').addEventListener('click', () => $('rollback-dialog').close());

// A panel is redrawn only when its JSON changed (a percent being typed survives other panels' updates).
const panelText = new Map();
function renderPanels(panels) {
  const box = $('panels');
  const order = [];
  for (const [key, p] of Object.entries(panels)) {
    const text = JSON.stringify(p);
    let sec = box.querySelector(`[data-panel="${key}"]`);
    if (!sec || panelText.get(key) !== text) {
      const fresh = h('section', { class: 'card wide', id: `panel-${key}`, dataset: { panel: key }, 'aria-labelledby': `h-${key}` }, h('h2', { id: `h-${key}` }, p.title), panelBody(p, key));
      if (sec) sec.replaceWith(fresh);
      sec = fresh;
      panelText.set(key, text);
    }
    order.push(sec);
  }
  box.replaceChildren(...order);
}

// ───────────── gauges ─────────────

function gauge(label, value, text, max, limit) {
  const m = h('meter', { min: 0, max, value: Math.min(value, max), 'aria-label': label, ...(limit ? { high: limit, optimum: 0 } : {}) });
  return [h('div', { class: 'gauge', dataset: { gauge: label } }, h('dt', {}, label), h('dd', {}, m, h('span', { class: 'val' }, text), limit ? h('span', { class: 'limit' }, `limit ${fmt(limit)}`) : null))];
}

function renderGauges(r, t) {
  if (!r) return;
  const th = t ?? {};
  const eld = r.eventLoopDelayMs;
  $('gauges').replaceChildren(
    ...gauge('Heap', r.heapUsedBytes, mb(r.heapUsedBytes), th.heapUsedBytes ? th.heapUsedBytes * 1.25 : r.heapLimitBytes, th.heapUsedBytes),
    ...gauge('RSS', r.rssBytes, mb(r.rssBytes), th.rssBytes ? th.rssBytes * 1.25 : Math.max(r.systemMemoryBytes ?? 0, r.rssBytes), th.rssBytes),
    ...(r.fds === null ? [] : gauge('Open files', r.fds, String(r.fds), th.fds ? th.fds * 1.25 : Math.max(1024, r.fds * 2), th.fds)),
    ...gauge('Event-loop delay p99', eld?.p99 ?? 0, eld ? `${eld.p99} ms` : '…', th.eventLoopDelayMs ? th.eventLoopDelayMs * 1.25 : Math.max(100, (eld?.p99 ?? 0) * 2), th.eventLoopDelayMs),
  );
}

// ───────────── charts ─────────────

function renderCharts() {
  const slots = view.slots;
  const t1 = now();
  const t0 = t1 - view.maxSlots * view.slotMs;
  const last = slots[slots.length - 1];
  const secs = (s) => (s === last ? Math.max(1, (t1 - s.t) / 1000) : view.slotMs / 1000);
  const pt = (f) => slots.map((s) => [s.t, f(s)]);
  drawChart($('chart-rps'), [{ label: 'requests/s', points: pt((s) => s.req / secs(s)) }], t0, t1);
  drawChart($('chart-errors'), [{ label: 'errors %', points: pt((s) => (s.req ? (100 * s.err) / s.req : 0)) }], t0, t1);
  const sel = $('latency-key');
  const keys = new Set(slots.flatMap((s) => Object.keys(s.lat)));
  for (const k of keys) if (![...sel.options].some((o) => o.value === k)) sel.append(h('option', { value: k }, k === '*' ? 'all requests' : `tool ${k}`));
  const k = sel.value;
  const withKey = slots.filter((s) => s.lat[k]);
  drawChart($('chart-latency'), ['p50', 'p95', 'p99'].map((label, i) => ({ label, points: withKey.map((s) => [s.t, s.lat[k][i + 1]]) })), t0, t1);
  drawChart($('chart-sessions'), [{ label: 'sessions', points: pt((s) => s.sessions) }], t0, t1);
  drawChart($('chart-memory'), [{ label: 'heap MB', points: pt((s) => s.heap / 1048576) }, { label: 'RSS MB', points: pt((s) => s.rss / 1048576) }], t0, t1);
}
$('latency-key').addEventListener('change', renderCharts);

function mergeSlots(update) {
  for (const s of update) {
    const i = view.slots.findIndex((x) => x.t === s.t);
    if (i >= 0) view.slots[i] = s;
    else if (!view.slots.length || s.t > view.slots[view.slots.length - 1].t) view.slots.push(s);
  }
  const cut = now() - view.maxSlots * view.slotMs;
  while (view.slots.length && view.slots[0].t < cut) view.slots.shift();
}

// ───────────── live feed ─────────────

function renderState(s) {
  view.state = s;
  renderNode(s.node);
  renderComponents(s.components);
  renderAlerts(s.alerts);
}

function connect() {
  const es = new EventSource('/dashboard/api/events');
  const live = $('live');
  es.addEventListener('open', () => {
    live.textContent = 'live';
    live.dataset.state = 'live';
  });
  es.addEventListener('snapshot', (e) => {
    const s = JSON.parse(e.data);
    view.slotMs = s.series.slotMs;
    view.maxSlots = s.series.slots;
    view.slots = s.series.data;
    view.resources = s.resources;
    view.thresholds = s.thresholds;
    renderState(s);
    renderPanels(s.panels);
    renderGauges(s.resources, s.thresholds);
    renderCharts();
    document.body.dataset.ready = 'true';
  });
  es.addEventListener('state', (e) => renderState(JSON.parse(e.data)));
  es.addEventListener('panels', (e) => {
    const p = JSON.parse(e.data);
    view.thresholds = p.thresholds;
    renderPanels(p.panels);
  });
  es.addEventListener('tick', (e) => {
    const t = JSON.parse(e.data);
    view.skew = t.now - Date.now();
    mergeSlots(t.slots);
    renderGauges(t.resources, view.thresholds);
    renderCharts();
    refreshAges();
  });
  es.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.dataset.state = 'down';
    if (es.readyState === EventSource.CLOSED) {
      // A closed stream is a refused one: a lapsed session (log in again) or a node that is gone.
      fetch('/dashboard/api/state').then((r) => (r.status === 401 ? location.reload() : setTimeout(connect, 2000)), () => setTimeout(connect, 2000));
    }
  });
}
connect();
