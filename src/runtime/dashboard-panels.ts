/**
 * The dashboard's panels of the resilience parts (src/dashboard/sources.ts `PanelProvider`):
 * breakers, rate limits, the resource guardian, recovery and feature flags, each as rows the page draws (a
 * `state` gets a badge, an epoch-ms field ending in `At` a live countdown). Called once a second
 * while a page is open, so each reads in-memory state only.
 */
import type { BreakerRegistry } from '../resilience/breakers.js';
import type { RateLimits } from '../resilience/rate-limits.js';
import type { RuntimeGuardian } from './guardian-wiring.js';
import type { RecoveryStrategist } from './recovery/index.js';
import type { DashboardFlagActions, DashboardRolloutActions, PanelProvider } from '../dashboard/sources.js';
import type { FlagRegistry } from '../flags/registry.js';
import type { ClusterMembers } from './cluster-members.js';
import type { RolloutManager } from '../flags/rollouts.js';

/** What the panels read (the Runtime). */
export interface PanelSource {
  breakers: BreakerRegistry;
  rateLimits?: RateLimits | undefined;
  guardian?: RuntimeGuardian | undefined;
  recovery?: RecoveryStrategist | undefined;
  flags?: FlagRegistry | undefined;
  members?: ClusterMembers | undefined;
  rollouts?: RolloutManager | undefined;
}

const epoch = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/** The flags panel's operations: the same registry and rollout-manager calls as the admin API. */
export function flagActions(rt: PanelSource): { flagActions?: DashboardFlagActions; rolloutActions?: DashboardRolloutActions } {
  const flags = rt.flags;
  const rollouts = rt.rollouts;
  return {
    ...(flags ? { flagActions: { has: (name: string) => flags.get(name) !== undefined, set: (name: string, input: { enabled?: boolean; percent?: number }, by: string) => flags.set(name, input, by) } } : {}),
    ...(rollouts ? { rolloutActions: { rollback: (flag: string, by: string, reason: string) => rollouts.rollback(flag, by, reason) } } : {}),
  };
}

export function resiliencePanels(rt: PanelSource): { breakers?: PanelProvider; rateLimits?: PanelProvider; guardian?: PanelProvider; recovery?: PanelProvider; flags?: PanelProvider; nodes?: PanelProvider } {
  return {
    ...(rt.members
      ? {
          nodes: () => ({
            rows: rt.members!.snapshot().map((n) => ({ id: n.id + (n.self ? ' (this node)' : ''), state: n.status, phase: n.phase, degraded: n.degraded, sessions: n.sessions, mcpUrl: n.mcpUrl ?? '', opsUrl: n.opsUrl ?? '', pid: n.pid, lastHeartbeatAgoMs: n.ageMs, started: new Date(n.startedAt).toISOString() })),
            note: `heartbeat every ${rt.members!.heartbeatMs} ms; down after 3 missed; drain one with \`andon drain --node ID\``,
          }),
        }
      : {}),
    ...(rt.flags
      ? {
          flags: () => {
            const plans = new Map((rt.rollouts?.list() ?? []).map((p) => [p.flag, p]));
            const rollout = (name: string) => {
              const p = plans.get(name);
              return p ? (p.state === 'running' ? `running ${p.phase + 1}/${p.phases.length}` : p.state) : '';
            };
            return {
              rows: rt.flags!.list().map((f) => ({ id: f.name, kind: f.kind, state: f.enabled ? 'enabled' : 'disabled', percent: f.percent, rules: f.rules.length, rollout: rollout(f.name), updatedBy: f.updatedBy, updated: new Date(f.updatedAt).toISOString() })),
              note: 'change here, with PUT /admin/flags/:name or `andon flags set|enable|disable`; roll back a running rollout here or with `andon rollout rollback`',
              actions: { flags: true, rollback: rt.rollouts !== undefined },
            };
          },
        }
      : {}),
    ...(rt.breakers.enabled
      ? {
          breakers: () => ({
            rows: rt.breakers.snapshots().map((b) => ({ id: b.name, state: b.state, retryAt: epoch(b.retryAt), reason: b.reason ?? '', forced: b.forced ?? '', calls: b.window.calls, errorRate: b.window.errorRate })),
            note: 'open: refused at once until retryAt; half_open: probes let through',
          }),
        }
      : {}),
    ...(rt.rateLimits
      ? {
          rateLimits: () => {
            const s = rt.rateLimits!.snapshot();
            return {
              rows: s.limits.map((l) => ({ id: l.name, ...l })),
              note: `factor ${s.factor}${s.sustained.active ? `; throttling for ${s.sustained.seconds} s` : ''}; refusals: ${s.refusals.total}`,
            };
          },
        }
      : {}),
    ...(rt.guardian
      ? {
          guardian: () => {
            const g = rt.guardian!.status() as { mode?: string; reason?: string | null; pressure?: number; resource?: string; degradedSince?: string | null; msToHard?: number | null; sample?: { heapLimitBytes: number; memoryLimitBytes?: number; fdLimit?: number }; thresholds?: { degrade: number } };
            const t = g.thresholds?.degrade;
            const s = g.sample;
            return {
              rows: [{ id: 'guardian', state: g.mode, pressure: g.pressure, resource: g.resource, reason: g.reason ?? '', degradedSinceAt: epoch(g.degradedSince), msToHard: g.msToHard }],
              ...(t && s ? { thresholds: { heapUsedBytes: Math.round(s.heapLimitBytes * t), ...(s.memoryLimitBytes ? { rssBytes: Math.round(s.memoryLimitBytes * t) } : {}), ...(s.fdLimit ? { fds: Math.round(s.fdLimit * t) } : {}) } } : {}),
            };
          },
        }
      : {}),
    ...(rt.recovery
      ? {
          recovery: () => ({
            rows: rt.recovery!.snapshot(10).components.map((c) => ({ id: c.id, state: c.class ?? 'ok', failures: c.failures, lastError: c.lastError ?? '', rootCause: c.rootCause ?? '', degraded: c.degraded ?? '' })),
          }),
        }
      : {}),
  };
}
