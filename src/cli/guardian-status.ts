/**
 * The guardian part of `andon status`: GET /admin/guardian, rendered as two lines (degradation
 * mode and resource pressure). A node without the guardian (or an older node) shows nothing.
 */
import { adminCall, type OpsTargetFlags } from './ops-client.js';

/** GET /admin/guardian, or undefined when the node has no guardian (404) or the route fails. */
export async function fetchGuardian(flags: OpsTargetFlags): Promise<Record<string, any> | undefined> {
  try {
    return (await adminCall('GET', '/admin/guardian', undefined, flags)) as Record<string, any>;
  } catch {
    return undefined;
  }
}

const pct = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 100)}%` : '-');

/** Human lines: `degradation: …` and `pressure: …`. */
export function guardianLines(g: Record<string, any>): string[] {
  const d = (g.degradation ?? {}) as Record<string, any>;
  const mode = String(g.mode);
  const state =
    mode === 'degraded'
      ? `DEGRADED since ${String(d.since ?? g.degradedSince)} (${String(g.reason)}); rate limits at ${pct(g.factor)}; refused ${JSON.stringify(d.refused ?? {})}; shed ${JSON.stringify(d.shed ?? {})}`
      : mode === 'restoring'
        ? `restoring (rate limits at ${pct(g.factor)})`
        : mode === 'stopped'
          ? `EMERGENCY STOP (${String(g.reason)})`
          : 'off (normal)';
  const ratios = Object.entries((g.ratios ?? {}) as Record<string, number>)
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', ');
  const eta = typeof g.msToHard === 'number' ? `; hard limit in ~${Math.round(g.msToHard / 1000)} s at this trend` : '';
  return [`degradation: ${state}`, `pressure: ${pct(g.pressure)} (${String(g.resource)})${ratios ? ` — ${ratios}` : ''}${g.warning ? ' [WARNING]' : ''}${eta}`];
}
