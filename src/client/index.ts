/** andon-mcp client: connect to any MCP server over stdio or HTTP, in either protocol era. */
export { createClient, McpClient } from './client.js';
export type { ClientOptions, ClientTarget, ClientEvents } from './options.js';
export { CLIENT_SESSION_VERSIONS } from './lifecycle.js';
export { withDefaults } from './inbound.js';
export { ClientError, isClientError, isServerError, McpError, type ClientErrorCode } from './errors.js';
export { StreamableHttpTransport, type StreamableHttpOptions } from './http.js';
export { LegacySseTransport, type LegacySseOptions } from './legacy-sse.js';
export { WebSocketClientTransport, type WebSocketClientOptions } from './websocket.js';
export { StdioTransport, type StdioTransportOptions } from './stdio.js';
export { splitCommand } from './shell-split.js';
export { encodeHeaderValue, toolHeaderParams } from './headers.js';
export type { ReconnectOptions } from './backoff.js';
export { OAuthFlow, parseBearerChallenge, type OAuthOptions, type MachineGrant, type BearerChallenge } from './oauth.js';
export { signJwt } from './jwt.js';
export type { ClientTransport, TransportSink, SendContext } from './transport.js';
export type * from './types.js';
