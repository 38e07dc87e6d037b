/**
 * Tasks: tool calls that run on after their request returns.
 *
 * 2025-11-25 (experimental): the client asks with `params.task`; tasks/get, tasks/result,
 * tasks/list, tasks/cancel. 2026-07-28 (the `io.modelcontextprotocol/tasks` extension): a client
 * that declares the extension may get a flat `resultType: "task"` result; tasks/get carries the
 * result, error or pending `inputRequests` inline, tasks/update answers them; no tasks/result or
 * tasks/list. The methods below hide the difference.
 */
import { McpError } from '../protocol/errors.js';
import { ClientError } from './errors.js';
import { ClientSubscriptions } from './subscriptions.js';
import type { CallToolResult, RequestOptions, Task } from './types.js';
import { isObject, paginate, sleep } from './util.js';

const TASK_TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The fifth layer of the client: starting, polling, answering and cancelling tasks. */
export abstract class ClientTasks extends ClientSubscriptions {
  /** Lists the tools once before the first call, when none are cached (McpClient). */
  protected abstract prefetchTools(): Promise<void>;

  /**
   * Starts a tool call as a task and returns the handle at once (2025: `params.task`; 2026: the
   * tasks extension is declared on this call). A tool that runs synchronously anyway is INVALID_RESULT.
   */
  async callToolAsTask(name: string, args: Record<string, unknown> = {}, opts: RequestOptions & { ttl?: number } = {}): Promise<Task> {
    const task: Record<string, unknown> = {};
    if (opts.ttl !== undefined) task.ttl = opts.ttl;
    await this.ready();
    await this.prefetchTools();
    const params = this.era_ === '2026' ? { name, arguments: args } : { name, arguments: args, task };
    const r = await this.request('tools/call', params, { ...opts, declareTasks: true } as RequestOptions);
    if (!isObject(r.task) && r.resultType !== 'task') throw new ClientError('INVALID_RESULT', `tools/call of "${name}" did not create a task (the tool may not support tasks)`, { details: { result: r } });
    return normaliseTask(r);
  }

  /** tasks/get: the task's status (in 2026 also its inline result, error or pending inputRequests). */
  async getTask(taskId: string, opts: RequestOptions = {}): Promise<Task> {
    return normaliseTask(await this.request('tasks/get', { taskId }, { ...opts, declareTasks: true } as RequestOptions));
  }

  /** The task's final result: 2025 tasks/result (held until the task ends); 2026 polls tasks/get. */
  async getTaskResult(taskId: string, opts: RequestOptions = {}): Promise<CallToolResult> {
    await this.ready();
    if (this.era_ === '2026') return this.waitForTask(taskId, { signal: opts.signal });
    return (await this.request('tasks/result', { taskId }, opts)) as unknown as CallToolResult;
  }

  /** tasks/cancel; resolves with the task as it stands afterwards. */
  async cancelTask(taskId: string, opts: RequestOptions = {}): Promise<Task> {
    const r = await this.request('tasks/cancel', { taskId }, { ...opts, declareTasks: true } as RequestOptions);
    if (this.era_ === '2026') return this.getTask(taskId, opts);
    return normaliseTask(r);
  }

  /** tasks/list (all pages). 2025 only: the 2026 extension has no listing (UNSUPPORTED). */
  async listTasks(opts: RequestOptions = {}): Promise<Task[]> {
    await this.ready();
    if (this.era_ === '2026') throw new ClientError('UNSUPPORTED', 'The 2026 tasks extension has no tasks/list; keep the task ids you created');
    const items = await paginate(this, 'tasks/list', 'tasks', opts, (t) => isObject(t) && typeof (t as Task).taskId === 'string');
    return items.map((t) => normaliseTask(t as Record<string, unknown>));
  }

  /**
   * Polls tasks/get (at the server's poll interval, default 500 ms) until the task ends and
   * returns its result. In 2026 a task waiting for input (`input_required`) is answered by the
   * handlers through tasks/update. A cancelled task throws TASK_FAILED; a failed one throws the
   * server's error (or returns its `isError` result).
   */
  async waitForTask(taskId: string, opts: { signal?: AbortSignal; pollIntervalMs?: number; onStatus?: (t: Task) => void } = {}): Promise<CallToolResult> {
    const answered = new Set<string>();
    for (;;) {
      const t = await this.getTask(taskId, { signal: opts.signal });
      opts.onStatus?.(t);
      if (t.status === 'cancelled') throw new ClientError('TASK_FAILED', `Task ${taskId} was cancelled${t.statusMessage ? `: ${t.statusMessage}` : ''}`, { details: { task: t } });
      if (this.era_ === '2026') {
        if (t.status === 'completed' || t.status === 'failed') {
          if (isObject(t.error)) throw new McpError(Number(t.error.code), String(t.error.message), t.error.data);
          if (isObject(t.result) && Array.isArray(t.result.content)) return t.result as unknown as CallToolResult;
          throw new ClientError(t.status === 'failed' ? 'TASK_FAILED' : 'INVALID_RESULT', `Task ${taskId} ${t.status} without a result`, { details: { task: t } });
        }
        if (t.status === 'input_required' && isObject(t.inputRequests)) {
          // Answer each pending request once; the server clears them as tasks/update arrives.
          const fresh = Object.fromEntries(Object.entries(t.inputRequests).filter(([k]) => !answered.has(k)));
          if (Object.keys(fresh).length) {
            const next = await this.answerInputs({ inputRequests: fresh }, opts.signal);
            for (const k of Object.keys(fresh)) answered.add(k);
            await this.request('tasks/update', { taskId, inputResponses: next.inputResponses ?? {} }, { signal: opts.signal, declareTasks: true } as RequestOptions);
            continue;
          }
        }
      } else if (TASK_TERMINAL.has(t.status)) {
        return this.getTaskResult(taskId, { signal: opts.signal });
      }
      const wait = opts.pollIntervalMs ?? (typeof t.pollInterval === 'number' ? t.pollInterval : 500);
      await sleep(Math.max(10, wait), opts.signal, this.clock);
    }
  }
}

/** One Task shape for both eras: 2026 names `ttlMs`/`pollIntervalMs` what 2025 calls `ttl`/`pollInterval`. */
export function normaliseTask(r: Record<string, unknown>): Task {
  const t = { ...((isObject(r.task) ? r.task : r) as Record<string, unknown>) };
  if (typeof t.taskId !== 'string' || typeof t.status !== 'string') throw new ClientError('INVALID_RESULT', 'The result carries no task (taskId and status)', { details: { result: r } });
  if (t.ttl === undefined && typeof t.ttlMs === 'number') t.ttl = t.ttlMs;
  if (t.pollInterval === undefined && typeof t.pollIntervalMs === 'number') t.pollInterval = t.pollIntervalMs;
  delete t.resultType;
  return t as Task;
}

