/**
 * `completion/complete`: finds the completer of a prompt argument or a resource-template variable
 * and caps its answer at the 100 values the protocol allows, keeping the true total and hasMore.
 */
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import type { PromptEntry, ResourceEntry, TemplateEntry } from './registry.js';
import type { Completer } from './types.js';
import { handlerFailure } from './handler-errors.js';

export async function complete(
  prompts: Map<string, PromptEntry>,
  templates: TemplateEntry[],
  resources: Map<string, ResourceEntry>,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const ref = params.ref as Record<string, unknown> | undefined;
  const arg = params.argument as Record<string, unknown> | undefined;
  if (!ref || typeof ref !== 'object') throw invalidParams('ref', 'must be an object');
  if (!arg || typeof arg.name !== 'string' || typeof arg.value !== 'string') {
    throw invalidParams('argument', 'must be an object with string "name" and "value"');
  }
  const context = { arguments: ((params.context as Record<string, unknown> | undefined)?.arguments ?? {}) as Record<string, string> };
  let completer: Completer | undefined;
  // A name or uri that is not a string is refused before any message shows it: String() of a
  // client's {"toString":1} throws (the wire fuzzer's bare "Internal error").
  if (ref.type === 'ref/prompt') {
    if (typeof ref.name !== 'string') throw invalidParams('ref.name', 'must be a string');
    const p = prompts.get(ref.name);
    if (!p) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${String(ref.name)}`);
    completer = p.completers.get(arg.name);
  } else if (ref.type === 'ref/resource') {
    if (typeof ref.uri !== 'string') throw invalidParams('ref.uri', 'must be a string');
    const t = templates.find((x) => x.template.template === ref.uri);
    if (!t && !resources.has(ref.uri as string)) throw new McpError(ErrorCode.InvalidParams, `Unknown resource template: ${String(ref.uri)}`);
    completer = t?.options.complete?.[arg.name];
  } else {
    throw invalidParams('ref.type', 'must be "ref/prompt" or "ref/resource"');
  }
  if (!completer) return { completion: { values: [], hasMore: false } };
  let got: Awaited<ReturnType<Completer>>;
  try {
    got = await completer(arg.value, context);
    if (got === null || typeof got !== 'object' || !Array.isArray(Array.isArray(got) ? got : got.values)) throw new Error('the completer returned no list of values');
  } catch (err) {
    throw handlerFailure('completion', { name: `${String(ref.type)}:${String(ref.name ?? ref.uri)}.${arg.name}` }, err);
  }
  const list = Array.isArray(got) ? { values: got } : got;
  const values = list.values.slice(0, 100);
  const completion: Record<string, unknown> = { values };
  completion.total = list.total ?? list.values.length;
  completion.hasMore = list.hasMore ?? list.values.length > 100;
  return { completion };
}
