/**
 * Catalogue section: local errors of the runtime, the server context and alerting — thrown to code
 * that embeds andon-mcp, never sent to an MCP peer as such.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Runtime, server and alerting local errors. */
export const RuntimeErrors = {
  ComponentHalted: defineError({
    code: 'ANDON_COMPONENT_HALTED',
    message: 'component is halted',
    retryable: true,
    when: 'a supervisor restart or operation targets a halted component (`HaltedError`; retry after `andon resume`)',
  }),
  UnknownComponent: defineError({
    code: 'ANDON_UNKNOWN_COMPONENT',
    message: 'unknown component',
    retryable: false,
    httpStatus: 404,
    when: 'an operation names a component id not in the tree (`UnknownComponentError`; admin API: 404)',
  }),
  MissingClientCapability: defineError({
    code: 'ANDON_MISSING_CLIENT_CAPABILITY',
    message: 'Client does not support this capability',
    retryable: false,
    when: '2025: a handler asked for elicitation, sampling or roots the client did not declare (`MissingClientCapabilityError`; the tool call becomes an `isError` result)',
  }),
  AlertConfig: defineError({
    code: 'ANDON_ALERT_CONFIG',
    message: 'invalid alerts configuration',
    retryable: false,
    when: 'the alerts configuration is invalid or holds a secret literal (`AlertConfigError`; the message names the key path)',
  }),
  DeliveryFailed: defineError({
    code: 'ANDON_ALERT_DELIVERY_FAILED',
    message: 'alert delivery failed',
    retryable: true,
    when: 'a channel could not deliver an alert for a reason a retry may fix: network error, timeout, HTTP 5xx or 429 (`DeliveryError`, `retryAfterMs` from `Retry-After`)',
  }),
  DeliveryRejected: defineError({
    code: 'ANDON_ALERT_DELIVERY_REJECTED',
    message: 'alert delivery rejected',
    retryable: false,
    when: 'a channel refused an alert for good: HTTP 4xx, bad credentials, a refused recipient (`DeliveryError`; no retry, the fallback channel is tried)',
  }),
  // Start failures and exactly-once journal outcomes (src/runtime).
  ListenFailed: defineError({
    code: 'ANDON_LISTEN_FAILED',
    message: 'Cannot listen',
    retryable: false,
    when: 'at start, the MCP or ops listener cannot bind its host:port (in use, no permission): `andon` exits with code 2, names host:port, and persists no halt',
  }),
  Interrupted: defineError({
    code: 'ANDON_INTERRUPTED',
    message: 'Request interrupted by a server restart and not replayed',
    retryable: false,
    wireCode: ErrorCode.Unavailable,
    when: 'a retried 2025 `tools/call` id whose side-effecting handler was running when the previous process died; `data.tool`, `data.requestId`; it may or may not have taken effect',
  }),
  SessionNotSaved: defineError({
    code: 'ANDON_SESSION_NOT_SAVED',
    message: 'The session change could not be made durable; retry',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    when: 'a 2025 `resources/subscribe` or `resources/unsubscribe` whose session record could not be written to the store before the answer (store failure): the JSON-RPC error (in an HTTP 200) says so with `data.retryAfterMs`; the change holds on this node only, a restart or another node would not see it; retry the request',
  }),
  InProgress: defineError({
    code: 'ANDON_IN_PROGRESS',
    message: 'The request is in progress on another node; retry the same id later',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'shared store: a retried 2025 `tools/call` id whose call is still running on another node (its node heartbeats), or whose node\'s liveness cannot be read now (`data.reason`: `in-progress`, `writer-unknown`); nothing ran or was recorded here; a retry of the same id after it finished gets its answer',
  }),
  JournalFailed: defineError({
    code: 'ANDON_JOURNAL_FAILED',
    message: 'The request could not be journaled; the tool did not run',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'the write-ahead record of a side-effecting `tools/call` could not be made durable (store failure), or, on a shared store, a retried id is claimed and its record cannot be read (store not answering); the handler was not started',
  }),
} as const;
