/**
 * Errors thrown by resource, prompt and completion handlers. Like a tool's error, the handler's
 * own message reaches the client (a resource read has no `isError` result, so it is a -32603 error
 * response carrying the message, never the stack), and the failure is published for the logs on
 * `andon:handler:error` with the stack and the resource URI or prompt name.
 */
import { events, type HandlerErrorEvent } from '../events/index.js';
import { ErrorCode, McpError } from '../protocol/errors.js';

export type { HandlerErrorEvent };

/** `andon:handler:error` (in the one channel registry): request logging subscribes and writes an error line. */
export const handlerErrorChannel = events.handlerError;

const WHAT = { resource: 'Resource read', prompt: 'Prompt', completion: 'Completion' } as const;

/**
 * Turns what a handler threw into the error sent to the client. An McpError is the handler
 * choosing a protocol error on purpose and passes unchanged; anything else becomes -32603 with
 * the handler's message (`data.uri` / `data.name` say which), and is published for the logs.
 */
export function handlerFailure(kind: HandlerErrorEvent['kind'], where: { uri?: string; name?: string }, thrown: unknown): McpError {
  if (thrown instanceof McpError) return thrown;
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (handlerErrorChannel.hasSubscribers) handlerErrorChannel.publish({ kind, ...where, error });
  const subject = where.uri ?? where.name;
  const message = `${WHAT[kind]} failed${subject === undefined ? '' : ` (${subject})`}: ${error.message || error.name}`;
  return new McpError(ErrorCode.InternalError, message, where.uri !== undefined ? { uri: where.uri } : where.name !== undefined ? { name: where.name } : undefined);
}
