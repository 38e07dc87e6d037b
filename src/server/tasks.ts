/**
 * Tasks: a tool call that returns a handle at once and runs in the background.
 *
 * - 2025-11-25 (experimental): the client asks with `params.task`; the result is
 *   `{ task: {...} }`; tasks/get, tasks/result, tasks/list, tasks/cancel; status notifications on
 *   the session's stream; tasks are scoped to the session that created them.
 * - 2026-07-28 (`io.modelcontextprotocol/tasks` extension): the server decides for a client that
 *   declared the extension; the result is flat (`resultType: "task"`, `taskId`, `status`, …);
 *   tasks/get carries the result or error inline, tasks/update answers input the task is waiting
 *   for (status `input_required`), tasks/cancel acknowledges with an empty result; tasks/result
 *   and tasks/list do not exist.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import type { Era } from '../protocol/versions.js';
import { RequestContext } from './context.js';
import type { ToolEntry } from './registry.js';
import type { McpServer } from './server.js';
import type { Session } from './session.js';

/** The 2026 extension id. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

interface TaskRecord {
  taskId: string;
  era: Era;
  status: Status;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  owner: string | null;
  abort: AbortController;
  result?: Record<string, unknown>;
  error?: McpError;
  done: Promise<void>;
  session: Session | undefined;
  /** 2026: input the task is waiting for, by key, with the resolver of each. */
  inputs: Map<string, { request: { method: string; params?: Record<string, unknown> }; resolve: (r: Record<string, unknown>) => void }>;
}

const TERMINAL = new Set<Status>(['completed', 'failed', 'cancelled']);
const DEFAULT_TTL = 60 * 60 * 1000;

