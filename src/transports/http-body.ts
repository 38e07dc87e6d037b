/**
 * The request side of Streamable HTTP before a message exists: reading a POST body within
 * `maxBodyBytes`, and the HTTP-level refusals ({@link HttpError}) with their JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from '../protocol/jsonrpc.js';
import { ErrorCode, McpError } from '../protocol/errors.js';
import { AndonError, type ErrorDef } from '../errors/catalogue.js';
import { HttpErrors } from '../errors/http.js';
import { LimitErrors } from '../errors/limits.js';
import { LIMIT_RETRY_AFTER_S } from './http-limits.js';
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

/** The global budget of body bytes being read ({@link HttpLimits}). */
export interface BodyBudget {
  /** Reserves `n` bytes; false when that would pass the budget. */
  takeBody(n: number): boolean;
  giveBody(n: number): void;
}

/**
 * Reads a POST body of at most `maxBody` bytes and calls `onBody` with its text; a larger body
 * (declared or actual) is answered 413 at once and its connection closed instead of buffered.
 * With a `budget`, the bytes being read count against it (a declared length up front, chunked
 * bodies as they arrive) until the body ends or fails; past the budget the answer is 503 +
 * Retry-After and the connection is closed.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBody: number, budget: BodyBudget | undefined, onBody: (text: string) => void): void {
  const declared = req.headers['content-length'];
  let reserved = 0;
  if (declared !== undefined) {
    const n = Number(declared);
    if (n > maxBody) return tooLarge(req, res, maxBody);
    if (budget !== undefined && n > 0) {
      if (!budget.takeBody(n)) return overBudget(req, res);
      reserved = n;
    }
  }
  const counted = budget !== undefined && declared === undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  const release = (): void => {
    if (reserved !== 0) budget!.giveBody(reserved);
    reserved = 0;
  };
  req.on('data', (c: Buffer) => {
    if (aborted) return;
    size += c.length;
    if (size > maxBody) {
      aborted = true;
      chunks.length = 0;
      release();
      tooLarge(req, res, maxBody);
      return;
    }
    if (counted) {
      if (!budget!.takeBody(c.length)) {
        aborted = true;
        chunks.length = 0;
        release();
        overBudget(req, res);
        return;
      }
      reserved += c.length;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (aborted) return;
    release();
    onBody(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', () => {
    aborted = true;
    release();
  });
}

/** Stops reading: answers now and closes the connection instead of buffering the rest. */
function refuseBody(req: IncomingMessage, res: ServerResponse, status: number, error: McpError, headers?: Record<string, string>): void {
  req.pause();
  const body = JSON.stringify(errorResponse(null, error));
  res.writeHead(status, { ...JSON_HEADERS, ...headers, connection: 'close', 'content-length': Buffer.byteLength(body) });
  res.end(body, () => req.socket.destroy());
}

function tooLarge(req: IncomingMessage, res: ServerResponse, maxBody: number): void {
  refuseBody(req, res, HttpErrors.PayloadTooLarge.httpStatus, new McpError(HttpErrors.PayloadTooLarge.wireCode, `Payload Too Large: the body exceeds the limit of ${maxBody} bytes`));
}

function overBudget(req: IncomingMessage, res: ServerResponse): void {
  const def = LimitErrors.BodyBudget;
  const message = 'Service Unavailable: too many request bytes are being read at once (connections.maxBufferedBodyBytes); retry shortly';
  refuseBody(req, res, def.httpStatus, new McpError(def.wireCode, message, { code: def.code, retryAfterMs: LIMIT_RETRY_AFTER_S * 1000 }), { 'retry-after': String(LIMIT_RETRY_AFTER_S) });
}
