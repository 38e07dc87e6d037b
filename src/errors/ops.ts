/**
 * Catalogue section: answers of the ops listener (`src/admin/ops-server.ts`: admin API, metrics,
 * health). Bodies are `{ "error": message, "code": code }` with `httpStatus`.
 */
import { defineError, type ErrorDef } from './catalogue.js';

/** Ops listener errors. */
export const OpsErrors = {
  BadRequest: defineError({
    code: 'ANDON_OPS_BAD_REQUEST',
    message: 'bad request',
    retryable: false,
    httpStatus: 400,
    when: 'an admin request with a missing or invalid field, bad JSON, or a URL that cannot be parsed',
  }),
  Unauthorized: defineError({
    code: 'ANDON_OPS_UNAUTHORIZED',
    message: 'unauthorized: send "Authorization: Bearer <admin token>" (ANDON_ADMIN_TOKEN or <state dir>/admin-token)',
    retryable: false,
    httpStatus: 401,
    when: 'an admin route without the admin bearer token, or with a wrong one (`WWW-Authenticate: Bearer`)',
  }),
  NotFound: defineError({
    code: 'ANDON_OPS_NOT_FOUND',
    message: 'not found',
    retryable: false,
    httpStatus: 404,
    when: 'no such route (e.g. `/admin/alerts` when alerting is off), or an unknown component id',
  }),
  MethodNotAllowed: defineError({
    code: 'ANDON_OPS_METHOD_NOT_ALLOWED',
    message: 'method not allowed',
    retryable: false,
    httpStatus: 405,
    when: 'a known path with the wrong HTTP method',
  }),
  Conflict: defineError({
    code: 'ANDON_OPS_CONFLICT',
    message: 'conflict',
    retryable: true,
    httpStatus: 409,
    when: 'the operation conflicts with the node\'s current state',
  }),
  BodyTooLarge: defineError({
    code: 'ANDON_OPS_BODY_TOO_LARGE',
    message: 'body too large (limit 64 KiB)',
    retryable: false,
    httpStatus: 413,
    when: 'an admin request body over 64 KiB',
  }),
  Internal: defineError({
    code: 'ANDON_OPS_INTERNAL',
    message: 'internal error',
    retryable: true,
    httpStatus: 500,
    when: 'an ops route failed unexpectedly (logged on the node; the message never carries the stack)',
  }),
  Unavailable: defineError({
    code: 'ANDON_OPS_UNAVAILABLE',
    message: 'unavailable',
    retryable: true,
    httpStatus: 503,
    when: 'the ops route cannot answer now (the node is starting or stopping)',
  }),
} as const;

/** The entry for an HTTP status given as a number (`new OpsError(400, …)`); unknown 4xx → BadRequest, 5xx → Internal. */
export function opsErrorFor(status: number): ErrorDef {
  for (const def of Object.values(OpsErrors)) if (def.httpStatus === status) return def;
  return status >= 500 ? OpsErrors.Internal : OpsErrors.BadRequest;
}