export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();

  constructor(private readonly server: McpServer) {}

  /** Starts a tool call as a task and returns the era's create result. */
  create(tool: ToolEntry, args: Record<string, unknown>, params: Record<string, unknown>, ctx: RequestContext, era: Era): Record<string, unknown> {
    if (tool.options.taskSupport === undefined || tool.options.taskSupport === 'forbidden') {
      throw new McpError(ErrorCode.InvalidParams, `Tool "${tool.name}" does not support task execution`);
    }
    const requested = (params.task as { ttl?: unknown } | undefined)?.ttl;
    const ttlMs = typeof requested === 'number' && requested > 0 ? Math.min(requested, 24 * DEFAULT_TTL) : DEFAULT_TTL;
    const now = new Date(this.server.clock.now()).toISOString();
    const session = era === '2025' ? (ctx.peer as Session | undefined) : undefined;
    const rec: TaskRecord = {
      taskId: randomUUID(),
      era,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs,
      pollIntervalMs: 200,
      owner: session?.id ?? null,
      abort: new AbortController(),
      done: Promise.resolve(),
      session,
      inputs: new Map(),
    };
    this.tasks.set(rec.taskId, rec);
    const send = session?.standalone ?? (() => {});
    const bg = new RequestContext(ctx.requestId, 'tools/call', era, ctx.protocolVersion, rec.abort.signal, { ...ctx.meta, progressToken: undefined }, ctx.clientCapabilities, ctx.clientInfo, { send: (m) => send(m) }, ctx.peer, undefined, undefined, undefined);
    bg.downstreams = ctx.downstreams;
    bg.prepared = ctx.prepared;
    if (era === '2026') bg.taskAsker = (key, method, p) => this.park(rec, key, method, p);
    rec.done = this.server.runTool(tool, args, bg).then(
      (result) => {
        if (rec.status === 'cancelled') return;
        rec.result = result;
        // A tool that returned isError still completed: the failure is in its result.
        this.update(rec, era === '2025' && result.isError === true ? 'failed' : 'completed');
      },
      (err: unknown) => {
        if (rec.status === 'cancelled') return;
        rec.error = McpError.from(err);
        this.update(rec, 'failed', rec.error.message);
      },
    );
    this.server.clock.setTimeout(() => this.tasks.delete(rec.taskId), ttlMs).unref?.();
    if (era === '2026') return { resultType: 'task', ...this.wire(rec) };
    return { task: this.wire2025(rec) };
  }

  /** A 2026 task asks for input: the task waits (input_required) until tasks/update answers. */
  private park(rec: TaskRecord, key: string, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      rec.inputs.set(key, { request: Object.keys(params).length ? { method, params } : { method }, resolve });
      rec.abort.signal.addEventListener('abort', () => reject(new Error('task cancelled')), { once: true });
      if (rec.status === 'working') this.update(rec, 'input_required');
    });
  }

  private update(rec: TaskRecord, status: Status, message?: string): void {
    rec.status = status;
    rec.lastUpdatedAt = new Date(this.server.clock.now()).toISOString();
    if (message !== undefined) rec.statusMessage = message;
    if (rec.era === '2025') rec.session?.standalone?.({ jsonrpc: '2.0', method: 'notifications/tasks/status', params: this.wire2025(rec) });
  }

  private wire2025(rec: TaskRecord): Record<string, unknown> {
    const t: Record<string, unknown> = { taskId: rec.taskId, status: rec.status, createdAt: rec.createdAt, lastUpdatedAt: rec.lastUpdatedAt, ttl: rec.ttlMs, pollInterval: rec.pollIntervalMs };
    if (rec.statusMessage !== undefined) t.statusMessage = rec.statusMessage;
    return t;
  }

  /** 2026 wire fields (ttlMs, pollIntervalMs). */
  private wire(rec: TaskRecord): Record<string, unknown> {
    const t: Record<string, unknown> = { taskId: rec.taskId, status: rec.status, createdAt: rec.createdAt, lastUpdatedAt: rec.lastUpdatedAt, ttlMs: rec.ttlMs, pollIntervalMs: rec.pollIntervalMs };
    if (rec.statusMessage !== undefined) t.statusMessage = rec.statusMessage;
    return t;
  }

  private find(params: Record<string, unknown>, owner: string | null): TaskRecord {
    const id = params.taskId;
    if (typeof id !== 'string') throw invalidParams('taskId', 'must be a string');
    const rec = this.tasks.get(id);
    if (!rec || rec.owner !== owner) throw new McpError(ErrorCode.InvalidParams, `Unknown task: ${id}`, { taskId: id });
    return rec;
  }

  /** 2025: tasks/get, tasks/result, tasks/list, tasks/cancel, scoped to the session. */
  async handle(method: string, params: Record<string, unknown>, _ctx: RequestContext, session: Session | undefined): Promise<Record<string, unknown>> {
    const owner = session?.id ?? null;
    switch (method) {
      case 'tasks/get':
        return this.wire2025(this.find(params, owner));
      case 'tasks/result': {
        const rec = this.find(params, owner);
        await rec.done;
        if (rec.status === 'cancelled') throw new McpError(ErrorCode.InvalidParams, `Task ${rec.taskId} was cancelled`);
        if (rec.error) throw rec.error;
        const r = { ...(rec.result ?? {}) };
        r._meta = { ...((r._meta as object) ?? {}), 'io.modelcontextprotocol/related-task': { taskId: rec.taskId } };
        return r;
      }
      case 'tasks/list':
        return { tasks: [...this.tasks.values()].filter((t) => t.owner === owner && t.era === '2025').map((t) => this.wire2025(t)) };
      case 'tasks/cancel': {
        const rec = this.find(params, owner);
        if (TERMINAL.has(rec.status)) throw new McpError(ErrorCode.InvalidParams, `Cannot cancel task ${rec.taskId}: it is already ${rec.status}`);
        rec.abort.abort(new Error('task cancelled'));
        this.update(rec, 'cancelled', 'Cancelled by client');
        return this.wire2025(rec);
      }
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  /** 2026: tasks/get, tasks/update, tasks/cancel for clients that declared the extension. */
  async handle2026(method: string, params: Record<string, unknown>, ctx: RequestContext): Promise<Record<string, unknown>> {
    if (method === 'tasks/result' || method === 'tasks/list') {
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method} (not part of the ${TASKS_EXTENSION} extension; poll tasks/get)`);
    }
    // The capability gate comes before any lookup, so an undeclared client learns nothing about ids.
    if ((ctx.clientCapabilities.extensions as Record<string, unknown> | undefined)?.[TASKS_EXTENSION] === undefined) {
      throw new McpError(ErrorCode.MissingRequiredClientCapability, `${method} needs the ${TASKS_EXTENSION} extension in clientCapabilities`, {
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      });
    }
    const rec = this.find(params, null);
    if (rec.era !== '2026') throw new McpError(ErrorCode.InvalidParams, `Unknown task: ${rec.taskId}`, { taskId: rec.taskId });
    switch (method) {
      case 'tasks/get': {
        const r: Record<string, unknown> = { resultType: 'complete', ...this.wire(rec) };
        if (rec.status === 'completed' && rec.result) r.result = rec.result;
        if (rec.status === 'failed' && rec.error) r.error = { code: rec.error.code, message: rec.error.message };
        if (rec.status === 'input_required') r.inputRequests = Object.fromEntries([...rec.inputs].map(([k, v]) => [k, v.request]));
        return r;
      }
      case 'tasks/update': {
        const answers = params.inputResponses;
        if (answers === null || typeof answers !== 'object' || Array.isArray(answers)) throw invalidParams('inputResponses', 'must be an object');
        for (const [key, value] of Object.entries(answers as Record<string, unknown>)) {
          const waiting = rec.inputs.get(key);
          // Unknown keys are acknowledged and ignored; a non-object answer leaves the request open.
          if (!waiting || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
          rec.inputs.delete(key);
          waiting.resolve(value as Record<string, unknown>);
        }
        if (rec.status === 'input_required' && rec.inputs.size === 0) this.update(rec, 'working');
        return { resultType: 'complete' };
      }
      case 'tasks/cancel':
        if (!TERMINAL.has(rec.status)) {
          rec.abort.abort(new Error('task cancelled'));
          this.update(rec, 'cancelled', 'Cancelled by client');
        }
        return { resultType: 'complete' };
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }
}
