/**
 * Catalogue section: refusals of hostile or broken input on the wire (JSON depth, unread SSE
 * streams, request targets the ops listener cannot parse).
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

export const WireErrors = {
  JsonTooDeep: defineError({
    code: 'ANDON_JSON_TOO_DEEP',
    message: 'JSON nests deeper than the limit',
    retryable: false,
    wireCode: ErrorCode.InvalidRequest,
    httpStatus: 400,
    when: 'a message nests arrays/objects deeper than `MAX_JSON_DEPTH` (64); `data.limit` names the limit',
  }),
  SseBacklog: defineError({
    code: 'ANDON_SSE_BACKLOG',
    message: 'SSE stream dropped: the client is not reading',
    retryable: true,
    when: 'more than `maxStreamBufferBytes` (4 MiB) of an SSE stream sit unread in the socket: the connection is closed and logged; the client resumes with `Last-Event-ID`',
  }),
  BadUrl: defineError({
    code: 'ANDON_BAD_URL',
    message: 'Bad request URL',
    retryable: false,
    httpStatus: 400,
    when: 'the ops listener got a request target it cannot parse or decode (e.g. `%E0%A4%A`, `//[`)',
  }),
} as const;
