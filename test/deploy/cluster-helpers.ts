/** Shared by test/deploy/cluster-*.test.ts: where the three-node example lives, and small parsers. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { validateConfig, type AndonConfig } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/paths.js';

export const CLUSTER = join(ROOT, 'deploy/cluster');

/** A node config of the example, through the real validator and the real loader (no environment). */
export function nodeConfig(file: string): AndonConfig {
  const raw = parseYaml(readFileSync(file, 'utf8')) as unknown;
  const v = validateConfig(raw);
  if (!v.ok) throw new Error(`${file} is not a valid andon config:\n  ${v.errors.join('\n  ')}`);
  const loaded = loadConfig({ file, env: {} }).config;
  return loaded;
}

/** A systemd unit's sections: section → key → values (in order). Comments and blank lines skipped. */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      out.set(sec[1]!, (cur = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    if (!cur || eq < 0) throw new Error(`unit line outside a section or without '=': ${line}`);
    const k = line.slice(0, eq).trim();
    const list = cur.get(k) ?? [];
    list.push(line.slice(eq + 1).trim());
    cur.set(k, list);
  }
  return out;
}

/** A systemd time span (`60`, `60s`, `1min 30s`, `500ms`) in ms. */
export function systemdSpanMs(v: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  let total = 0;
  for (const part of v.trim().split(/\s+/)) {
    const m = /^(\d+)(ms|s|sec|m|min|h)$/.exec(part);
    if (!m) throw new Error(`not a systemd time span: ${v}`);
    total += Number(m[1]) * units[m[2]!]!;
  }
  return total;
}

/** A compose duration (`45s`, `1m30s`, `500ms`) in ms. */
export function composeDurationMs(v: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) throw new Error(`not a compose duration: ${v}`);
  return parts.reduce((t, p) => t + Number(p[1]) * units[p[2]!]!, 0);
}

/** The drain budget of a config: in-flight grace + halting + 2 s of slack for the exit. */
export function drainBudgetMs(c: AndonConfig): number {
  return c.drain.graceMs + c.drain.haltMs + 2000;
}
