/**
 * Public types of the client API. Content, results and the shapes a server asks the client for
 * (sampling, elicitation, roots) are the same wire types the server side uses, imported from
 * protocol/types rather than declared twice.
 */
import type { JsonSchema } from '../protocol/schema.js';
import type { Era } from '../protocol/versions.js';
import type { Annotations, CreateMessageParams, CreateMessageResult, ElicitFormParams, ElicitResult, ElicitUrlParams, Icon, Implementation, Root, ToolAnnotations } from '../protocol/types.js';

export type { JsonSchema, Era };
export type {
  Annotations,
  CallToolResult,
  ContentBlock,
  CreateMessageParams,
  CreateMessageResult,
  ElicitFormParams,
  ElicitResult,
  ElicitUrlParams,
  GetPromptResult,
  Icon,
  Implementation,
  LoggingLevel,
  ReadResourceResult,
  ResourceContents,
  Root,
  ToolAnnotations,
} from '../protocol/types.js';

/** A tool as listed by the server. */
export interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  /** 2025-11-25 tasks: whether the tool may or must run as a task. */
  execution?: { taskSupport?: 'forbidden' | 'optional' | 'required' };
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A concrete resource. */
export interface Resource {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A resource template such as `weather://{city}/current`. */
export interface ResourceTemplate {
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A prompt the server offers. */
export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: Array<{ name: string; title?: string; description?: string; required?: boolean }>;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The result of completion/complete. */
export interface Completion {
  values: string[];
  total?: number;
  hasMore?: boolean;
}

/** A reference for completion/complete. */
export type CompletionRef = { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };

/** Task status (2025-11-25 experimental tasks; the 2026 tasks extension). */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A task handle. */
export interface Task {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
  pollInterval?: number;
  [k: string]: unknown;
}

/** What the server said about itself once connected. */
export interface ServerSummary {
  /** `2026` (stateless, server/discover) or `2025` (initialize and a session). */
  era: Era;
  /** The protocol revision in use, e.g. `2026-07-28` or `2025-11-25`. */
  protocolVersion: string;
  serverInfo: Implementation | undefined;
  capabilities: Record<string, any>;
  instructions: string | undefined;
  /** `http`, `sse` (2024 HTTP+SSE fallback) or `stdio`. */
  transport: 'http' | 'sse' | 'stdio' | 'websocket';
  /** The 2025 HTTP session id, if the server issued one. */
  sessionId: string | undefined;
}

/** A progress notification for one request. */
export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** Options every request accepts. */
export interface RequestOptions {
  /** Cancels the request: the call rejects with `ABORTED` and the server is told. */
  signal?: AbortSignal;
  /** Inactivity timeout, ms. Default: the client's `timeoutMs` (60,000). */
  timeoutMs?: number;
  /** Hard limit even while progress keeps arriving, ms. Default: the client's `maxTotalTimeoutMs` (600,000). */
  maxTotalTimeoutMs?: number;
  /** Restart the inactivity timeout on each progress notification. Default: the client's setting (true). */
  resetTimeoutOnProgress?: boolean;
  /** Receives `notifications/progress` for this request (asks for them with a progress token). */
  onProgress?: (progress: Progress) => void;
  /** Extra `_meta` entries for the request (e.g. `traceparent`). */
  meta?: Record<string, unknown>;
}

/** Options of `callTool`. */
export interface CallToolOptions extends RequestOptions {
  /** Validate `structuredContent` against the tool's `outputSchema`. Default: the client's `validateOutput` (true). */
  validateOutput?: boolean;
}

/** The context passed to sampling, elicitation and roots handlers. */
export interface HandlerContext {
  /** Aborted when the server cancels its request (2025) or the originating call ends. */
  signal: AbortSignal;
  /** The era of the request that asked. */
  era: Era;
  /** The key of the 2026 `inputRequests` entry being answered, if any. */
  inputKey?: string;
}

/** Answers `sampling/createMessage`. */
export type SamplingHandler = (params: CreateMessageParams, ctx: HandlerContext) => CreateMessageResult | Promise<CreateMessageResult>;

/** Answers `elicitation/create` (form mode gets `requestedSchema`, url mode gets `url`). */
export type ElicitationHandler = (params: ElicitFormParams | ElicitUrlParams, ctx: HandlerContext) => ElicitResult | Promise<ElicitResult>;

/** The roots the client exposes: a list, or a function producing it on each `roots/list`. */
export type RootsProvider = Root[] | (() => Root[] | Promise<Root[]>);

/** A resource subscription (2025 resources/subscribe) or a 2026 `subscriptions/listen` stream. */
export interface Subscription {
  /** What the server agreed to send (2026 ack; in 2025 what was asked for). */
  readonly notifications: SubscriptionFilter;
  /** Ends the subscription. */
  close(): Promise<void>;
}

/** What a `subscriptions/listen` stream asks for. */
export interface SubscriptionFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** A notification delivered to a subscription. */
export interface SubscriptionNotification {
  method: string;
  params: Record<string, unknown>;
}
