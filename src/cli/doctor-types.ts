/** Types shared by `andon doctor`'s checks (./doctor-*.ts). */
import type { LoadedConfig } from '../config/load.js';

/** Outcome of one check. `skip`: not applicable (TLS off, `--no-send`) or not checkable (bad config). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of the checklist. */
export interface CheckResult {
  /** Stable id for scripts, e.g. `state-dir`, `alert-channel:ops-webhook`. */
  id: string;
  /** Human title, e.g. "state directory writable, fsync works". */
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** One line: what to do (set on warn and fail). */
  fix?: string;
}

/** A node found answering on the configured ops listener. */
export interface RunningNode {
  /** Ops API base URL. */
  opsUrl: string;
}

/** What every check gets. */
export interface DoctorContext {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  /** Absolute state directory. */
  stateDir: string;
  /** The node answering on the configured ops listener, if any. */
  running: RunningNode | undefined;
  /** False with `--no-send`. */
  send: boolean;
  /** `--token` (else ANDON_ADMIN_TOKEN / the state dir's admin-token file). */
  token?: string;
  /** `--prometheus-rules` (else the repository's deploy/prometheus/alerts.yml when present). */
  rulesFile?: string;
}

/** Shorthands. */
export const pass = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'pass', detail });
export const warn = (id: string, title: string, detail: string, fix: string): CheckResult => ({ id, title, status: 'warn', detail, fix });
export const fail = (id: string, title: string, detail: string, fix: string): CheckResult => ({ id, title, status: 'fail', detail, fix });
export const skip = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'skip', detail });

/** The most severe status of several results of one check (fail > warn > pass > skip). */
export function worst(statuses: CheckStatus[]): CheckStatus {
  for (const s of ['fail', 'warn', 'pass'] as const) if (statuses.includes(s)) return s;
  return 'skip';
}

/** The error code of a Node system error, else its message. */
export function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
