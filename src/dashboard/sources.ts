/**
 * What the dashboard reads: the runtime (components, halt, resume, drain), the halt registry (who
 * halted a component and since when), the alert manager, and OPTIONAL panel providers. A panel is
 * drawn only when its provider is given, so later parts (breakers, rate limits, the resource
 * guardian, recovery, feature flags, cluster nodes) plug in by adding one property where the ops
 * listener is built (src/runtime/wiring.ts), without touching the page.
 *
 * A provider returns plain JSON. The page draws any panel the same way (see docs/dashboard.md):
 *
 * - `{ rows: [{ id, …fields }], note?, thresholds? }` or a bare array of rows: a table, one row per
 *   entry with `data-component="<id>"` (`id`, else `component`, else `name`), one column per field;
 * - a field whose name ends in `At` or `Until` holding epoch ms is shown as a live countdown
 *   ("in 12 s") or age ("34 s ago"); a field named `state` gets a coloured badge;
 * - anything else is shown as its JSON, so a provider never breaks the page.
 *
 * Providers are read when a dashboard client connects and once a second while one is connected;
 * the page is sent a panel again only when its JSON changed. They must be cheap and must not throw
 * (a throwing provider's panel shows the error message instead).
 */
import type { AlertRecord } from '../observability/alerts/types.js';
import type { ComponentInfo } from '../runtime/supervisor.js';
import type { HaltRecord } from '../runtime/halt.js';
import type { DrainResult } from '../runtime/exit.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** A panel provider: returns the panel's JSON (see the module comment for the shapes drawn). */
export type PanelProvider = () => unknown;

/** The operations the dashboard's buttons call (the Runtime). */
export interface DashboardTarget {
  readonly drainPhase: string;
  components(): ComponentInfo[];
  halt(id: string, reason: string, by?: string): Promise<HaltRecord>;
  resume(id: string, by?: string): Promise<void>;
  drain(reason?: string): Promise<DrainResult>;
  exitAfterDrain(code: number): void;
}

/** Everything the dashboard shows. Only `target` is required. */
export interface DashboardSources {
  target: DashboardTarget;
  /** Who halted a component and since when (the halt registry). */
  halts?: { get(id: string): HaltRecord | undefined };
  /** Alert history with per-channel delivery (absent when alerting is off). */
  alerts?: { history(limit?: number): AlertRecord[]; channelNames(): string[] };
  /** The node's name in the page title (default the MCP server's name or "andon"). */
  name?: string;
  clock?: Clock;
  logger?: Logger;

  // Panels that other parts fill in; each is drawn only when present.
  /** Circuit breakers (GET /admin/breakers): rows with `state` and e.g. `retryAt`. */
  breakers?: PanelProvider;
  /** Rate and connection limits (GET /admin/rate-limits). */
  rateLimits?: PanelProvider;
  /**
   * The resource guardian (GET /admin/guardian). When present, its JSON is drawn as a panel and
   * its `thresholds` (`{ heapUsedBytes?, rssBytes?, fds?, eventLoopDelayMs? }`) mark the gauges.
   */
  guardian?: PanelProvider;
  /** The recovery strategist (GET /admin/recovery). */
  recovery?: PanelProvider;
  /** Feature flags and rollouts. */
  flags?: PanelProvider;
  /** Cluster nodes. */
  nodes?: PanelProvider;

  /** The flag operations behind the flags panel's Enable, Disable and Set percent (./flag-actions.ts). */
  flagActions?: DashboardFlagActions;
  /** The rollout operations behind the flags panel's Roll back (./flag-actions.ts). */
  rolloutActions?: DashboardRolloutActions;
}

/** What the flags panel's buttons call: the flag registry (the same operations as PUT /admin/flags/:name). */
export interface DashboardFlagActions {
  /** Whether flag `name` exists (the dashboard changes existing flags only). */
  has(name: string): boolean;
  /** A partial update of flag `name`, audited as `by`; throws ANDON_FLAG_INVALID on bad input. */
  set(name: string, input: { enabled?: boolean; percent?: number }, by: string): Promise<unknown>;
}

/** What the flags panel's Roll back calls: the rollout manager (as POST /admin/rollouts/:flag/rollback). */
export interface DashboardRolloutActions {
  /** Rolls back the running rollout of `flag` (the flag off); throws when there is none. */
  rollback(flag: string, by: string, reason: string): Promise<unknown>;
}

/** The optional panels, in page order, with their headings. */
export const PANELS = [
  { key: 'breakers', title: 'Circuit breakers' },
  { key: 'rateLimits', title: 'Rate and connection limits' },
  { key: 'guardian', title: 'Resource guardian' },
  { key: 'recovery', title: 'Recovery' },
  { key: 'flags', title: 'Feature flags' },
  { key: 'nodes', title: 'Cluster nodes' },
] as const satisfies ReadonlyArray<{ key: keyof DashboardSources; title: string }>;

export type PanelKey = (typeof PANELS)[number]['key'];

/** Options of the dashboard (the `dashboard` config section). */
export interface DashboardOptions {
  /** Idle lifetime of a login session, ms. Default 8 hours. */
  sessionTtlMs?: number;
}
