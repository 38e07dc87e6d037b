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
export { createRuntime, Runtime, EXIT, type RuntimeOptions, type DrainResult } from './runtime/runtime.js';
export { Supervisor, HaltedError, UnknownComponentError, type ChildSpec, type ChildHandle, type ChildLink, type ComponentInfo, type Strategy, type RestartType } from './runtime/supervisor.js';
export { HaltRegistry, type HaltRecord, type HaltKind } from './runtime/halt.js';
export { channels, type RequestEvent as RequestFinishedEvent, type SessionEvent, type ComponentEvent, type RestartEvent, type DrainEvent, type StoreEvent } from './runtime/events.js';
export { FileStore, type FileStoreOptions } from './store/file-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { Store, StoredEntry, QuarantineReport } from './store/store.js';
export { systemClock, TestClock, type Clock } from './util/clock.js';
