/**
 * Shape checks for the records the runtime persists. Each check looks at what its reader
 * dereferences, no more (extra fields pass, so a format that grows stays readable), and names the
 * path of the first problem. Small hand-written checks: no schema library on the load path.
 */
import type { RecordCheck } from './store.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, k: string, type: 'string' | 'number' | 'object' | 'array', optional = false): string | null {
  const v = o[k];
  if (v === undefined) return optional ? null : `${k}: missing`;
  const ok = type === 'object' ? isObj(v) : type === 'array' ? Array.isArray(v) : typeof v === type && (type !== 'number' || Number.isFinite(v));
  return ok ? null : `${k}: expected ${type}, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`;
}

function first(...problems: Array<string | null>): string | null {
  return problems.find((p) => p !== null) ?? null;
}

const HALT_STATES = ['normal', 'halted_manual', 'halted_fatal'];

/** A halt record: `{ state, reason, since, by, id? }` (the component id comes from the key). */
export const checkHaltRecord: RecordCheck = (v) => {
  if (!isObj(v)) return 'expected an object';
  if (typeof v.state !== 'string' || !HALT_STATES.includes(v.state)) return `state: expected one of ${HALT_STATES.join(', ')}, got ${JSON.stringify(v.state) ?? 'nothing'}`;
  return first(field(v, 'reason', 'string'), field(v, 'since', 'number'), field(v, 'by', 'string', true), field(v, 'id', 'string', true));
};

/** One persisted 2025 session. */
export const checkSessionRecord: RecordCheck = (v) => {
  if (!isObj(v)) return 'expected an object';
  const p = first(
    field(v, 'id', 'string'),
    field(v, 'protocolVersion', 'string'),
    field(v, 'clientCapabilities', 'object'),
    field(v, 'subscriptions', 'array'),
    field(v, 'lastActivity', 'number', true),
    field(v, 'clientInfo', 'object', true),
    field(v, 'logLevel', 'string', true),
    field(v, 'completed', 'array', true),
  );
  if (p) return p;
  if (!(v.subscriptions as unknown[]).every((s) => typeof s === 'string')) return 'subscriptions: expected strings';
  if (v.completed !== undefined && !(v.completed as unknown[]).every((c) => Array.isArray(c) && c.length === 2 && isObj(c[1]))) return 'completed: expected [requestId, response] pairs';
  return null;
};

/**
 * A sessions bucket: `{ [sessionId]: string }`, each value one session record encoded on its own
 * (so one record that cannot be encoded or decoded never takes its neighbours with it; the reader
 * checks each decoded record with {@link checkSessionRecord} and skips a bad one), or a record
 * object (the format before per-record encoding).
 */
export const checkSessionBucket: RecordCheck = (v) => {
  if (!isObj(v)) return 'expected an object of sessions';
  for (const [id, rec] of Object.entries(v)) {
    if (typeof rec === 'string') continue;
    const p = checkSessionRecord(rec);
    if (p) return `${id}.${p}`;
  }
  return null;
};

/**
 * The journal: an array of records, each encoded on its own as a string
 * (`{ s, id, tool, at, resp?, done? }`; the reader checks and skips a bad one), or, in the
 * format before write-ahead journaling, objects `{ sessionId, requestId, tool, arguments, protocolVersion }`.
 */
export const checkJournal: RecordCheck = (v) => {
  if (!Array.isArray(v)) return 'expected an array of journal entries';
  for (const [i, e] of v.entries()) {
    if (typeof e === 'string') continue;
    if (!isObj(e)) return `[${i}]: expected a string or an object`;
    const p = first(field(e, 'sessionId', 'string'), field(e, 'tool', 'string'), field(e, 'arguments', 'object'), field(e, 'protocolVersion', 'string'));
    if (p) return `[${i}].${p}`;
    if (typeof e.requestId !== 'string' && typeof e.requestId !== 'number') return `[${i}].requestId: expected string or number`;
  }
  return null;
};

/**
 * The check applied by default per namespace, for readers that pass none: every record the
 * runtime persists is checked on load even where the reader predates the checks.
 */
export const DEFAULT_CHECKS: Readonly<Record<string, RecordCheck>> = {
  halt: checkHaltRecord,
  sessions: checkSessionBucket,
  journal: checkJournal,
};
