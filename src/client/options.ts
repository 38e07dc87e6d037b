/**
 * What a client is created with: the target to connect to, the options, and the events it emits.
 * Types only (and the default client info), so every layer of the client can import them.
 */
import type { JsonRpcNotification } from '../protocol/jsonrpc.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from '../protocol/types.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { ClientError } from './errors.js';
import type { StdioTransportOptions } from './stdio.js';
import type { ReconnectOptions } from './backoff.js';
import type { OAuthOptions } from './oauth.js';
import type { ClientTransport } from './transport.js';
import type { ElicitationHandler, RootsProvider, SamplingHandler, Task } from './types.js';

/** Where to connect. A string is a URL (`http(s)://…`, `ws(s)://…`) or a command line split as a shell would. */
export type ClientTarget =
  | string
  | URL
  | { url: string | URL; headers?: Record<string, string> }
  | ({ command: string; args?: string[] } & Partial<Omit<StdioTransportOptions, 'command' | 'args'>>)
  | { transport: ClientTransport };

/** Options of {@link createClient}. Every field is optional. */
export interface ClientOptions {
  /** Sent to the server. Default `{ name: 'andon-mcp-client', version: '0.1.0' }`. */
  clientInfo?: Implementation;
  /**
   * `auto` (default): try 2026-07-28 `server/discover`, fall back to 2025-11-25 `initialize` (the
   * server may answer with 2025-06-18, 2025-03-26 or 2024-11-05). A version string pins the era.
   */
  protocolVersion?: 'auto' | string;
  /** Answers sampling requests; declares the `sampling` capability. Default none. */
  sampling?: SamplingHandler;
  /**
   * Answers elicitation: one handler for form mode, or `{ form, url }` for either mode. Declares
   * the `elicitation` capability with the modes given. Default none.
   */
  elicitation?: ElicitationHandler | { form?: ElicitationHandler; url?: ElicitationHandler };
  /** Roots offered to the server; declares the `roots` capability. Default none. */
  roots?: RootsProvider;
  /** Extra capabilities to declare (e.g. `experimental`, `extensions`). */
  capabilities?: ClientCapabilities;
  /**
   * Declare the 2026 tasks extension on every request, so tools that may run as tasks do (and
   * `callTool` waits for them). Default false; `callToolAsTask` and the tasks methods declare it
   * on their own requests anyway.
   */
  tasks?: boolean;
  /** Per-request inactivity timeout, ms. Default 60,000. */
  timeoutMs?: number;
  /** Hard per-request limit even while progress arrives, ms. Default 600,000. */
  maxTotalTimeoutMs?: number;
  /** Restart the inactivity timeout on progress. Default true. */
  resetTimeoutOnProgress?: boolean;
  /** Timeout of the `server/discover` probe when the era is auto-detected, ms. Default 10,000. */
  discoverTimeoutMs?: number;
  /** 2026 multi-round-trip limit per call. Default 10. */
  maxInputRounds?: number;
  /** Validate `structuredContent` against `outputSchema`. Default true. */
  validateOutput?: boolean;
  /** Fill omitted fields of an accepted form elicitation from the schema's defaults (SEP-1034). Default true. */
  applyElicitationDefaults?: boolean;
  /** List tools before the first call when none are cached (for outputSchema and x-mcp-header). Default true. */
  prefetchTools?: boolean;
  /** Log level to ask for: logging/setLevel after initialize (2025), `_meta` on each request (2026). Default none. */
  logLevel?: LoggingLevel;
  /** Extra HTTP headers, e.g. `authorization`. Default none. */
  headers?: Record<string, string>;
  /**
   * OAuth 2.1 for HTTP servers that answer 401: discovery, registration, authorization code +
   * PKCE, refresh and step-up. Default none (a 401 fails with UNAUTHORIZED).
   */
  oauth?: OAuthOptions;
  /** Reconnect policy of the HTTP transports and 2026 listen streams. Defaults: see {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions;
  /** Try the 2024 HTTP+SSE transport when a server answers POST with 400/404/405. Default true. */
  legacySseFallback?: boolean;
  /** Logger for diagnostics (never stdout). Default: silent. */
  logger?: Logger;
  /** Time for request timeouts (reset by progress) and reconnect backoff. Default {@link systemClock}. */
  clock?: Clock;
}

/** Events of {@link McpClient}, with their payloads. */
export interface ClientEvents {
  /** Every notification the server sent, after the client handled it. */
  notification: [JsonRpcNotification];
  /** `notifications/message` from the server. */
  log: [{ level: LoggingLevel; logger?: string; data: unknown }];
  toolsListChanged: [];
  resourcesListChanged: [];
  promptsListChanged: [];
  /** A subscribed resource changed (2025 subscribe or 2026 listen). */
  resourceUpdated: [{ uri: string }];
  /** `notifications/tasks/status`. */
  taskStatus: [Task];
  /** `notifications/elicitation/complete` (URL mode). */
  elicitationComplete: [{ elicitationId: string }];
  /** The 2025 session expired (HTTP 404) and the client initialized a new one. */
  sessionReinitialized: [{ previousSessionId: string | undefined; sessionId: string | undefined }];
  /** A connection or stream is being retried. */
  reconnect: [Record<string, unknown>];
  /** Something went wrong that failed no call (an unknown response id, a dropped tool…). */
  warning: [{ code: string; message: string; [k: string]: unknown }];
  /** A chunk of the stdio server's stderr. */
  stderr: [string];
  /** The connection is gone; `error` says why unless `close()` was called. */
  close: [{ error?: ClientError }];
}

/** The `clientInfo` sent when none is given. */
export const DEFAULT_INFO: Implementation = { name: 'andon-mcp-client', version: '0.1.0' };
