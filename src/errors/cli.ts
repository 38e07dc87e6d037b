/**
 * Catalogue section: errors of the `andon` command line (`src/cli`). The CLI prints
 * `andon: <message>` on stderr and exits 2.
 */
import { defineError } from './catalogue.js';

/** CLI errors. */
export const CliErrors = {
  Usage: defineError({
    code: 'ANDON_CLI_USAGE',
    message: 'bad usage',
    retryable: false,
    when: 'an option or argument has a wrong value (`--port`, `--limit`, `--severity`, an unknown example, an unknown channel)',
  }),
  ModuleNotFound: defineError({
    code: 'ANDON_CLI_MODULE_NOT_FOUND',
    message: 'cannot find module',
    retryable: false,
    when: '`andon serve <module>`: the file does not exist',
  }),
  NoServerExport: defineError({
    code: 'ANDON_CLI_NO_SERVER_EXPORT',
    message: 'module does not export a server',
    retryable: false,
    when: '`andon serve <module>`: the module has no `export default` (or `server`, `createServer`) giving an McpServer',
  }),
  OpsUnreachable: defineError({
    code: 'ANDON_CLI_OPS_UNREACHABLE',
    message: 'cannot reach the ops API',
    retryable: true,
    when: 'an operator command cannot connect to `--ops-url` / `ANDON_OPS_URL` (connection refused, DNS, timeout): the node is not running there',
  }),
  OpsUnauthorized: defineError({
    code: 'ANDON_CLI_OPS_UNAUTHORIZED',
    message: 'the ops API refused the admin token',
    retryable: false,
    when: 'the ops API answered 401: no token was found, or the one used (the message says from where) is wrong',
  }),
  NotOpsApi: defineError({
    code: 'ANDON_CLI_NOT_OPS_API',
    message: 'this does not look like an andon ops API',
    retryable: false,
    when: '`--ops-url` points at something that is not an andon ops listener (the MCP port, another service)',
  }),
  AlertsNotConfigured: defineError({
    code: 'ANDON_CLI_ALERTS_NOT_CONFIGURED',
    message: 'alerting is not configured on this node (set ANDON_ALERTS_CONFIG or the alerts section of the config file)',
    retryable: false,
    when: '`andon alerts` against a node that runs without alerting',
  }),
  OpsFailed: defineError({
    code: 'ANDON_CLI_OPS_FAILED',
    message: 'the ops API refused the request',
    retryable: false,
    when: 'the ops API answered another error (unknown component, missing reason…); the message is the node\'s own',
  }),
  AlertPending: defineError({
    code: 'ANDON_CLI_ALERT_PENDING',
    message: 'the node is still delivering the test alert',
    retryable: true,
    when: '`andon alerts test`: delivery outlasted the node\'s wait; see `andon alerts` for the outcome',
  }),
} as const;
