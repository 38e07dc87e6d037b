/** The capabilities a server declares, derived from what is registered. */
import type { Era } from '../protocol/versions.js';
import type { PromptEntry, ResourceEntry, TemplateEntry, ToolEntry } from './registry.js';

/** The era-independent capabilities (cache them; recompute when a registration changes). */
export function declaredCapabilities(tools: Map<string, ToolEntry>, resources: Map<string, ResourceEntry>, templates: TemplateEntry[], prompts: Map<string, PromptEntry>): Record<string, unknown> {
  const caps: Record<string, unknown> = { logging: {} };
  if (tools.size) caps.tools = { listChanged: true };
  if (resources.size || templates.length) caps.resources = { subscribe: true, listChanged: true };
  if (prompts.size) caps.prompts = { listChanged: true };
  let completions = false;
  for (const p of prompts.values()) if (p.completers.size) completions = true;
  for (const t of templates) if (t.options.complete) completions = true;
  if (completions) caps.completions = {};
  return caps;
}

/** `base` plus task support in the era's form (2025 `tasks`, 2026 the tasks extension) when a tool declares it. */
export function withTaskCapabilities(base: Record<string, unknown>, tools: Map<string, ToolEntry>, era: Era): Record<string, unknown> {
  const taskTools = [...tools.values()].some((t) => t.options.taskSupport && t.options.taskSupport !== 'forbidden');
  if (!taskTools) return base;
  if (era === '2025') return { ...base, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } };
  return { ...base, extensions: { 'io.modelcontextprotocol/tasks': {} } };
}
