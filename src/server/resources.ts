/**
 * `resources/read`: an exact URI first, then the templates in registration order; whatever the
 * reader returned becomes a ReadResourceResult.
 */
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import type { Era } from '../protocol/versions.js';
import type { RequestContext } from './context.js';
import type { ResourceEntry, TemplateEntry } from './registry.js';
import type { ResourceReturn } from './types.js';
import { handlerFailure } from './handler-errors.js';

export async function readResource(
  resources: Map<string, ResourceEntry>,
  templates: TemplateEntry[],
  params: Record<string, unknown>,
  ctx: RequestContext,
  era: Era,
): Promise<Record<string, unknown>> {
  const uri = params.uri;
  if (typeof uri !== 'string') throw invalidParams('uri', 'must be a string');
  const exact = resources.get(uri);
  try {
    if (exact) return normaliseResource(await exact.read(uri, ctx), uri, exact.options.mimeType);
    for (const t of templates) {
      const vars = t.template.match(uri);
      if (vars) return normaliseResource(await t.read(uri, vars, ctx), uri, t.options.mimeType);
    }
  } catch (err) {
    throw handlerFailure('resource', { uri }, err);
  }
  const code = era === '2026' ? ErrorCode.InvalidParams : ErrorCode.ResourceNotFound;
  throw new McpError(code, `Resource not found: ${uri}`, { uri });
}

function normaliseResource(ret: ResourceReturn, uri: string, mimeType: string | undefined): Record<string, unknown> {
  if (ret === null || (typeof ret !== 'string' && typeof ret !== 'object')) throw new Error(`the reader returned ${ret === null ? 'null' : typeof ret}, not a string or contents`);
  if (typeof ret === 'string') return { contents: [mimeType ? { uri, mimeType, text: ret } : { uri, text: ret }] };
  if ('contents' in ret && Array.isArray(ret.contents)) return ret as unknown as Record<string, unknown>;
  return { contents: [ret] };
}
