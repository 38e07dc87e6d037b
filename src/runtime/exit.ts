/** Drain outcome and process exit codes, shared by the drain, the signal handlers and the CLI. */

/** What a drain did. */
export interface DrainResult {
  /** True when in-flight requests were still running at the end of the grace period. */
  graceExpired: boolean;
  drained: number;
  forced: number;
  durationMs: number;
}

/**
 * Exit codes: 0 drained cleanly; 2 could not start (e.g. the MCP port is busy, ANDON_LISTEN_FAILED);
 * 3 the grace ran out and requests were aborted; 4 forced by a second signal; 70 fatal; 75 emergency
 * stop (the resource guardian reached a hard limit; `node` is persisted halted_fatal — sysexits'
 * EX_TEMPFAIL: an init system restarts it, and the restarted node answers 503 until resumed).
 */
export const EXIT = { ok: 0, startFailed: 2, graceExpired: 3, forced: 4, fatal: 70, emergencyStop: 75 } as const;

/** A non-negative integer from the environment (ms), or undefined when unset. */
export function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer (ms), got "${v}"`);
  return n;
}
