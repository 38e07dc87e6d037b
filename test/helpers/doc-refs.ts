/** What docs cite that src/ must have: metric names, file paths. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

let cached: string | undefined;

/** Every .ts file under src/, concatenated. */
export function srcText(): string {
  if (cached !== undefined) return cached;
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) parts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(ROOT, 'src'));
  cached = parts.join('\n');
  return cached;
}

let promClient: string | undefined;
function promClientText(): string {
  if (promClient !== undefined) return promClient;
  const dir = join(ROOT, 'node_modules/prom-client/lib/metrics');
  promClient = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return promClient;
}

/**
 * Metric names (`andon_…`) cited in a text that no code defines: andon's own are `${prefix}name`
 * (or the literal `andon_name`) in src/; `andon_nodejs_*` / `andon_process_*` are prom-client's
 * default metrics under andon's prefix. A histogram's _bucket/_sum/_count series count as it.
 * A bare prefix (`andon_recovery_*`) is not checked.
 */
export function metricProblems(text: string): string[] {
  const src = srcText();
  const problems: string[] = [];
  for (const name of new Set([...text.matchAll(/\bandon_[a-z0-9_]*[a-z0-9]\b(?!\*|_)/g)].map((m) => m[0]))) {
    const bare = name.slice('andon_'.length);
    const base = bare.replace(/_(bucket|sum|count)$/, '');
    const inSrc = (n: string) => src.includes(`}${n}\``) || src.includes(`andon_${n}'`) || src.includes(`andon_${n}\``) || src.includes(`andon_${n}"`);
    if (inSrc(bare) || inSrc(base)) continue;
    if (/^(nodejs|process)_/.test(base) && (promClientText().includes(`'${base}'`) || promClientText().includes(`'${base.replace(/^(nodejs|process)_/, '')}'`))) continue;
    problems.push(`metric ${name} is not defined in src/`);
  }
  return problems;
}
