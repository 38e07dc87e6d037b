/**
 * Classification of a component failure and the plan for each class (the seed table).
 *
 * Checked in this order, the first match wins:
 * 1. `resource_exhaustion`: the error group names an exhausted resource (ENOMEM, EMFILE, ENFILE,
 *    ENOSPC, heap, out of memory, allocation failed, too many open files), or the runtime reports
 *    resource pressure (the resource guardian, when one is wired). A node out of memory fails
 *    everywhere at once; calling that a cascade would blame a dependency for it.
 * 2. `cascade`: a declared dependency of the component failed within the cascade window before
 *    this failure. The root cause is the first failure of the chain (a dependency's own cascade
 *    root when it was itself a cascade).
 * 3. `persistent`: the same error group at least `persistentAfter` times in the window.
 * 4. `unknown`: no message to go by, or at least `persistentAfter` failures in the window with no
 *    group repeated that often (erratic failures).
 * 5. `transient`: anything else (a first or occasional failure).
 */
import type { RecoveryClass, RecoveryStep } from '../../events/index.js';

export type { RecoveryClass, RecoveryStep };

/** The plan of each class, steps in order (the seed table). */
export const PLANS: Readonly<Record<RecoveryClass, readonly RecoveryStep[]>> = {
  transient: ['attempt', 'degrade', 'manual'],
  persistent: ['degrade', 'notify', 'manual'],
  resource_exhaustion: ['degrade', 'notify', 'manual'],
  cascade: ['notify', 'manual'],
  unknown: ['notify', 'manual'],
};

/** Error groups that name an exhausted resource. */
export const RESOURCE_PATTERN = /\b(ENOMEM|EMFILE|ENFILE|ENOSPC)\b|out of memory|\bheap\b|allocation failed|too many open files|cannot allocate memory/i;

/** What the classifier looks at. */
export interface ClassifyInput {
  group: string;
  failuresInWindow: number;
  sameGroupInWindow: number;
  /** The resource guardian reports pressure now. */
  pressure: boolean;
  /** Set when a declared dependency failed within the cascade window. */
  cascadeRoot: string | undefined;
  /** Same-group failures (and failures in all) in the window that make a failure persistent. Default 3. */
  persistentAfter?: number;
}

/** The class of a failure (see the module comment for the rules). */
export function classify(i: ClassifyInput): RecoveryClass {
  const n = i.persistentAfter ?? 3;
  if (i.pressure || RESOURCE_PATTERN.test(i.group)) return 'resource_exhaustion';
  if (i.cascadeRoot !== undefined) return 'cascade';
  if (i.sameGroupInWindow >= n) return 'persistent';
  if (i.group === '' || i.failuresInWindow >= n) return 'unknown';
  return 'transient';
}
