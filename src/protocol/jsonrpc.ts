/**
 * JSON-RPC 2.0 framing for MCP. One parse per message, then a cheap structural classification:
 * the hot path never re-serialises or deep-validates an envelope.
 */
import { ErrorCode, McpError } from './errors.js';
import { AndonError } from '../errors/catalogue.js';
import { WireErrors } from '../errors/wire.js';

/**
 * Deepest nesting of arrays and objects accepted in one decoded message. Default 64: generous for
 * any real MCP payload (schemas, capabilities, arguments), while a 100k-deep value — which
 * `JSON.parse` accepts but `JSON.stringify` (persistence, logging, replay) then throws on — is
 * refused at the door with {@link WireErrors.JsonTooDeep}.
 */
export const MAX_JSON_DEPTH = 64;

/** A JSON-RPC id: a string or an integer, never null (MCP forbids null ids). */
export type RequestId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcResultResponse {
  jsonrpc: '2.0';
  id: RequestId;
  result: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id?: RequestId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcResultResponse | JsonRpcErrorResponse;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** The outcome of classifying one decoded JSON value. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; id: RequestId | null; error: McpError };

function isId(v: unknown): v is RequestId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
}

/**
 * Decodes text into a JSON value. Throws {@link McpError} -32700 with the parser's own message,
 * so a client learns where its JSON broke, or -32600 ({@link WireErrors.JsonTooDeep}) when arrays and
 * objects nest deeper than `maxDepth` (default {@link MAX_JSON_DEPTH}).
 */
export function decodeJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new McpError(ErrorCode.ParseError, `Parse error: ${(err as Error).message}`);
  }
  // Nesting past the limit needs more than 2 × limit characters: short messages skip the walk.
  if (text.length > maxDepth * 2 && depthExceeds(value, maxDepth)) {
    throw tooDeep(maxDepth);
  }
  return value;
}

/**
 * True when arrays/objects in `value` nest deeper than `max` levels. A walk of the parsed value
 * that stops at the limit: about 5% of the JSON.parse time of a typical request (a text scan
 * that skips strings measured 30%), and never deeper than `max` frames.
 */
export function depthExceeds(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (depthExceeds(value[i], max - 1)) return true;
    return false;
  }
  for (const k in value) if (depthExceeds((value as Record<string, unknown>)[k], max - 1)) return true;
  return false;
}

/**
 * Classifies a decoded value as a request, notification or response, or says precisely why it is
 * none of them (-32600 Invalid Request). A batch array is invalid: batching was removed from MCP
 * in 2025-06-18.
 */
export function classify(value: unknown): Classified {
  if (Array.isArray(value)) {
    return invalid(null, 'Invalid Request: JSON-RPC batches are not supported by MCP; send one message per request');
  }
  if (value === null || typeof value !== 'object') {
    return invalid(null, `Invalid Request: expected a JSON-RPC object, got ${value === null ? 'null' : typeof value}`);
  }
  const m = value as Record<string, unknown>;
  const rawId = m.id;
  const id = isId(rawId) ? rawId : null;
  if (m.jsonrpc !== '2.0') return invalid(id, 'Invalid Request: "jsonrpc" must be exactly "2.0"');
  const method = m.method;
  if (method !== undefined) {
    if (typeof method !== 'string' || method.length === 0) {
      return invalid(id, 'Invalid Request: "method" must be a non-empty string');
    }
    const params = m.params;
    if (params !== undefined) {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        return invalid(id, 'Invalid Request: "params" must be an object when present');
      }
      // Everything downstream (era detection, tracing, progress, log level) reads `_meta` as an
      // object: a null or scalar one is refused here, once, rather than defended everywhere.
      const meta = (params as Record<string, unknown>)._meta;
      if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) {
        return { kind: 'invalid', id, error: new McpError(ErrorCode.InvalidParams, `Invalid params: "params._meta" must be an object when present, got ${meta === null ? 'null' : Array.isArray(meta) ? 'an array' : typeof meta}`) };
      }
    }
    if ('id' in m) {
      if (!isId(rawId)) return invalid(null, 'Invalid Request: "id" must be a string or an integer (null is not allowed)');
      return { kind: 'request', message: m as unknown as JsonRpcRequest };
    }
    return { kind: 'notification', message: m as unknown as JsonRpcNotification };
  }
  if ('result' in m || 'error' in m) {
    if ('result' in m) {
      if (!isId(rawId)) return invalid(null, 'Invalid Request: a response must carry the id of its request');
      if (m.result === null || typeof m.result !== 'object') return invalid(id, 'Invalid Request: "result" must be an object');
      return { kind: 'response', message: m as unknown as JsonRpcResponse };
    }
    const e = m.error as Record<string, unknown> | null;
    if (!e || typeof e !== 'object' || typeof e.code !== 'number' || typeof e.message !== 'string') {
      return invalid(id, 'Invalid Request: "error" must be an object with a numeric "code" and a string "message"');
    }
    return { kind: 'response', message: m as unknown as JsonRpcResponse };
  }
  return invalid(id, 'Invalid Request: a message needs "method" (request or notification) or "result"/"error" (response)');
}

/**
 * Decodes and classifies one message text: {@link decodeJson} then {@link classify}, with a parse
 * error or a nesting-limit refusal returned as `invalid` (the latter keeps the request's id, so
 * the client can match the refusal to its request). Never throws.
 */
export function decodeMessage(text: string, maxDepth = MAX_JSON_DEPTH): Classified {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', id: null, error: new McpError(ErrorCode.ParseError, `Parse error: ${(err as Error).message}`) };
  }
  if (text.length > maxDepth * 2 && depthExceeds(value, maxDepth)) {
    const rawId = (value as { id?: unknown } | null)?.id;
    return { kind: 'invalid', id: isId(rawId) ? rawId : null, error: tooDeep(maxDepth) };
  }
  return classify(value);
}

function tooDeep(maxDepth: number): McpError {
  return new AndonError(WireErrors.JsonTooDeep, `Invalid Request: JSON nests deeper than the limit of ${maxDepth} levels`, { limit: maxDepth }).toMcpError();
}

function invalid(id: RequestId | null, message: string): Classified {
  return { kind: 'invalid', id, error: new McpError(ErrorCode.InvalidRequest, message) };
}

/** Builds a success response envelope. */
export function resultResponse(id: RequestId, result: Record<string, unknown>): JsonRpcResultResponse {
  return { jsonrpc: '2.0', id, result };
}

/** Builds an error response envelope from any thrown value, hiding internals of non-MCP errors. */
export function errorResponse(id: RequestId | null | undefined, err: unknown): JsonRpcErrorResponse {
  const e = McpError.from(err);
  const error: JsonRpcErrorObject = { code: e.code, message: e.message };
  if (e.data !== undefined) error.data = e.data;
  // MCP's schema makes `id` optional rather than null when the request id is unknown (-32700 etc.).
  return id === undefined || id === null ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error };
}
