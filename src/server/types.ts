/** Public types of the server API. Wire shapes follow the MCP schemas of both eras. */
import type { SchemaInput, JsonSchema } from '../protocol/schema.js';
import type { RequestContext } from './context.js';

export interface Icon {
  src: string;
  mimeType?: string;
  sizes?: string[];
  theme?: 'light' | 'dark';
}

export interface Implementation {
  name: string;
  version: string;
  title?: string;
  description?: string;
  icons?: Icon[];
  websiteUrl?: string;
}

export interface Annotations {
  audience?: ('user' | 'assistant')[];
  priority?: number;
  lastModified?: string;
}

export type TextResourceContents = { uri: string; mimeType?: string; text: string; _meta?: Record<string, unknown> };
export type BlobResourceContents = { uri: string; mimeType?: string; blob: string; _meta?: Record<string, unknown> };
export type ResourceContents = TextResourceContents | BlobResourceContents;

export type ContentBlock =
  | { type: 'text'; text: string; annotations?: Annotations; _meta?: Record<string, unknown> }
  | { type: 'image'; data: string; mimeType: string; annotations?: Annotations; _meta?: Record<string, unknown> }
  | { type: 'audio'; data: string; mimeType: string; annotations?: Annotations; _meta?: Record<string, unknown> }
  | {
      type: 'resource_link';
      uri: string;
      name: string;
      title?: string;
      description?: string;
      mimeType?: string;
      size?: number;
      icons?: Icon[];
      annotations?: Annotations;
      _meta?: Record<string, unknown>;
    }
  | { type: 'resource'; resource: ResourceContents; annotations?: Annotations; _meta?: Record<string, unknown> };

export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/**
 * What a tool handler may return: a full result, a string (one text block), or, for a tool with
 * an output schema, the structured object itself (mirrored as a JSON text block).
 */
export type ToolReturn = CallToolResult | string | Record<string, unknown>;

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolOptions {
  title?: string;
  description?: string;
  /** zod 4 schema or JSON Schema for the arguments object. Default: any object. */
  inputSchema?: SchemaInput;
  /** zod 4 schema or JSON Schema for `structuredContent`. */
  outputSchema?: SchemaInput;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
  /** Task support (2025-11-25 experimental tasks). Default 'forbidden'. */
  taskSupport?: 'forbidden' | 'optional' | 'required';
  /** Safe to run twice: a call interrupted by a crash may be replayed. Default false. */
  idempotent?: boolean;
  /**
   * Runs with the request, before the handler, and may ask the user for input; its value is
   * `ctx.prepared` in the handler. For a task tool this is input gathered before the task exists
   * (2026: through input_required rounds), while the handler itself runs as the task.
   */
  prepare?: (args: any, ctx: RequestContext) => unknown;
}

export type ToolHandler<A = any> = (args: A, ctx: RequestContext) => ToolReturn | Promise<ToolReturn>;

export interface ToolDefinition {
  name: string;
  options: ToolOptions;
  handler: ToolHandler;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  /** The wire form of the tool, built once. */
  wire: Record<string, unknown>;
}

export interface ResourceOptions {
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  icons?: Icon[];
  annotations?: Annotations;
  _meta?: Record<string, unknown>;
}

export interface ReadResourceResult {
  contents: ResourceContents[];
  _meta?: Record<string, unknown>;
}

/** A resource reader may return a full result, a string (text contents) or one contents object. */
export type ResourceReturn = ReadResourceResult | string | ResourceContents;
export type ResourceReader = (uri: string, ctx: RequestContext) => ResourceReturn | Promise<ResourceReturn>;
export type TemplateReader = (
  uri: string,
  variables: Record<string, string>,
  ctx: RequestContext,
) => ResourceReturn | Promise<ResourceReturn>;

/** Completion callback: given the partial value (and other arguments already filled), suggest values. */
export type Completer = (
  value: string,
  context: { arguments: Record<string, string> },
) => string[] | Promise<string[]> | { values: string[]; total?: number; hasMore?: boolean };

export interface ResourceTemplateOptions extends ResourceOptions {
  /** Completion per template variable. */
  complete?: Record<string, Completer>;
  /** Lists concrete resources of this template for resources/list. */
  list?: () => Array<ResourceOptions & { uri: string }> | Promise<Array<ResourceOptions & { uri: string }>>;
}

export interface PromptArgument {
  name: string;
  title?: string;
  description?: string;
  required?: boolean;
  complete?: Completer;
}

export interface PromptOptions {
  title?: string;
  description?: string;
  arguments?: PromptArgument[];
  icons?: Icon[];
  _meta?: Record<string, unknown>;
}

export interface PromptMessage {
  role: 'user' | 'assistant';
  content: ContentBlock;
}

export interface GetPromptResult {
  description?: string;
  messages: PromptMessage[];
  _meta?: Record<string, unknown>;
}

export type PromptReturn = GetPromptResult | PromptMessage[] | string;
export type PromptHandler = (args: Record<string, string>, ctx: RequestContext) => PromptReturn | Promise<PromptReturn>;

export type LoggingLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

export const LOG_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export type ClientCapabilities = {
  roots?: { listChanged?: boolean };
  sampling?: Record<string, unknown>;
  elicitation?: { form?: Record<string, unknown>; url?: Record<string, unknown> };
  tasks?: Record<string, unknown>;
  experimental?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface ElicitFormParams {
  mode?: 'form';
  message: string;
  requestedSchema: JsonSchema;
}

export interface ElicitUrlParams {
  mode: 'url';
  message: string;
  url: string;
  elicitationId: string;
}

export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}

export interface CreateMessageParams {
  messages: Array<{ role: 'user' | 'assistant'; content: unknown }>;
  maxTokens: number;
  systemPrompt?: string;
  modelPreferences?: Record<string, unknown>;
  temperature?: number;
  stopSequences?: string[];
  includeContext?: 'none' | 'thisServer' | 'allServers';
  metadata?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface CreateMessageResult {
  role: 'user' | 'assistant';
  content: unknown;
  model: string;
  stopReason?: string;
  [k: string]: unknown;
}

export interface Root {
  uri: string;
  name?: string;
}
