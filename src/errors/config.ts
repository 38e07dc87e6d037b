/**
 * Catalogue section: the configuration file and its reload (src/config).
 */
import { defineError } from './catalogue.js';


export const ConfigErrors = {
  Invalid: defineError({
    code: 'ANDON_CONFIG_INVALID',
    message: 'Configuration is invalid',
    retryable: false,
    httpStatus: 422,
    when: 'the configuration file, an environment override or a flag fails validation (unknown key, wrong type, secret literal); the message names each key path. At start the node exits 2; on reload the old configuration stays in effect',
  }),
  NotFound: defineError({
    code: 'ANDON_CONFIG_NOT_FOUND',
    message: 'Configuration file not found',
    retryable: false,
    when: '`--config FILE` or `ANDON_CONFIG` names a file that cannot be read, or both andon.config.yaml and andon.config.json exist',
  }),
  ReloadUnavailable: defineError({
    code: 'ANDON_CONFIG_RELOAD_UNAVAILABLE',
    message: 'This node was not started from a configuration it can re-read',
    retryable: false,
    httpStatus: 409,
    when: '`andon config reload` (POST /admin/config/reload) or SIGHUP reaches a runtime embedded without a config reloader',
  }),
} as const;
