/**
 * The configuration file, for embedders (`andon-mcp/config`): load and validate it, map it onto
 * RuntimeOptions, print it, reload it. Kept off the main entry so `import 'andon-mcp'` does not
 * load zod and yaml.
 */
export { loadConfig, resolveConfigFile, ConfigError, DEFAULT_FILES, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { configSchema, validateConfig, type AndonConfig, type AndonConfigInput } from './schema.js';
export { ENV_BINDINGS, CONFIG_ENV, ALERTS_ENV, type EnvBinding } from './env.js';
export { runtimeOptionsFromConfig, loggerOptionsFromConfig } from './runtime-options.js';
export { printConfig, redactConfig } from './print.js';
export { ConfigReloader, RELOADABLE, isReloadable, type ReloadTarget, type ReloadReport } from './reload.js';
export { runtimeReloadTarget } from './runtime-target.js';
export { schemaKeyPaths } from './keys.js';
