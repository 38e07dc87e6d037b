/**
 * Feature flags: the definition, its validation and the evaluation (pure; no I/O, no clock).
 *
 * - `boolean`: on for every client while `enabled`.
 * - `percentage`: on for `percent` % of clients while `enabled`, chosen by a consistent hash of
 *   the flag name and the client's stable key (`clientKey`: authenticated subject, else 2025
 *   session, else remote address). The same client gets the same answer for as long as the
 *   percentage stays; raising the percentage only adds clients (a client's bucket is fixed).
 *
 * Targeting rules run first, in order, on the client's name and version (`clientInfo`): the first
 * rule that matches decides (`include` → on, `exclude` → off). No matching rule: the kind decides.
 * A disabled flag is off for everyone, whatever its rules say.
 */
import { AndonError } from '../errors/catalogue.js';
import { FlagErrors } from '../errors/flags.js';
import type { FlagSubject } from '../server/context.js';

export type FlagKind = 'boolean' | 'percentage';

/** One targeting rule: matches clients by name (exact) and version range (inclusive, dotted numbers). */
export interface FlagRule {
  /** `include` (default): a matching client is in the cohort; `exclude`: it is out. */
  action?: 'include' | 'exclude';
  clientName?: string;
  minVersion?: string;
  maxVersion?: string;
}

/** What an operator sets (admin API, CLI, config). */
export interface FlagInput {
  kind?: FlagKind;
  enabled?: boolean;
  percent?: number;
  rules?: FlagRule[];
  description?: string;
}

/** A stored flag. */
export interface Flag {
  name: string;
  kind: FlagKind;
  enabled: boolean;
  /** 0–100; 100 for a boolean flag. */
  percent: number;
  rules: FlagRule[];
  description?: string;
  updatedAt: number;
  updatedBy: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const VERSION = /^\d+(\.\d+){0,3}([-+].*)?$/;
const MAX_RULES = 32;

function invalid(message: string): AndonError {
  return new AndonError(FlagErrors.Invalid, `Invalid feature flag: ${message}`);
}

/** Throws ANDON_FLAG_INVALID unless `name` is a flag name (letters, digits, `.` `_` `:` `-`, ≤ 128; not `audit`). */
export function checkFlagName(name: string): void {
  if (!NAME.test(name)) throw invalid(`name "${name}": letters, digits, ".", "_", ":" and "-", at most 128`);
  // GET /admin/flags/audit is the audit trail.
  if (name === 'audit') throw invalid('name "audit" is reserved');
}

function checkRule(r: unknown, i: number): FlagRule {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw invalid(`rules[${i}]: expected an object`);
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['action', 'clientName', 'minVersion', 'maxVersion'].includes(k)) throw invalid(`rules[${i}].${k}: unknown key (action, clientName, minVersion, maxVersion)`);
  const out: FlagRule = {};
  if (o.action !== undefined) {
    if (o.action !== 'include' && o.action !== 'exclude') throw invalid(`rules[${i}].action: include or exclude`);
    out.action = o.action;
  }
  if (o.clientName !== undefined) {
    if (typeof o.clientName !== 'string' || o.clientName === '') throw invalid(`rules[${i}].clientName: a non-empty string`);
    out.clientName = o.clientName;
  }
  for (const k of ['minVersion', 'maxVersion'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !VERSION.test(v)) throw invalid(`rules[${i}].${k}: a dotted version like 1.2.0`);
    out[k] = v;
  }
  if (out.clientName === undefined && out.minVersion === undefined && out.maxVersion === undefined) throw invalid(`rules[${i}]: needs clientName, minVersion or maxVersion`);
  return out;
}

/**
 * The flag `name` after applying `input` to `old` (a partial update: what `input` leaves out
 * stays). Throws ANDON_FLAG_INVALID on a malformed input.
 */
