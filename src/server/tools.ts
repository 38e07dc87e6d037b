/**
 * The `tools/call` handler: lookup, input validation, `prepare`, the task decision of each era,
 * then the handler, whose return value becomes a CallToolResult. Halted and restarting tools are
 * answered before this, by the admission pipeline's `halt` stage (src/admission/stages/halts.ts).
 * Failures of the tool itself are `isError` results; only protocol errors throw.
 */
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import { isError } from '../errors/catalogue.js';
import { BreakerErrors } from '../errors/breakers.js';
import type { Era } from '../protocol/versions.js';
import { InputRequiredSignal, type RequestContext } from './context.js';
import type { ToolEntry } from './registry.js';
import type { McpServer } from './server.js';
import { TASKS_EXTENSION } from './tasks.js';
import type { CallToolResult, ToolReturn } from './types.js';

/** `tools/call`: looks the tool up, checks its arguments, then runs it inline or as a task. */
export async function serveToolCall(server: McpServer, tools: Map<string, ToolEntry>, params: Record<string, unknown>, ctx: RequestContext, era: Era): Promise<Record<string, unknown>> {
  const name = params.name;
  if (typeof name !== 'string') throw invalidParams('name', 'must be a string');
  const tool = tools.get(name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  let args = params.arguments as Record<string, unknown> | undefined;
  if (args === undefined) args = {};
  else if (args === null || typeof args !== 'object' || Array.isArray(args)) throw invalidParams('arguments', 'must be an object');
  if (tool.validateInput) {
    const problem = tool.validateInput(args);
    if (problem) return notCounted(toolError(`Invalid arguments for tool "${name}": ${problem}`));
  }
  const support = tool.options.taskSupport ?? 'forbidden';
  if (tool.options.prepare) ctx.prepared = await tool.options.prepare(args, ctx);
  if (era === '2026') {
    // 2026 tasks extension: the server decides; a `task` param from older clients is ignored.
    const ext = (ctx.clientCapabilities.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION] !== undefined;
    if (support === 'required' && !ext) {
      throw new McpError(ErrorCode.MissingRequiredClientCapability, `Tool "${name}" runs only as a task: declare the ${TASKS_EXTENSION} extension`, {
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      });
    }
    if (support !== 'forbidden' && ext) return server.tasks.create(tool, args, params, ctx, era);
    return runToolHandler(server, tool, args, ctx);
  }
  if (params.task !== undefined || support === 'required') return server.tasks.create(tool, args, params, ctx, era);
  return runToolHandler(server, tool, args, ctx);
}

/** Runs the handler and turns whatever it did into a CallToolResult, checked against its outputSchema. */
export async function runToolHandler(server: McpServer, tool: ToolEntry, args: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
  let ret: ToolReturn;
  try {
    ret = await (server.toolScope ? server.toolScope.run(tool.name, tool.handler, args, ctx) : tool.handler(args, ctx));
    server.observer.toolResult?.(tool.name, undefined);
  } catch (err) {
    if (err instanceof InputRequiredSignal) throw err;
    if (ctx.signal.aborted) return notCounted(toolError(`Tool "${tool.name}" was cancelled`));
    // An McpError is the handler saying "protocol error" on purpose (-32042 URL elicitation
    // required, -32021 missing capability, …): it goes out as a JSON-RPC error. So does an open
    // downstream breaker (`ctx.downstream`) left uncaught: the client gets 503 + Retry-After.
    if (err instanceof McpError || isError(err, BreakerErrors.Open)) throw err;
    server.observer.toolResult?.(tool.name, err instanceof Error ? err : new Error(String(err)));
    // The message is the tool's own words; the stack stays on the server.
    return toolError(err instanceof Error ? err.message || err.name : String(err));
  }
  const result = normaliseToolResult(ret, tool.validateOutput !== null);
  if (tool.validateOutput && !result.isError) {
    if (result.structuredContent === undefined) return toolError(`Tool "${tool.name}" declares an outputSchema but returned no structuredContent`);
    const problem = tool.validateOutput(result.structuredContent);
    if (problem) return toolError(`Tool "${tool.name}" returned output that does not match its outputSchema: ${problem}`);
  }
  return result as unknown as Record<string, unknown>;
}

/**
 * Marks an `isError` result that is not the tool's failure (arguments failing the input schema,
 * a cancelled call): circuit breakers do not count it. A symbol key never reaches the wire.
 */
export const NOT_COUNTED: unique symbol = Symbol('andon.notCounted');

function notCounted(result: Record<string, unknown>): Record<string, unknown> {
  (result as { [NOT_COUNTED]?: true })[NOT_COUNTED] = true;
  return result;
}

/** A tool-level failure: an `isError` result the client's model can read, not a protocol error. */
export function toolError(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true };
}

/** `structured`: the tool declares an outputSchema, so a bare object is its structuredContent. */
export function normaliseToolResult(ret: ToolReturn, structured: boolean): CallToolResult {
  if (typeof ret === 'string') return { content: [{ type: 'text', text: ret }] };
  if (ret && typeof ret === 'object' && Array.isArray((ret as CallToolResult).content)) {
    const r = ret as CallToolResult;
    if (r.structuredContent !== undefined && r.content.length === 0) {
      return { ...r, content: [{ type: 'text', text: JSON.stringify(r.structuredContent) }] };
    }
    return r;
  }
  if (ret && typeof ret === 'object') {
    const obj = ret as Record<string, unknown>;
    if (structured) return { content: [{ type: 'text', text: JSON.stringify(obj) }], structuredContent: obj };
    return { content: [{ type: 'text', text: JSON.stringify(obj) }] };
  }
  return { content: [{ type: 'text', text: String(ret) }] };
}
