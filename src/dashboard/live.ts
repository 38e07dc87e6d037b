/**
 * The dashboard's live feed: Server-Sent Events to every logged-in page. A page gets a `snapshot`
 * when it connects, then:
 *
 * - `state` (node, components, alerts) as soon as a runtime event says it may have changed
 *   (component, halt state, restart, drain, degraded, readiness, health, alert delivery), batched
 *   over {@link PUSH_DELAY_MS}, and from the one-second tick when it changed without an event;
 * - `panels` when an optional provider's JSON changed (checked on the tick);
 * - `tick` every second: resource gauges and the open (and just closed) chart slot.
 *
 * The tick timer, the event-loop monitor and the providers run only while a page is connected.
 * A stream ends when its session expires or is logged out; the page then shows the login form.
 */
import type { ServerResponse } from 'node:http';
import { events, on, subscribeAll } from '../events/index.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { ResourceSampler, sampleMemory, type ResourceSample } from './resources.js';
import { SLOT_MS, SLOTS, Series, type Slot } from './series.js';
import type { DashboardSession, SessionStore } from './sessions.js';
import type { DashboardSources, PanelKey } from './sources.js';
import { alertsView, componentsView, panelsView, thresholdsOf, type NodeView, type PageState, type PanelView } from './state.js';

/** Runtime events are pushed this long after the first of a burst, ms. */
export const PUSH_DELAY_MS = 25;
/** The tick (gauges, open chart slot, changed panels), ms. */
export const TICK_MS = 1_000;
/** A comment line keeps idle proxies from closing the stream, ms. */
export const HEARTBEAT_MS = 15_000;

interface Client {
  res: ServerResponse;
  session: DashboardSession;
}

export class DashboardLive {
  readonly series: Series;
  private readonly clock: Clock;
  private readonly clients = new Set<Client>();
  private sampler: ResourceSampler | undefined;
  private lastSample: ResourceSample | undefined;
  private tickTimer: Timer | undefined;
  private rollTimer: Timer | undefined;
  private pushTimer: Timer | undefined;
  private lastState = '';
  private lastPanels = '';
  private lastBeat = 0;
  private degraded: string | null = null;
  private ready: NodeView['ready'] = null;
  private readonly startedAt: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly src: DashboardSources,
    private readonly sessions: SessionStore,
  ) {
    this.clock = src.clock ?? systemClock;
    this.startedAt = Math.round(Date.now() - process.uptime() * 1000);
    this.series = new Series(this.clock).start();
    // Quiet periods still get chart points: close slots on time, not only on traffic.
    this.rollTimer = this.clock.setInterval(() => this.series.roll(), SLOT_MS);
    this.rollTimer.unref?.();
    const changed = () => this.schedule();
    this.unsubscribe = subscribeAll([
      on(events.component, changed),
      on(events.haltState, changed),
      on(events.restart, changed),
      // At once: a drain with nothing in flight closes the listener a few milliseconds later.
      on(events.drain, () => {
        if (this.clients.size > 0) this.pushState();
      }),
      on(events.health, changed),
      on(events.alert, changed),
      on(events.degraded, (e) => {
        this.degraded = e.reason;
        changed();
      }),
      on(events.readiness, (e) => {
        this.ready = { ready: e.ready, reasons: e.reasons };
        changed();
      }),
    ]);
  }

  /** The whole page state (GET /dashboard/api/state and the `snapshot` event). */
  snapshot(): PageState & { panels: Partial<Record<PanelKey, PanelView>>; resources: ResourceSample; thresholds: Record<string, number> | null; series: { slotMs: number; slots: number; data: Slot[] } } {
    const panels = panelsView(this.src);
    return { ...this.state(), panels, resources: this.resources(), thresholds: thresholdsOf(panels), series: { slotMs: SLOT_MS, slots: SLOTS, data: this.series.slots() } };
  }

  state(): PageState {
    const node: NodeView = { name: this.src.name ?? 'andon', phase: this.src.target.drainPhase, pid: process.pid, startedAt: this.startedAt, degraded: this.degraded, ready: this.ready };
    return { node, components: componentsView(this.src), alerts: alertsView(this.src) };
  }

  /** Opens an event stream for a logged-in page. */
  attach(res: ServerResponse, session: DashboardSession): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const client: Client = { res, session };
    this.clients.add(client);
    res.on('close', () => this.detach(client));
    if (!this.sampler) {
      this.sampler = new ResourceSampler();
      this.lastSample = undefined;
    }
    const snap = this.snapshot();
    this.lastState = JSON.stringify({ node: snap.node, components: snap.components, alerts: snap.alerts });
    this.lastPanels = JSON.stringify(snap.panels);
    res.write(`retry: 2000\n\n`);
    this.send(client, 'snapshot', snap);
    if (!this.tickTimer) {
      this.tickTimer = this.clock.setInterval(() => this.tick(), TICK_MS);
      this.tickTimer.unref?.();
    }
  }

  /** Ends the event streams of `session` (logout). */
  endSession(session: DashboardSession): void {
    for (const c of this.clients) if (c.session === session) this.end(c);
  }

  /** Pushes `state` soon (runtime events, and after a halt or resume from the page). */
  schedule(): void {
    if (this.clients.size === 0 || this.pushTimer) return;
    this.pushTimer = this.clock.setTimeout(() => {
      this.pushTimer = undefined;
      this.pushState();
    }, PUSH_DELAY_MS);
  }

  close(): void {
    this.unsubscribe();
    this.series.stop();
    this.clock.clearInterval(this.rollTimer);
    this.clock.clearInterval(this.tickTimer);
    this.clock.clearTimeout(this.pushTimer);
    this.sampler?.stop();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private pushState(): void {
    const s = this.state();
    const text = JSON.stringify(s);
    if (text === this.lastState) return;
    this.lastState = text;
    this.broadcast('state', text);
  }

  private resources(): ResourceSample {
    if (this.sampler) this.lastSample = this.sampler.sample();
    return this.lastSample ?? sampleMemory();
  }

  private tick(): void {
    for (const c of this.clients) if (!this.sessions.alive(c.session)) this.end(c);
    if (this.clients.size === 0) return;
    this.pushState();
    const panels = panelsView(this.src);
    const pText = JSON.stringify(panels);
    if (pText !== this.lastPanels) {
      this.lastPanels = pText;
      this.broadcast('panels', JSON.stringify({ panels, thresholds: thresholdsOf(panels) }));
    }
    const slots = this.series.slots();
    const tick = { now: this.clock.now(), resources: this.resources(), slots: slots.slice(-2) };
    this.broadcast('tick', JSON.stringify(tick));
    const now = this.clock.now();
    if (now - this.lastBeat >= HEARTBEAT_MS) {
      this.lastBeat = now;
      for (const c of this.clients) if (!c.res.writableEnded) c.res.write(': keep-alive\n\n');
    }
  }

  /** Ends a page's stream now (it is gone from the set before its 'close' event). */
  private end(client: Client): void {
    client.res.end();
    this.detach(client);
  }

  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size > 0) return;
    this.clock.clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.sampler?.stop();
    this.sampler = undefined;
  }

  private send(c: Client, event: string, data: unknown): void {
    if (c.res.writableEnded || c.res.destroyed) return;
    c.res.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }

  private broadcast(event: string, text: string): void {
    for (const c of this.clients) this.send(c, event, text);
  }
}

