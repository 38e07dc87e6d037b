/**
 * Every key path of the configuration schema, for docs/configuration.md (a test checks the page
 * against this list) and for tooling. Records appear as `<name>` (`alerts.channels.<name>.type`);
 * the variants of a union contribute all of their keys.
 */
import type { z } from 'zod';
import { configSchema, unwrap } from './schema.js';

type Def = { type: string; shape?: Record<string, z.ZodType>; valueType?: z.ZodType; options?: z.ZodType[] };

/** Leaf key paths of `schema` (default: the whole configuration), sorted. */
export function schemaKeyPaths(schema: z.ZodType = configSchema): string[] {
  const out = new Set<string>();
  const walk = (s: z.ZodType, prefix: string) => {
    const d = (unwrap(s) as z.ZodType & { def: Def }).def;
    if (d.type === 'object' && d.shape) {
      for (const [k, v] of Object.entries(d.shape)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (d.type === 'record' && d.valueType && shapeLike(d.valueType)) walk(d.valueType, `${prefix}.<name>`);
    else if (d.type === 'union' && d.options?.some(shapeLike)) for (const o of d.options) walk(o, prefix);
    else out.add(prefix);
  };
  walk(schema, '');
  return [...out].sort();
}

function shapeLike(s: z.ZodType): boolean {
  const d = (unwrap(s) as z.ZodType & { def: Def }).def;
  return d.type === 'object' || (d.type === 'union' && !!d.options?.some(shapeLike));
}
