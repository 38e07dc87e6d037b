/**
 * Catalogue section: connection and session limits (`connections` and `limits` in the
 * configuration; enforced by the Streamable HTTP endpoint, `src/transports/http-limits.ts`, and
 * the `limits` admission stage). Refusals of new work carry `Retry-After`; a request over a
 * per-request bound (a URI too long, a session's subscriptions full) is the caller's to change.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Connection and session limit refusals. */
export const LimitErrors = {
  TooManyConnections: defineError({
    code: 'ANDON_TOO_MANY_CONNECTIONS',
    message: 'Service Unavailable: too many connections',
    retryable: true,
    httpStatus: 503,
    when: 'a new TCP connection beyond `connections.max`, or beyond `connections.maxPerClient` from one remote address, or while new connections are refused (degradation): answered with a raw `503` + `Retry-After` and closed',
  }),
  TooManySessions: defineError({
    code: 'ANDON_TOO_MANY_SESSIONS',
    message: 'Service Unavailable: too many sessions',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'an `initialize` beyond `limits.maxSessions`, or beyond `limits.maxSessionsPerClient` for one remote address, or while new sessions are refused (degradation); the message names the cap',
  }),
  TooManyStreams: defineError({
    code: 'ANDON_TOO_MANY_STREAMS',
    message: 'Service Unavailable: too many SSE streams',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'a GET stream or a 2026 `subscriptions/listen` beyond `limits.maxSseStreams` open SSE streams (a POST response that would become a stream at the cap stays JSON instead)',
  }),
  TooManySubscriptions: defineError({
    code: 'ANDON_TOO_MANY_SUBSCRIPTIONS',
    message: 'Invalid params: too many subscriptions in this session',
    retryable: false,
    wireCode: ErrorCode.InvalidParams,
    when: '`resources/subscribe` of a new URI when the session already holds `limits.maxSubscriptionsPerSession` subscriptions',
  }),
  TooManyListens: defineError({
    code: 'ANDON_TOO_MANY_LISTENS',
    message: 'Invalid Request: too many subscriptions/listen streams on this connection',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    when: 'a 2026 `subscriptions/listen` on a stdio, TCP, WebSocket or legacy SSE connection that already has 16 listens open or being admitted (`MAX_LISTENS_PER_CONNECTION`, src/transports/message-connection.ts); cancel one (notifications/cancelled naming its id) first',
  }),
  UriTooLong: defineError({
    code: 'ANDON_URI_TOO_LONG',
    message: 'Invalid params: URI too long',
    retryable: false,
    wireCode: ErrorCode.InvalidParams,
    when: 'a `params.uri` (resources/read, subscribe, unsubscribe) longer than `limits.maxUriLength`',
  }),
  TargetTooLong: defineError({
    code: 'ANDON_HTTP_TARGET_TOO_LONG',
    message: 'URI Too Long',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 414,
    when: 'an HTTP request target (path and query) longer than `limits.maxUriLength`',
  }),
  BodyBudget: defineError({
    code: 'ANDON_BODY_BUDGET',
    message: 'Service Unavailable: too many request bytes being read',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'reading this request body would take the bodies being read at once past `connections.maxBufferedBodyBytes`; the connection is closed after the answer',
  }),
} as const;
