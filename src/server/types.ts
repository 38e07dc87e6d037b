/**
 * Public types of the server API. The wire shapes (MCP schemas of both eras) live in
 * `protocol/types.ts`; they are re-exported here so existing imports keep working.
 */
import type { SchemaInput, JsonSchema } from '../protocol/schema.js';
import type { Annotations, CallToolResult, GetPromptResult, Icon, PromptMessage, ReadResourceResult, ResourceContents, ToolAnnotations } from '../protocol/types.js';
import type { RequestContext } from './context.js';

export type {
  Icon,
  Implementation,
  Annotations,
  TextResourceContents,
  BlobResourceContents,
  ResourceContents,
  ContentBlock,
  CallToolResult,
  ToolAnnotations,
  ReadResourceResult,
  PromptMessage,
  GetPromptResult,
  LoggingLevel,
  ClientCapabilities,
  ElicitFormParams,
  ElicitUrlParams,
  ElicitResult,
  CreateMessageParams,
  CreateMessageResult,
  Root,
} from '../protocol/types.js';
export { LOG_LEVELS } from '../protocol/types.js';

/**
 * What a tool handler may return: a full result, a string (one text block), or, for a tool with
 * an output schema, the structured object itself (mirrored as a JSON text block).
 */
export type ToolReturn = CallToolResult | string | Record<string, unknown>;

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
  /** Feature flag gating this entry (src/flags): hidden from lists and refused for clients outside the flag's cohort. */
  flag?: string;
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
  /** Feature flag gating this entry (src/flags): hidden from lists and refused for clients outside the flag's cohort. */
  flag?: string;
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
  /** Feature flag gating this entry (src/flags): hidden from lists and refused for clients outside the flag's cohort. */
  flag?: string;
}

export type PromptReturn = GetPromptResult | PromptMessage[] | string;
export type PromptHandler = (args: Record<string, string>, ctx: RequestContext) => PromptReturn | Promise<PromptReturn>;
