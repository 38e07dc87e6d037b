/**
 * Catalogue section: refusals of the OAuth 2.1 resource server (`src/auth/`). A request without a
 * valid bearer token is `ANDON_UNAUTHENTICATED` (401, core catalogue); these are the rest. Over
 * HTTP each carries a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3) naming the protected
 * resource metadata document (RFC 9728).
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Resource-server refusals and start failures. */
export const AuthErrors = {
  ForbiddenScope: defineError({
    code: 'ANDON_FORBIDDEN_SCOPE',
    message: 'Forbidden: the token lacks a required scope',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 403,
    when: 'a valid token without a scope the tool, resource or prompt requires (`auth.scopes`); `WWW-Authenticate` says `error="insufficient_scope"` and names the scopes',
  }),
  Unavailable: defineError({
    code: 'ANDON_AUTH_UNAVAILABLE',
    message: 'Service Unavailable: the authorization server cannot be reached to validate the token',
    retryable: true,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 503,
    when: 'the JWKS or the introspection endpoint did not answer (or answered an error) while a token was being validated',
  }),
  SessionMismatch: defineError({
    code: 'ANDON_SESSION_SUBJECT_MISMATCH',
    message: 'Session not found',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 404,
    when: 'a 2025 `Mcp-Session-Id` opened under another token subject (a session is bound to the `sub` that opened it); answered like an unknown session',
  }),
  Misconfigured: defineError({
    code: 'ANDON_AUTH_CONFIG',
    message: 'The OAuth resource server is misconfigured',
    retryable: false,
    when: 'at start: `auth` is enabled without an issuer, or an introspection credential variable it names is not set',
  }),
} as const;
