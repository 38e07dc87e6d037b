/**
 * A rollout plan of one feature flag (docs/flags.md, "Rollouts"): ordered phases, each a value
 * of the flag (enabled + percent) held at least `minDurationMs`, and its state machine:
 *
 *   pending → running (phase 0 … n-1) → completed
 *                    ↘ rolled_back (automatically on a trigger, or by an operator)
 *
 * Pure: validation and transitions; the manager (rollouts.ts) persists and applies them.
 */
export type RolloutState = 'pending' | 'running' | 'completed' | 'rolled_back';

/** One phase: the flag's value while it runs. */
export interface RolloutPhase {
  enabled: boolean;
  percent: number;
  /** Minimum time in this phase before `advance` is allowed (ms). */
  minDurationMs: number;
  /** Validation gates checked by `advance`: no rollback trigger firing (default true). */
  gates?: boolean;
}

/** One step of a plan's history. */
export interface RolloutStep {
  at: number;
  action: 'start' | 'advance' | 'complete' | 'rollback';
  by: string;
  /** The phase index after the step (-1: the flag off). */
  phase: number;
  reason?: string;
}

/** A stored plan (namespace `rollouts`, key: the flag). */
export interface RolloutPlan {
  flag: string;
  phases: RolloutPhase[];
  state: RolloutState;
  /** The running phase (or the one the flag was left at), -1 when the flag was turned off. */
  phase: number;
  phaseStartedAt: number;
  startedAt: number;
  startedBy: string;
  history: RolloutStep[];
  /** Why it was rolled back (metric and values, or the operator's reason). */
  rollbackReason?: string;
}

/** A plan that cannot be (phases, durations). */
export class RolloutInputError extends Error {}

const MAX_PHASES = 20;
const MAX_HISTORY = 100;

/** Parses `10,50,100` into percentages. */
export function parsePercents(s: string): number[] {
  const out = s.split(',').map((p) => Number(p.trim()));
  for (const p of out) if (!Number.isFinite(p) || p < 0 || p > 100) throw new RolloutInputError(`phases "${s}": percentages 0–100 separated by commas, e.g. 10,50,100`);
  return out;
}

/** Parses `60s`, `5m`, `500ms`, `2h` or a bare number of ms. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new RolloutInputError(`duration "${s}": a number with ms, s, m or h (e.g. 60s)`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * mult);
}

/** Validates phases given by an operator (admin API body). */
export function checkPhases(v: unknown): RolloutPhase[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_PHASES) throw new RolloutInputError(`phases: 1 to ${MAX_PHASES} phases`);
  let last = -1;
  return v.map((p: unknown, i) => {
    const o = (typeof p === 'number' ? { percent: p } : p) as Partial<RolloutPhase> | null;
    if (o === null || typeof o !== 'object') throw new RolloutInputError(`phases[${i}]: a percentage or { percent, minDurationMs, enabled, gates }`);
    const percent = o.percent;
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) throw new RolloutInputError(`phases[${i}].percent: 0–100`);
    if (percent < last) throw new RolloutInputError(`phases[${i}].percent ${percent}: phases must not decrease (${last} before it)`);
    last = percent;
    const minDurationMs = o.minDurationMs ?? 0;
    if (typeof minDurationMs !== 'number' || !Number.isFinite(minDurationMs) || minDurationMs < 0) throw new RolloutInputError(`phases[${i}].minDurationMs: a number ≥ 0`);
    if (o.enabled !== undefined && typeof o.enabled !== 'boolean') throw new RolloutInputError(`phases[${i}].enabled: true or false`);
    if (o.gates !== undefined && typeof o.gates !== 'boolean') throw new RolloutInputError(`phases[${i}].gates: true or false`);
    return { enabled: o.enabled ?? true, percent, minDurationMs, gates: o.gates ?? true };
  });
}

/** A new plan (state pending). */
export function newPlan(flag: string, phases: RolloutPhase[], by: string, at: number): RolloutPlan {
  return { flag, phases, state: 'pending', phase: -1, phaseStartedAt: at, startedAt: at, startedBy: by, history: [] };
}

function step(p: RolloutPlan, s: RolloutStep): void {
  p.history.push(s);
  if (p.history.length > MAX_HISTORY) p.history.splice(0, p.history.length - MAX_HISTORY);
}

/** pending → running phase 0. */
export function startPlan(p: RolloutPlan, by: string, at: number): void {
  if (p.state !== 'pending') throw new RolloutInputError(`the rollout of ${p.flag} is ${p.state}, not pending`);
  p.state = 'running';
  p.phase = 0;
  p.phaseStartedAt = at;
  step(p, { at, action: 'start', by, phase: 0 });
}

/**
 * running phase i → phase i+1, or completed after the last. Refused before the phase's minimum
 * duration unless `force`; `gateFailure` (a trigger firing) refuses it when the phase has gates.
 */
export function advancePlan(p: RolloutPlan, by: string, at: number, opts: { force?: boolean; gateFailure?: string } = {}): void {
  if (p.state !== 'running') throw new RolloutInputError(`the rollout of ${p.flag} is ${p.state}, not running`);
  const cur = p.phases[p.phase]!;
  const left = p.phaseStartedAt + cur.minDurationMs - at;
  if (!opts.force && left > 0) throw new RolloutInputError(`phase ${p.phase + 1} of ${p.flag} runs at least ${cur.minDurationMs} ms: ${left} ms left (--force to skip)`);
  if (!opts.force && cur.gates !== false && opts.gateFailure !== undefined) throw new RolloutInputError(`validation gate failing: ${opts.gateFailure}`);
  if (p.phase + 1 >= p.phases.length) {
    p.state = 'completed';
    step(p, { at, action: 'complete', by, phase: p.phase });
    return;
  }
  p.phase += 1;
  p.phaseStartedAt = at;
  step(p, { at, action: 'advance', by, phase: p.phase });
}

/**
 * running → rolled_back: to the previous phase (`toPrevious`, automatic rollback) or off (-1).
 * A completed plan may be rolled back by an operator too.
 */
export function rollbackPlan(p: RolloutPlan, by: string, at: number, reason: string, toPrevious: boolean): void {
  if (p.state !== 'running' && p.state !== 'completed') throw new RolloutInputError(`the rollout of ${p.flag} is ${p.state}: nothing to roll back`);
  p.state = 'rolled_back';
  p.phase = toPrevious ? p.phase - 1 : -1;
  p.phaseStartedAt = at;
  p.rollbackReason = reason;
  step(p, { at, action: 'rollback', by, phase: p.phase, reason });
}

/** The flag value a plan holds now: its phase's, or off. */
export function flagValueOf(p: RolloutPlan): { enabled: boolean; percent: number } {
  const ph = p.phase >= 0 ? p.phases[p.phase] : undefined;
  return ph === undefined ? { enabled: false, percent: 0 } : { enabled: ph.enabled, percent: ph.percent };
}

/** A stored value read back: null when it is not a plan. */
export function parsePlan(v: unknown): RolloutPlan | null {
  const o = v as RolloutPlan;
  if (o === null || typeof o !== 'object' || typeof o.flag !== 'string' || !Array.isArray(o.phases) || !Array.isArray(o.history)) return null;
  if (!['pending', 'running', 'completed', 'rolled_back'].includes(o.state) || typeof o.phase !== 'number' || typeof o.phaseStartedAt !== 'number') return null;
  try {
    o.phases = checkPhases(o.phases);
  } catch {
    return null;
  }
  return o;
}
