/**
 * The MCP client: one API for both protocol eras over stdio, Streamable HTTP and (as a fallback)
 * the 2024 HTTP+SSE transport.
 *
 * - Connecting detects the era: `server/discover` (2026-07-28, stateless) first, then
 *   `initialize` (2025-11-25 and older) — or the era is pinned.
 * - Every call is isolated: a timeout, an abort, a malformed or wrong-typed answer, a cut stream or
 *   a dead process fails that call with a typed error and nothing else; no floating promise, no
 *   unhandled rejection, no `error` event that could crash the host.
 * - The server's requests for input are answered by the same handlers in both eras: as
 *   server→client requests in 2025, and as `input_required` results that the client retries with
 *   `inputResponses` in 2026.
 *
 * McpClient is one object built in layers, one concern to a file: core.ts (the request machinery)
 * → inbound.ts (what the server sends, and the handlers) → lifecycle.ts (connect, era negotiation,
 * close) → subscriptions.ts → tasks.ts → this file, which adds the feature methods: tools,
 * resources, prompts, completion, logging, ping and roots.
 */
import { ErrorCode, McpError } from '../protocol/errors.js';
import { lazyValidator, type Validator } from '../protocol/schema.js';
import type { LoggingLevel } from '../protocol/types.js';
import { LOG_LEVELS } from '../protocol/types.js';
import { ClientError } from './errors.js';
import { toolHeaderParams } from './headers.js';
import type { CachedTool } from './core.js';
import type { ClientOptions, ClientTarget } from './options.js';
import { ClientTasks, normaliseTask } from './tasks.js';
import type {
  CallToolOptions,
  CallToolResult,
  Completion,
  CompletionRef,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  RequestOptions,
  Resource,
  ResourceTemplate,
  RootsProvider,
  Tool,
} from './types.js';
import { isObject, paginate } from './util.js';

// The types of the constructor and the events go with the class (src/cli imports ClientTarget from here).
export type { ClientEvents, ClientOptions, ClientTarget } from './options.js';

/** An MCP client. Create it with {@link createClient}, then `await client.connect()`. */
export class McpClient extends ClientTasks {
  private readonly invalidTools = new Map<string, string>();

  // ───────────────────────────── tools ─────────────────────────────

  /**
   * Lists every tool, following `nextCursor` until the last page. In 2026, tools whose
   * `x-mcp-header` annotations are invalid are left out (with a `warning` event each).
   */
  async listTools(opts: RequestOptions = {}): Promise<Tool[]> {
    const items = await paginate(this, 'tools/list', 'tools', opts, (t) => isObject(t) && typeof (t as Tool).name === 'string' && isObject((t as Tool).inputSchema));
    const cache = new Map<string, CachedTool>();
    const out: Tool[] = [];
    for (const raw of items as Tool[]) {
      const h = toolHeaderParams(raw.inputSchema);
      if ('error' in h) {
        this.invalidTools.set(raw.name, h.error);
        if (this.era_ === '2026') {
          this.warn('INVALID_TOOL', `Tool "${raw.name}" was excluded: ${h.error}`, { tool: raw.name });
          continue;
        }
      }
      this.invalidTools.delete(raw.name);
      const validateOutput = isObject(raw.outputSchema) ? outputValidator(raw.outputSchema) : undefined;
      cache.set(raw.name, { tool: raw, headerParams: 'params' in h ? h.params : [], validateOutput });
      out.push(raw);
    }
    this.toolCache = cache;
    return out;
  }

  /**
   * Calls a tool. Tool failures come back as a result with `isError: true`; protocol failures
   * throw. `structuredContent` is checked against the tool's `outputSchema` (OUTPUT_SCHEMA_MISMATCH).
   * A server that turns the call into a task is waited for.
   */
  async callTool(name: string, args: Record<string, unknown> = {}, opts: CallToolOptions = {}): Promise<CallToolResult> {
    await this.ready();
    const invalid = this.invalidTools.get(name);
    if (invalid !== undefined && this.era_ === '2026') throw new ClientError('INVALID_TOOL', `Tool "${name}" cannot be called: ${invalid}`, { details: { tool: name } });
    await this.prefetchTools();
    const params = { name, arguments: args };
    let result: Record<string, unknown>;
    try {
      result = await this.request('tools/call', params, opts);
    } catch (err) {
      // A 2026 server rejects a call whose Mcp-Param headers it expected: learn the tool and retry once.
      if (err instanceof McpError && err.code === ErrorCode.HeaderMismatch && !this.toolCache?.has(name)) {
        await this.listTools({ signal: opts.signal }).catch(() => undefined);
        if (this.toolCache?.has(name)) result = await this.request('tools/call', params, opts);
        else throw err;
      } else throw err;
    }
    if ((isObject(result.task) || result.resultType === 'task') && !Array.isArray(result.content)) {
      return this.waitForTask(normaliseTask(result).taskId, { signal: opts.signal });
    }
    if (!Array.isArray(result.content)) throw new ClientError('INVALID_RESULT', `tools/call result for "${name}" has no content array`, { details: { result } });
    const cr = result as unknown as CallToolResult;
    if ((opts.validateOutput ?? this.options.validateOutput ?? true) && !cr.isError) {
      const validate = this.toolCache?.get(name)?.validateOutput;
      if (validate) {
        if (cr.structuredContent === undefined) throw new ClientError('OUTPUT_SCHEMA_MISMATCH', `Tool "${name}" declares an outputSchema but returned no structuredContent`, { details: { tool: name } });
        let problem: string | null = null;
        try {
          problem = validate(cr.structuredContent);
        } catch (err) {
          // The schema itself is unusable (unknown dialect, unresolvable $ref — never fetched):
          // that is the server's bug, not a wrong result, so the call still succeeds.
          this.warn('OUTPUT_SCHEMA_UNUSABLE', `Cannot validate the output of "${name}": its outputSchema does not compile: ${(err as Error).message}`, { tool: name });
        }
        if (problem) throw new ClientError('OUTPUT_SCHEMA_MISMATCH', `Tool "${name}" returned structuredContent that does not match its outputSchema: ${problem}`, { details: { tool: name, structuredContent: cr.structuredContent } });
      }
    }
    return cr;
  }

