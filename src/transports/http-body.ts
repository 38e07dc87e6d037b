/**
 * The request side of Streamable HTTP before a message exists: reading a POST body within
 * `maxBodyBytes`, and the HTTP-level refusals ({@link HttpError}) with their JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { HttpErrors } from '../errors/http.js';
import type { Logger } from '../util/logger.js';

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** Thrown for HTTP-level refusals: status and JSON-RPC code come from its catalogue entry ({@link HttpErrors}). */
export class HttpError extends AndonError {
  constructor(
    def: ErrorDef,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(def, message);
    this.name = 'HttpError';
  }
}

/** Writes a JSON answer (or just ends a response whose headers already went out). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers whatever a request failed with before dispatch: an {@link HttpError} with its status, anything else 500. */
export function sendFailure(res: ServerResponse, err: unknown, log: Logger): void {
  if (err instanceof HttpError) {
    sendJson(res, err.httpStatus ?? 500, errorResponse(null, new McpError(err.wireCode ?? ErrorCode.InternalError, err.message)), err.headers);
    return;
  }
  log.error({ err }, 'unexpected error in HTTP transport');
  sendJson(res, 500, errorResponse(null, err));
}

/**
 * Reads a POST body of at most `maxBody` bytes and calls `onBody` with its text; a larger body
 * (declared or actual) is answered 413 at once and its connection closed instead of buffered.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBody: number, onBody: (text: string) => void): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBody) {
    return tooLarge(req, res, maxBody);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  req.on('data', (c: Buffer) => {
    if (aborted) return;
    size += c.length;
    if (size > maxBody) {
      aborted = true;
      chunks.length = 0;
      tooLarge(req, res, maxBody);
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (aborted) return;
    onBody(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', () => {
    aborted = true;
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse, maxBody: number): void {
  // Stop reading: answer now and close the connection instead of buffering the rest.
  req.pause();
  const body = JSON.stringify(errorResponse(null, new McpError(HttpErrors.PayloadTooLarge.wireCode, `Payload Too Large: the body exceeds the limit of ${maxBody} bytes`)));
  res.writeHead(HttpErrors.PayloadTooLarge.httpStatus, { ...JSON_HEADERS, connection: 'close', 'content-length': Buffer.byteLength(body) });
  res.end(body, () => req.socket.destroy());
}
