/**
 * Registered tools, resources, templates and prompts. Maps keep insertion order, which gives the
 * deterministic tool order the 2026 revision asks for. Wire forms are built once at registration.
 */
import { toJsonSchema, lazyValidator, type Validator, type JsonSchema } from '../protocol/schema.js';
import { UriTemplate } from './uri-template.js';
import type {
  Completer,
  PromptHandler,
  PromptOptions,
  ResourceOptions,
  ResourceReader,
  ResourceTemplateOptions,
  TemplateReader,
  ToolHandler,
  ToolOptions,
} from './types.js';

export interface ToolEntry {
  name: string;
  options: ToolOptions;
  handler: ToolHandler;
  wire: Record<string, unknown>;
  validateInput: Validator | null;
  validateOutput: Validator | null;
  /** 2026 `x-mcp-header` parameters: [argument, header suffix]. */
  headerParams: Array<[string, string]> | undefined;
}

export interface ResourceEntry {
  uri: string;
  options: ResourceOptions;
  read: ResourceReader;
  wire: Record<string, unknown>;
}

export interface TemplateEntry {
  template: UriTemplate;
  options: ResourceTemplateOptions;
  read: TemplateReader;
  wire: Record<string, unknown>;
}

export interface PromptEntry {
  name: string;
  options: PromptOptions;
  handler: PromptHandler;
  wire: Record<string, unknown>;
  completers: Map<string, Completer>;
}

function pick(src: object, keys: readonly string[], into: Record<string, unknown>): Record<string, unknown> {
  for (const k of keys) {
    const v = (src as Record<string, unknown>)[k];
    if (v !== undefined) into[k] = v;
  }
  return into;
}

/** Builds a tool entry; schemas are converted now and compiled on first call. */
export function makeTool(name: string, options: ToolOptions, handler: ToolHandler): ToolEntry {
  const inputSchema = toJsonSchema(options.inputSchema, { type: 'object' });
  if (inputSchema.type !== 'object') throw new TypeError(`Tool "${name}": inputSchema must describe an object (type: "object")`);
  const outputSchema = options.outputSchema ? toJsonSchema(options.outputSchema) : undefined;
  const wire: Record<string, unknown> = { name };
  pick(options, ['title', 'description'], wire);
  wire.inputSchema = inputSchema;
  if (outputSchema) wire.outputSchema = outputSchema;
  pick(options, ['annotations', 'icons', '_meta'], wire);
  if (options.taskSupport && options.taskSupport !== 'forbidden') wire.execution = { taskSupport: options.taskSupport };
  // A schema that accepts any object needs no validator at all: skip it on the hot path.
  const trivial = Object.keys(inputSchema).length === 1 || (inputSchema.properties === undefined && inputSchema.required === undefined && inputSchema.additionalProperties === undefined);
  return {
    name,
    options,
    handler,
    wire,
    validateInput: trivial ? null : lazyValidator(inputSchema, 'arguments'),
    validateOutput: outputSchema ? lazyValidator(outputSchema, 'structuredContent') : null,
    headerParams: headerParamsOf(inputSchema),
  };
}

function headerParamsOf(schema: JsonSchema): Array<[string, string]> | undefined {
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!props) return undefined;
  const out: Array<[string, string]> = [];
  for (const [name, p] of Object.entries(props)) {
    const h = p?.['x-mcp-header'];
    if (typeof h === 'string' && /^[A-Za-z0-9-]+$/.test(h)) out.push([name, h]);
  }
  return out.length ? out : undefined;
}

export function makeResource(uri: string, options: ResourceOptions, read: ResourceReader): ResourceEntry {
  const wire: Record<string, unknown> = { uri, name: options.name ?? uri };
  pick(options, ['title', 'description', 'mimeType', 'size', 'icons', 'annotations', '_meta'], wire);
  return { uri, options, read, wire };
}

export function makeTemplate(template: string, options: ResourceTemplateOptions, read: TemplateReader): TemplateEntry {
  const wire: Record<string, unknown> = { uriTemplate: template, name: options.name ?? template };
  pick(options, ['title', 'description', 'mimeType', 'icons', 'annotations', '_meta'], wire);
  return { template: new UriTemplate(template), options, read, wire };
}

export function makePrompt(name: string, options: PromptOptions, handler: PromptHandler): PromptEntry {
  const wire: Record<string, unknown> = { name };
  pick(options, ['title', 'description'], wire);
  const completers = new Map<string, Completer>();
  if (options.arguments?.length) {
    wire.arguments = options.arguments.map((a) => {
      if (a.complete) completers.set(a.name, a.complete);
      return pick(a, ['name', 'title', 'description', 'required'], {});
    });
  }
  pick(options, ['icons', '_meta'], wire);
  return { name, options, handler, wire, completers };
}
