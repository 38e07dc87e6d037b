// Small SVG line charts for the dashboard (no library). Built with DOM calls only: the page's
// Content-Security-Policy allows no inline style, and the SVG uses classes and attributes.
const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 120;
const PAD = { l: 34, r: 6, t: 8, b: 16 };

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A readable tick label: 1.2k, 0.5, 12. */
export function fmt(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 10 || v === 0) return String(Math.round(v));
  return v.toFixed(1);
}

/** A maximum rounded up to 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * Draws `series` ([{ label, points: [[t, v], …] }]) over the time window [t0, t1] into `svg`.
 * Sets data-points (points drawn, all series) and data-max (largest value) for tests and scripts.
 */
export function drawChart(svg, series, t0, t1) {
  svg.replaceChildren();
  let max = 0;
  let count = 0;
  for (const s of series) for (const [, v] of s.points) {
    if (v > max) max = v;
    count++;
  }
  svg.dataset.points = String(count);
  svg.dataset.max = String(max);
  const top = niceMax(max);
  const x = (t) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  for (const f of [0, 0.5, 1]) {
    const yy = y(top * f);
    svg.append(el('line', { class: 'grid-line', x1: PAD.l, x2: W - PAD.r, y1: yy, y2: yy }));
    svg.append(el('text', { class: 'axis', x: PAD.l - 4, y: yy + 3, 'text-anchor': 'end' }, fmt(top * f)));
  }
  svg.append(el('text', { class: 'axis', x: PAD.l, y: H - 3 }, '−15 min'));
  svg.append(el('text', { class: 'axis', x: W - PAD.r, y: H - 3, 'text-anchor': 'end' }, 'now'));
  if (count === 0) {
    svg.append(el('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
    return;
  }
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    let d = '';
    for (const [t, v] of s.points) d += `${d ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    // A single point draws as a short flat segment so it is visible.
    if (s.points.length === 1) d += `h2`;
    const path = el('path', { class: `s${i}`, d });
    path.append(el('title', {}, s.label));
    svg.append(path);
    // The latest value, marked so a young series is visible too.
    const [lt, lv] = s.points[s.points.length - 1];
    svg.append(el('circle', { class: `dot s${i}`, cx: x(lt).toFixed(1), cy: y(lv).toFixed(1), r: 2 }));
  });
  const legend = series.map((s) => s.label).join(' · ');
  svg.setAttribute('aria-label', `${svg.getAttribute('aria-label')?.split(':')[0] ?? ''}: ${legend}, max ${fmt(max)}`);
}