  protected override async prefetchTools(): Promise<void> {
    if (this.toolCache || this.options.prefetchTools === false || !this.summary.capabilities.tools) return;
    try {
      await this.listTools();
    } catch (err) {
      this.warn('TOOLS_PREFETCH_FAILED', `Could not list tools before the call: ${(err as Error).message}`);
      this.toolCache = new Map();
    }
  }

  /** The cached definition of a tool, from the last `listTools`. */
  cachedTool(name: string): Tool | undefined {
    return this.toolCache?.get(name)?.tool;
  }

  // ───────────────────────────── resources, prompts, completion ─────────────────────────────

  /** Lists every resource (all pages). */
  async listResources(opts: RequestOptions = {}): Promise<Resource[]> {
    return (await paginate(this, 'resources/list', 'resources', opts, (r) => isObject(r) && typeof (r as Resource).uri === 'string')) as Resource[];
  }

  /** Lists every resource template (all pages). */
  async listResourceTemplates(opts: RequestOptions = {}): Promise<ResourceTemplate[]> {
    return (await paginate(this, 'resources/templates/list', 'resourceTemplates', opts, (r) => isObject(r) && typeof (r as ResourceTemplate).uriTemplate === 'string')) as ResourceTemplate[];
  }

  /** Reads a resource. */
  async readResource(uri: string, opts: RequestOptions = {}): Promise<ReadResourceResult> {
    const r = await this.request('resources/read', { uri }, opts);
    if (!Array.isArray(r.contents)) throw new ClientError('INVALID_RESULT', `resources/read result for ${uri} has no contents array`, { details: { result: r } });
    return r as unknown as ReadResourceResult;
  }

  /** Lists every prompt (all pages). */
  async listPrompts(opts: RequestOptions = {}): Promise<Prompt[]> {
    return (await paginate(this, 'prompts/list', 'prompts', opts, (p) => isObject(p) && typeof (p as Prompt).name === 'string')) as Prompt[];
  }

  /** Gets a prompt with its arguments filled. */
  async getPrompt(name: string, args: Record<string, string> = {}, opts: RequestOptions = {}): Promise<GetPromptResult> {
    const r = await this.request('prompts/get', { name, arguments: args }, opts);
    if (!Array.isArray(r.messages)) throw new ClientError('INVALID_RESULT', `prompts/get result for "${name}" has no messages array`, { details: { result: r } });
    return r as unknown as GetPromptResult;
  }

  /** completion/complete for a prompt argument or a resource template variable. */
  async complete(ref: CompletionRef, argument: { name: string; value: string }, context?: { arguments: Record<string, string> }, opts: RequestOptions = {}): Promise<Completion> {
    const params: Record<string, unknown> = { ref, argument };
    if (context) params.context = context;
    const r = await this.request('completion/complete', params, opts);
    const c = r.completion as Completion | undefined;
    if (!isObject(c) || !Array.isArray(c.values)) throw new ClientError('INVALID_RESULT', 'completion/complete result has no completion.values array', { details: { result: r } });
    return c;
  }

  // ───────────────────────────── logging, ping, roots ─────────────────────────────

  /** Sets the log level: logging/setLevel in 2025, the per-request `_meta` level in 2026. */
  async setLoggingLevel(level: LoggingLevel, opts: RequestOptions = {}): Promise<void> {
    if (!LOG_LEVELS.includes(level)) throw new ClientError('INVALID_ARGUMENT', `Unknown log level "${level}" (one of ${LOG_LEVELS.join(', ')})`);
    await this.ready();
    if (this.era_ === '2025') await this.request('logging/setLevel', { level }, opts);
    this.logLevel = level;
  }

  /**
   * Checks the server is alive. 2025: `ping`. 2026 removed ping, so the cheapest request that
   * every server must serve, `server/discover`, stands in for it.
   */
  async ping(opts: RequestOptions = {}): Promise<void> {
    await this.ready();
    await this.request(this.era_ === '2026' ? 'server/discover' : 'ping', {}, opts);
  }

  /** Replaces the roots; in 2025 the server is told with notifications/roots/list_changed. */
  async setRoots(roots: RootsProvider): Promise<void> {
    this.rootsProvider = roots;
    if (this.state === 'connected' && this.era_ === '2025') await this.notify('notifications/roots/list_changed');
  }
}

/**
 * A validator for a tool's outputSchema. Schemas are validated as JSON Schema 2020-12 (the MCP
 * default); a `$schema` naming an older draft (the v1 SDK emits draft-07) is dropped, since the
 * keywords that matter for output validation mean the same in both.
 */
function outputValidator(schema: Record<string, unknown>): Validator {
  const s = { ...schema };
  if (typeof s.$schema === 'string' && !s.$schema.includes('2020-12')) delete s.$schema;
  return lazyValidator(s, 'structuredContent');
}

/**
 * Creates a client for a server URL (Streamable HTTP, with HTTP+SSE fallback), a command line
 * (stdio), a `{ command, args, env }` spec or a custom transport. Call `connect()` before use.
 */
export function createClient(target: ClientTarget, options: ClientOptions = {}): McpClient {
  return new McpClient(target, options);
}

