/**
 * Catalogue section: refusals of the Streamable HTTP transport (`src/transports/streamable-http.ts`)
 * that happen before a request reaches the dispatcher — wrong path, method, headers, body or
 * session. The transport answers them with `httpStatus` and a JSON-RPC error of `wireCode`
 * (`id: null`); the message of each instance names what was wrong.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** HTTP transport refusals. */
export const HttpErrors = {
  NotFound: defineError({
    code: 'ANDON_HTTP_NOT_FOUND',
    message: 'Not found',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 404,
    when: 'a request to a path other than the MCP endpoint (default `/mcp`)',
  }),
  MethodNotAllowed: defineError({
    code: 'ANDON_HTTP_METHOD_NOT_ALLOWED',
    message: 'Method not allowed',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 405,
    when: 'an HTTP method other than GET, POST, DELETE; or GET/DELETE with protocol 2026-07-28 (`Allow` says what is)',
  }),
  MissingHost: defineError({
    code: 'ANDON_HTTP_MISSING_HOST',
    message: 'Bad Request: missing Host header',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: 'a request without a `Host` header while `allowedHosts` is enforced',
  }),
  HostForbidden: defineError({
    code: 'ANDON_HTTP_HOST_FORBIDDEN',
    message: 'Forbidden: Host is not allowed',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 403,
    when: 'the `Host` header is not in `allowedHosts` (DNS-rebinding protection)',
  }),
  OriginForbidden: defineError({
    code: 'ANDON_HTTP_ORIGIN_FORBIDDEN',
    message: 'Forbidden: Origin is not allowed',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 403,
    when: 'a browser `Origin` that is not localhost and not in `allowedOrigins`',
  }),
  UnsupportedMediaType: defineError({
    code: 'ANDON_HTTP_UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported Media Type: Content-Type must be application/json',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 415,
    when: 'a POST whose `Content-Type` is not `application/json`',
  }),
  NotAcceptable: defineError({
    code: 'ANDON_HTTP_NOT_ACCEPTABLE',
    message: 'Not Acceptable',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 406,
    when: 'a POST whose `Accept` does not list both `application/json` and `text/event-stream`, or a GET without `text/event-stream`',
  }),
  PayloadTooLarge: defineError({
    code: 'ANDON_HTTP_PAYLOAD_TOO_LARGE',
    message: 'Payload Too Large',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 413,
    when: 'a body over `maxBodyBytes` (default 4 MiB); the connection is closed after the answer',
  }),
  ParseError: defineError({
    code: 'ANDON_HTTP_PARSE_ERROR',
    message: 'Parse error',
    retryable: false,
    wireCode: ErrorCode.ParseError,
    httpStatus: 400,
    when: 'a POST body that is not JSON',
  }),
  SessionRequired: defineError({
    code: 'ANDON_HTTP_SESSION_REQUIRED',
    message: 'Bad Request: Mcp-Session-Id header is required',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: '2025: a request other than `initialize` without `Mcp-Session-Id`',
  }),
  SessionNotFound: defineError({
    code: 'ANDON_HTTP_SESSION_NOT_FOUND',
    message: 'Session not found',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 404,
    when: '2025: the `Mcp-Session-Id` names no live session (expired or deleted): the client initializes again',
  }),
  UnsupportedProtocolVersion: defineError({
    code: 'ANDON_HTTP_UNSUPPORTED_PROTOCOL_VERSION',
    message: 'Bad Request: unsupported MCP-Protocol-Version',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: '2025: an `MCP-Protocol-Version` header that is not a session-era version',
  }),
  ShuttingDown: defineError({
    code: 'ANDON_HTTP_SHUTTING_DOWN',
    message: 'Server is shutting down',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the transport is closing (after drain); `Retry-After: 5`',
  }),
  NotAccepting: defineError({
    code: 'ANDON_HTTP_NOT_ACCEPTING',
    message: 'Service Unavailable: the server is not accepting requests',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'a new GET stream while the transport refuses new work (drain, halt); `Retry-After: 5`',
  }),
  UnknownLastEventId: defineError({
    code: 'ANDON_HTTP_UNKNOWN_EVENT_ID',
    message: 'Unknown Last-Event-ID for this session',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 404,
    when: '2025: a GET resuming with a `Last-Event-ID` of another session',
  }),
  SessionStoreUnavailable: defineError({
    code: 'ANDON_HTTP_SESSION_STORE_UNAVAILABLE',
    message: 'Service Unavailable: the shared session store cannot be read',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'nodes on a shared store (Redis): a request for a session this node does not hold while the store does not answer; `Retry-After: 1`',
  }),
  StreamConflict: defineError({
    code: 'ANDON_HTTP_STREAM_CONFLICT',
    message: 'Conflict: this session already has an open GET stream',
    retryable: true,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 409,
    when: '2025: a second standalone GET stream for a session whose stream is still open',
  }),
} as const;
