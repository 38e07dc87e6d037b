/**
 * Wire errors: the JSON-RPC and MCP error codes that travel to the peer. Local, programmer-facing
 * errors live in `src/util/errors.ts` with stable string codes; the two stay separate so a local
 * failure never leaks its internals onto the wire by accident.
 */

/** JSON-RPC 2.0 and MCP error codes, for both eras. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** 2025-11-25: resource not found (2026 uses -32602). */
  ResourceNotFound: -32002,
  /** 2025-11-25: the server needs the user to complete a URL elicitation first. */
  UrlElicitationRequired: -32042,
  /** 2026-07-28: HTTP headers disagree with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability that was not declared. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the request's protocol version is not supported. */
  UnsupportedProtocolVersion: -32022,
  /** andon-mcp: the server or the component is halted or draining (server-defined range). */
  Unavailable: -32001,
} as const;

/** An error that is sent to the peer as a JSON-RPC error object. */
export class McpError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'McpError';
    this.code = code;
    this.data = data;
  }

  /**
   * Converts anything thrown into a wire error. Only McpError keeps its message; other errors
   * become -32603 "Internal error" so stack traces and internals never reach a client.
   */
  static from(err: unknown): McpError {
    if (err instanceof McpError) return err;
    return new McpError(ErrorCode.InternalError, 'Internal error');
  }
}

/** -32602 naming the offending field, e.g. `invalidParams('name', 'must be a string')`. */
export function invalidParams(field: string, problem: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Invalid params: "${field}" ${problem}`);
}
