/** Feature flags (docs/flags.md). */
export { FlagRegistry, type FlagAuditRecord, type FlagRegistryOptions } from './registry.js';
export { FlagStage } from './stage.js';
export { AndonFlagProvider, type FlagSource } from './openfeature.js';
export { bucket, evaluateFlag, type Flag, type FlagInput, type FlagKind, type FlagRule, type FlagReason } from './model.js';
