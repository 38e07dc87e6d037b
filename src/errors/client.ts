/**
 * Catalogue section: the MCP client's `ClientError` codes (`src/client/errors.ts`). They keep the
 * unprefixed form they were released with (`TIMEOUT`, …), so `scope: 'client'`. `ClientErrorCode`
 * is derived from this table.
 */
import { defineError } from './catalogue.js';

function client(code: string, retryable: boolean, when: string) {
  return defineError({ code, message: when, retryable, when, scope: 'client' });
}

/** Client error entries, keyed by their public code. */
export const ClientErrors = {
  TIMEOUT: client('TIMEOUT', true, 'the request did not complete within its timeout (reset on progress) or its maximum total'),
  ABORTED: client('ABORTED', false, "the caller's AbortSignal fired; `notifications/cancelled` was sent where the era has it"),
  NOT_CONNECTED: client('NOT_CONNECTED', false, 'the client is not connected yet, or was closed'),
  CONNECTION_FAILED: client('CONNECTION_FAILED', true, 'the connection could not be established (refused, DNS, TLS) after the bounded retries'),
  CONNECTION_CLOSED: client('CONNECTION_CLOSED', true, 'the transport closed while the request was in flight'),
  PROCESS_EXITED: client('PROCESS_EXITED', false, 'the stdio server process exited (or could not be spawned) during the request'),
  STREAM_CLOSED: client('STREAM_CLOSED', true, 'the response stream ended before the response and could not be resumed'),
  HTTP_ERROR: client('HTTP_ERROR', false, 'the server answered with an HTTP status that carries no JSON-RPC response'),
  UNAUTHORIZED: client('UNAUTHORIZED', false, 'the server wants authorization (401/403) and none could be obtained'),
  MALFORMED_RESPONSE: client('MALFORMED_RESPONSE', false, 'the server sent bytes that are not JSON, or not a JSON-RPC message'),
  INVALID_RESULT: client('INVALID_RESULT', false, 'a result of the wrong shape for its method (e.g. a repeated pagination cursor)'),
  OUTPUT_SCHEMA_MISMATCH: client('OUTPUT_SCHEMA_MISMATCH', false, "a tool's `structuredContent` does not match its declared `outputSchema`"),
  UNSUPPORTED_PROTOCOL_VERSION: client('UNSUPPORTED_PROTOCOL_VERSION', false, 'no protocol version in common with the server'),
  SESSION_EXPIRED: client('SESSION_EXPIRED', true, 'the 2025 session expired (HTTP 404) and re-initializing did not help'),
  INPUT_ROUNDS_EXCEEDED: client('INPUT_ROUNDS_EXCEEDED', false, 'a 2026 request still wanted input after `maxInputRounds` rounds'),
  MISSING_HANDLER: client('MISSING_HANDLER', false, 'the server asked for sampling, elicitation or roots and no handler is set'),
  UNSUPPORTED: client('UNSUPPORTED', false, 'the server or the negotiated era does not offer the operation'),
  INVALID_TOOL: client('INVALID_TOOL', false, 'the tool was excluded for invalid `x-mcp-header` annotations (2026)'),
  TASK_FAILED: client('TASK_FAILED', false, 'a task ended `failed` or `cancelled` while waiting for it'),
  INVALID_ARGUMENT: client('INVALID_ARGUMENT', false, 'a bad argument to a client method (e.g. an unparsable command line)'),
} as const;

/** Stable codes of `ClientError`. */
export type ClientErrorCode = keyof typeof ClientErrors;
