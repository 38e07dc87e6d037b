/**
 * Catalogue section: refusals of the WebSocket, TCP and legacy HTTP+SSE transports
 * (`src/transports/websocket.ts`, `tcp.ts`, `legacy-sse.ts`). Bad messages inside a connection
 * get the same wire errors as stdio (-32700, -32600); these entries are about the connection
 * itself: who may open one, how many, and what happens to a peer that does not read.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** WebSocket, TCP and legacy SSE transport refusals. */
export const TransportErrors = {
  WsSubprotocol: defineError({
    code: 'ANDON_WS_SUBPROTOCOL',
    message: 'Bad Request: the WebSocket subprotocol must be "mcp"',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: 'a WebSocket upgrade whose `Sec-WebSocket-Protocol` does not offer `mcp` (the upgrade is answered 400 and closed)',
  }),
  WsMessageTooLarge: defineError({
    code: 'ANDON_WS_MESSAGE_TOO_LARGE',
    message: 'Message too big',
    retryable: false,
    when: 'a WebSocket frame over `maxBodyBytes`: the connection is closed with code 1009; other connections go on',
  }),
  WsBinaryFrame: defineError({
    code: 'ANDON_WS_BINARY_FRAME',
    message: 'Invalid Request: binary WebSocket frames are not accepted; send each JSON-RPC message as one text frame',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    when: 'a binary WebSocket frame: answered with this error (`id: null`); the connection stays open',
  }),
  WsPingTimeout: defineError({
    code: 'ANDON_WS_PING_TIMEOUT',
    message: 'WebSocket peer did not answer a ping',
    retryable: true,
    when: 'a WebSocket peer sent no pong within one `pingIntervalMs`: the connection is terminated and logged',
  }),
  Backpressure: defineError({
    code: 'ANDON_TRANSPORT_BACKPRESSURE',
    message: 'Peer is not reading: connection closed',
    retryable: true,
    when: 'more than `maxBufferedBytes` sit unsent on a WebSocket, TCP or legacy SSE connection: it is closed (WebSocket code 1008) and logged',
  }),
  TooManyConnections: defineError({
    code: 'ANDON_TRANSPORT_TOO_MANY_CONNECTIONS',
    message: 'Service Unavailable: too many connections',
    retryable: true,
    wireCode: ErrorCode.Unavailable,
    httpStatus: 503,
    when: 'a new WebSocket, TCP or legacy SSE connection past `maxConnections`: refused (503 on upgrade/GET; on TCP one error line, then closed)',
  }),
  SseSessionRequired: defineError({
    code: 'ANDON_SSE_SESSION_REQUIRED',
    message: 'Bad Request: sessionId query parameter required',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: 'legacy SSE: a POST to the messages endpoint without `?sessionId=`',
  }),
  SseSessionNotFound: defineError({
    code: 'ANDON_SSE_SESSION_NOT_FOUND',
    message: 'Not Found: no such SSE session',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 404,
    when: 'legacy SSE: a POST whose `sessionId` names no open SSE stream (closed, or never opened): the client opens a new stream',
  }),
  SsePayloadTooLarge: defineError({
    code: 'ANDON_SSE_PAYLOAD_TOO_LARGE',
    message: 'Payload Too Large',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 413,
    when: 'legacy SSE: a POST body over `maxBodyBytes`',
  }),
  SseParseError: defineError({
    code: 'ANDON_SSE_PARSE_ERROR',
    message: 'Parse error',
    retryable: false,
    wireCode: ErrorCode.ParseError,
    httpStatus: 400,
    when: 'legacy SSE: a POST body that is not JSON (JSON that is not a JSON-RPC message gets its -32600, also 400); nothing goes on the stream',
  }),
} as const;
