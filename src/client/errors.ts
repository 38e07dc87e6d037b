/**
 * Local errors of the MCP client. Two kinds of failure reach a caller:
 *
 * - {@link McpError} (shared with the server): the server answered with a JSON-RPC error object;
 *   `code` is the numeric wire code and `data` the server's data.
 * - {@link ClientError}: something went wrong on this side or on the wire (timeout, cancelled, a
 *   malformed or wrong-typed response, a dead process, an HTTP failure). `code` is a stable string
 *   that callers can switch on; `cause` carries the underlying error when there is one.
 */
import { McpError } from '../protocol/errors.js';

/** Stable codes of {@link ClientError}. */
export type ClientErrorCode =
  /** The request did not complete within its timeout (reset on progress) or its maximum total. */
  | 'TIMEOUT'
  /** The caller's AbortSignal fired; `notifications/cancelled` was sent where the era has it. */
  | 'ABORTED'
  /** The client is not connected yet, or was closed. */
  | 'NOT_CONNECTED'
  /** The connection could not be established (refused, DNS, TLS) after the bounded retries. */
  | 'CONNECTION_FAILED'
  /** The transport closed while the request was in flight. */
  | 'CONNECTION_CLOSED'
  /** The stdio server process exited (or could not be spawned) while the request was in flight. */
  | 'PROCESS_EXITED'
  /** The response stream ended before the response arrived and could not be resumed. */
  | 'STREAM_CLOSED'
  /** The server answered with an HTTP status that carries no JSON-RPC response. */
  | 'HTTP_ERROR'
  /** The server wants authorization (401/403) and none could be obtained (no `oauth` option, or the flow failed). */
  | 'UNAUTHORIZED'
  /** The bytes the server sent are not JSON, or not a JSON-RPC message. */
  | 'MALFORMED_RESPONSE'
  /** The response is JSON-RPC but its result does not have the shape the method requires. */
  | 'INVALID_RESULT'
  /** A tool's `structuredContent` does not match the tool's declared `outputSchema`. */
  | 'OUTPUT_SCHEMA_MISMATCH'
  /** No protocol version both sides speak. */
  | 'UNSUPPORTED_PROTOCOL_VERSION'
  /** The 2025 session expired (HTTP 404) and re-initializing did not help. */
  | 'SESSION_EXPIRED'
  /** A 2026 multi-round-trip request asked for input more often than `maxInputRounds`. */
  | 'INPUT_ROUNDS_EXCEEDED'
  /** The server asked for input (sampling, elicitation, roots) that no handler was given for. */
  | 'MISSING_HANDLER'
  /** The operation needs something the server or the negotiated era does not offer. */
  | 'UNSUPPORTED'
  /** The tool was excluded because its `x-mcp-header` annotations are invalid (2026). */
  | 'INVALID_TOOL'
  /** A task ended in `failed` or `cancelled` while waiting for it. */
  | 'TASK_FAILED'
  /** A bad argument to a client method (e.g. an unparsable command line). */
  | 'INVALID_ARGUMENT';

/** An error raised by the client itself, with a stable string `code`. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** HTTP status, when the failure came with one. */
  readonly status: number | undefined;
  /** Extra machine-readable detail (e.g. the failing tool name, the process exit code). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown; status?: number; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
  }
}

/** True for a {@link ClientError}, optionally of one code. */
export function isClientError(err: unknown, code?: ClientErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}

/** True for a JSON-RPC error answered by the server, optionally of one wire code. */
export function isServerError(err: unknown, code?: number): err is McpError {
  return err instanceof McpError && (code === undefined || err.code === code);
}

export { McpError };
