/** andon-mcp: a production MCP runtime. */
export { createServer, McpServer, type ServerOptions, type RequestEvent, type RequestHook, type IncomingRequest } from './server/server.js';
export { RequestContext } from './server/context.js';
export { Session, Peer } from './server/session.js';
export * from './server/types.js';
export { serveHttp, StreamableHttpHandler, type HttpTransportOptions, type ServeHttpOptions, type HttpEndpoint } from './transports/streamable-http.js';
export { serveStdio, type StdioOptions, type StdioConnection } from './transports/stdio.js';
export { MemoryEventStore, type EventStore } from './transports/event-store.js';
export { McpError, ErrorCode } from './protocol/errors.js';
export { ALL_VERSIONS, SESSION_VERSIONS, STATELESS_VERSIONS, META } from './protocol/versions.js';
export { createLogger, nullLogger, type Logger } from './util/logger.js';
