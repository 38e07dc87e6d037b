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
import { AndonError } from '../errors/catalogue.js';
import { ClientErrors, type ClientErrorCode } from '../errors/client.js';

/** Stable codes of {@link ClientError}: the keys of the catalogue's client section (docs/errors.md). */
export type { ClientErrorCode };

/**
 * An error raised by the client itself, with a stable string `code`; `retryable` comes from the
 * catalogue entry of that code.
 */
export class ClientError extends AndonError {
  declare readonly code: ClientErrorCode;
  /** HTTP status, when the failure came with one. */
  readonly status: number | undefined;
  /** Extra machine-readable detail (e.g. the failing tool name, the process exit code). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown; status?: number; details?: Record<string, unknown> } = {}) {
    super(ClientErrors[code], message, {}, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
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