export function applyInput(name: string, old: Flag | undefined, input: FlagInput, by: string, at: number): Flag {
  checkFlagName(name);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('expected an object');
  const kind = input.kind ?? (input.percent !== undefined ? 'percentage' : (old?.kind ?? 'boolean'));
  if (kind !== 'boolean' && kind !== 'percentage') throw invalid(`kind "${String(kind)}": boolean or percentage`);
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw invalid('enabled: true or false');
  let percent = input.percent ?? (kind === 'boolean' ? 100 : old?.kind === 'percentage' ? old.percent : 0);
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) throw invalid(`percent ${String(percent)}: a number from 0 to 100`);
  if (kind === 'boolean') percent = 100;
  let rules = old?.rules ?? [];
  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules) || input.rules.length > MAX_RULES) throw invalid(`rules: an array of at most ${MAX_RULES}`);
    rules = input.rules.map(checkRule);
  }
  const f: Flag = { name, kind, enabled: input.enabled ?? old?.enabled ?? true, percent, rules, updatedAt: at, updatedBy: by };
  const description = input.description ?? old?.description;
  if (description !== undefined) {
    if (typeof description !== 'string' || description.length > 1000) throw invalid('description: a string of at most 1000 characters');
    f.description = description;
  }
  return f;
}

/** A stored value read back: null when it is not a flag (the store's hostile-input rule). */
export function parseStored(name: string, v: unknown): Flag | null {
  try {
    const o = v as Flag;
    if (o === null || typeof o !== 'object') return null;
    const f = applyInput(name, undefined, { kind: o.kind, enabled: o.enabled, percent: o.percent, rules: o.rules, ...(o.description !== undefined ? { description: o.description } : {}) }, String(o.updatedBy ?? 'unknown'), Number(o.updatedAt) || 0);
    return f;
  } catch {
    return null;
  }
}

/** Compares dotted versions numerically (`1.10.0` > `1.9`); a pre-release suffix is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[-+]/)[0]!.split('.').map((x) => Number(x) || 0);
  const pb = b.split(/[-+]/)[0]!.split('.').map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function matches(r: FlagRule, s: FlagSubject): boolean {
  if (r.clientName !== undefined && s.clientName !== r.clientName) return false;
  if (r.minVersion !== undefined || r.maxVersion !== undefined) {
    const v = s.clientVersion;
    if (v === undefined || !VERSION.test(v)) return false;
    if (r.minVersion !== undefined && compareVersions(v, r.minVersion) < 0) return false;
    if (r.maxVersion !== undefined && compareVersions(v, r.maxVersion) > 0) return false;
  }
  return true;
}

/**
 * The client's bucket for flag `name`, 0 ≤ b < 10000: FNV-1a over `name` NUL `key`, finished
 * with murmur3's fmix32 so that keys differing in one character spread evenly.
 */
export function bucket(name: string, key: string): number {
  // The same as hashing `${name}\0${key}`, without building that string.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 10000;
}

/** Why a flag evaluated as it did (OpenFeature's reasons: DISABLED, TARGETING_MATCH, SPLIT, STATIC). */
export type FlagReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'STATIC';

/** Evaluates `flag` for `subject`: [on, why]. */
export function evaluateFlag(flag: Flag, subject: FlagSubject): [boolean, FlagReason] {
  if (!flag.enabled) return [false, 'DISABLED'];
  for (const r of flag.rules) if (matches(r, subject)) return [r.action !== 'exclude', 'TARGETING_MATCH'];
  if (flag.kind === 'boolean') return [true, 'STATIC'];
  if (flag.percent >= 100) return [true, 'SPLIT'];
  if (flag.percent <= 0) return [false, 'SPLIT'];
  return [bucket(flag.name, subject.key) < Math.round(flag.percent * 100), 'SPLIT'];
}

/** The summary of a flag the change events and the metrics carry. */
export function summary(f: Flag | undefined | null): { kind: string; enabled: boolean; percent: number; rules: number } | null {
  return f ? { kind: f.kind, enabled: f.enabled, percent: f.percent, rules: f.rules.length } : null;
}
