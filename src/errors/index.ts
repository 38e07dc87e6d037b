/**
 * The whole error catalogue: the core (`catalogue.ts`, with the admission refusals) and every
 * area's section. Importing this module registers all entries, so `catalogue()` is complete.
 */
export * from './catalogue.js';
export { HttpErrors } from './http.js';
export { OpsErrors, opsErrorFor } from './ops.js';
export { RuntimeErrors } from './runtime.js';
export { ConfigErrors } from './config.js';
export { WireErrors } from './wire.js';
export { AuthErrors } from './auth.js';
export { CliErrors } from './cli.js';
export { ClientErrors, type ClientErrorCode } from './client.js';
export { LimitErrors } from './limits.js';
export { BreakerErrors } from './breakers.js';
export { TransportErrors } from './transports.js';
export { GuardianErrors } from './guardian.js';
export { DashboardErrors } from './dashboard.js';
export { TransportSecurityErrors } from './transport-security.js';
export { FlagErrors } from './flags.js';
