/**
 * The page state the dashboard sends: the node, its components (with who halted them and since
 * when), the alert history and the optional panels, each built from {@link DashboardSources}.
 */
import type { AlertRecord } from '../observability/alerts/types.js';
import { PANELS, type DashboardSources, type PanelKey } from './sources.js';

/** One component row. */
export interface ComponentView {
  id: string;
  kind: string;
  state: string;
  reason: string | null;
  /** Who halted it (`dashboard`, `cli:<user>`, `supervisor`, …); null when running. */
  by: string | null;
  /** When it was halted, epoch ms; null when running. */
  since: number | null;
  restarts: number;
  lastError: string | null;
  critical: boolean;
  inflight: number | null;
}

/** The node line at the top of the page. */
export interface NodeView {
  name: string;
  phase: string;
  pid: number;
  startedAt: number;
  /** Why the node runs degraded (`andon:degraded`), else null. */
  degraded: string | null;
  /** Readiness as last published (`andon:readiness`); null before the first report. */
  ready: { ready: boolean; reasons: string[] } | null;
}

export interface AlertsView {
  enabled: boolean;
  channels: string[];
  history: AlertRecord[];
}

/** One optional panel: its provider's JSON, or the error it threw. */
export interface PanelView {
  title: string;
  data?: unknown;
  error?: string;
}

export interface PageState {
  node: NodeView;
  components: ComponentView[];
  alerts: AlertsView;
}

/** Alert records shown. */
export const ALERT_ROWS = 20;

export function componentsView(src: DashboardSources): ComponentView[] {
  return src.target.components().map((c) => {
    const h = c.state.startsWith('halted') ? src.halts?.get(c.id) : undefined;
    return {
      id: c.id,
      kind: c.kind,
      state: c.state,
      reason: c.haltReason ?? h?.reason ?? null,
      by: h?.by ?? null,
      since: h?.since ?? null,
      restarts: c.restarts,
      lastError: c.lastError,
      critical: c.critical,
      inflight: c.inflight ?? null,
    };
  });
}

export function alertsView(src: DashboardSources): AlertsView {
  const a = src.alerts;
  return a ? { enabled: true, channels: a.channelNames(), history: a.history(ALERT_ROWS) } : { enabled: false, channels: [], history: [] };
}

/** The panels whose provider is given, in page order. */
export function panelsView(src: DashboardSources): Partial<Record<PanelKey, PanelView>> {
  const out: Partial<Record<PanelKey, PanelView>> = {};
  for (const { key, title } of PANELS) {
    const p = src[key];
    if (!p) continue;
    try {
      out[key] = { title, data: p() };
    } catch (err) {
      out[key] = { title, error: (err as Error).message };
    }
  }
  return out;
}

/** Guardian thresholds for the gauges, when the guardian panel publishes them. */
export function thresholdsOf(panels: Partial<Record<PanelKey, PanelView>>): Record<string, number> | null {
  const t = (panels.guardian?.data as { thresholds?: unknown } | undefined)?.thresholds;
  if (!t || typeof t !== 'object') return null;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}
