/**
 * `prompts/get`: checks the arguments against the prompt's declared ones (required, strings
 * only), runs the handler and turns what it returned into a GetPromptResult.
 */
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import type { RequestContext } from './context.js';
import type { PromptEntry } from './registry.js';
import type { GetPromptResult, PromptReturn } from './types.js';
import { handlerFailure } from './handler-errors.js';

export async function getPrompt(prompts: Map<string, PromptEntry>, params: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
  const name = params.name;
  if (typeof name !== 'string') throw invalidParams('name', 'must be a string');
  const prompt = prompts.get(name);
  if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw invalidParams('arguments', 'must be an object');
  for (const a of prompt.options.arguments ?? []) {
    const v = args[a.name];
    if (a.required && (v === undefined || v === null)) throw invalidParams(`arguments.${a.name}`, 'is required');
    if (v !== undefined && typeof v !== 'string') throw invalidParams(`arguments.${a.name}`, 'must be a string');
  }
  let out: GetPromptResult;
  try {
    out = normalisePrompt(await prompt.handler(args as Record<string, string>, ctx));
  } catch (err) {
    throw handlerFailure('prompt', { name }, err);
  }
  if (prompt.options.description && out.description === undefined) out.description = prompt.options.description;
  return out as unknown as Record<string, unknown>;
}

function normalisePrompt(ret: PromptReturn): GetPromptResult {
  if (ret === null || (typeof ret !== 'string' && typeof ret !== 'object')) throw new Error(`the handler returned ${ret === null ? 'null' : typeof ret}, not a string, messages or a result`);
  if (typeof ret === 'string') return { messages: [{ role: 'user', content: { type: 'text', text: ret } }] };
  if (Array.isArray(ret)) return { messages: ret };
  return { ...ret };
}
