/**
 * Tasks (2025-11-25 experimental; the 2026 `io.modelcontextprotocol/tasks` extension): a tool
 * call that returns a task handle at once and runs in the background; the client polls
 * tasks/get, fetches tasks/result, lists and cancels. Tasks are scoped to the session that
 * created them (2025) or to the stateless space (2026), and expire after their ttl.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, McpError, invalidParams } from '../protocol/errors.js';
import type { Era } from '../protocol/versions.js';
import { RequestContext } from './context.js';
import type { ToolEntry } from './registry.js';
import type { McpServer } from './server.js';
import type { Session } from './session.js';

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

interface TaskRecord {
  taskId: string;
  status: Status;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
  pollInterval: number;
  owner: string | null;
  abort: AbortController;
  result?: Record<string, unknown>;
  error?: McpError;
  done: Promise<void>;
  session: Session | undefined;
}

const TERMINAL = new Set<Status>(['completed', 'failed', 'cancelled']);
const DEFAULT_TTL = 60 * 60 * 1000;

export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();

  constructor(private readonly server: McpServer) {}

  /** Starts a tool call as a task and returns the CreateTaskResult. */
  create(tool: ToolEntry, args: Record<string, unknown>, params: Record<string, unknown>, ctx: RequestContext, era: Era): Record<string, unknown> {
    if (tool.options.taskSupport === undefined || tool.options.taskSupport === 'forbidden') {
      throw new McpError(ErrorCode.InvalidParams, `Tool "${tool.name}" does not support task execution`);
    }
    const requested = (params.task as { ttl?: unknown } | undefined)?.ttl;
    const ttl = typeof requested === 'number' && requested > 0 ? Math.min(requested, 24 * DEFAULT_TTL) : DEFAULT_TTL;
    const now = new Date().toISOString();
    const session = ctx.peer as Session | undefined;
    const abort = new AbortController();
    const rec: TaskRecord = {
      taskId: randomUUID(),
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttl,
      pollInterval: 500,
      owner: session?.id ?? null,
      abort,
      done: Promise.resolve(),
      session,
    };
    this.tasks.set(rec.taskId, rec);
    const send = session?.standalone ?? (() => {});
    const bgCtx = new RequestContext(ctx.requestId, 'tools/call', era, ctx.protocolVersion, abort.signal, { ...ctx.meta, progressToken: undefined }, ctx.clientCapabilities, ctx.clientInfo, { send: (m) => send(m) }, ctx.peer, undefined, undefined, undefined);
    rec.done = this.server.runTool(tool, args, bgCtx).then(
      (result) => {
        if (rec.status === 'cancelled') return;
        rec.result = result;
        this.update(rec, result.isError === true ? 'failed' : 'completed');
      },
      (err: unknown) => {
        if (rec.status === 'cancelled') return;
        rec.error = McpError.from(err);
        this.update(rec, 'failed', rec.error.message);
      },
    );
    const timer = setTimeout(() => this.tasks.delete(rec.taskId), ttl);
    timer.unref();
    return { task: this.wire(rec) };
  }

  private update(rec: TaskRecord, status: Status, message?: string): void {
    rec.status = status;
    rec.lastUpdatedAt = new Date().toISOString();
    if (message !== undefined) rec.statusMessage = message;
    rec.session?.standalone?.({ jsonrpc: '2.0', method: 'notifications/tasks/status', params: this.wire(rec) });
  }

  private wire(rec: TaskRecord): Record<string, unknown> {
    const t: Record<string, unknown> = {
      taskId: rec.taskId,
      status: rec.status,
      createdAt: rec.createdAt,
      lastUpdatedAt: rec.lastUpdatedAt,
      ttl: rec.ttl,
      pollInterval: rec.pollInterval,
    };
    if (rec.statusMessage !== undefined) t.statusMessage = rec.statusMessage;
    return t;
  }

  private find(params: Record<string, unknown>, session: Session | undefined): TaskRecord {
    const id = params.taskId;
    if (typeof id !== 'string') throw invalidParams('taskId', 'must be a string');
    const rec = this.tasks.get(id);
    if (!rec || rec.owner !== (session?.id ?? null)) throw new McpError(ErrorCode.InvalidParams, `Unknown task: ${id}`);
    return rec;
  }

  /** Serves tasks/get, tasks/result, tasks/list and tasks/cancel. */
  async handle(method: string, params: Record<string, unknown>, _ctx: RequestContext, session: Session | undefined): Promise<Record<string, unknown>> {
    switch (method) {
      case 'tasks/get':
        return this.wire(this.find(params, session));
      case 'tasks/result': {
        const rec = this.find(params, session);
        await rec.done;
        if (rec.status === 'cancelled') throw new McpError(ErrorCode.InvalidParams, `Task ${rec.taskId} was cancelled`);
        if (rec.error) throw rec.error;
        const r = { ...(rec.result ?? {}) };
        r._meta = { ...((r._meta as object) ?? {}), 'io.modelcontextprotocol/related-task': { taskId: rec.taskId } };
        return r;
      }
      case 'tasks/list': {
        const owner = session?.id ?? null;
        const tasks = [...this.tasks.values()].filter((t) => t.owner === owner).map((t) => this.wire(t));
        return { tasks };
      }
      case 'tasks/cancel': {
        const rec = this.find(params, session);
        if (TERMINAL.has(rec.status)) {
          throw new McpError(ErrorCode.InvalidParams, `Cannot cancel task ${rec.taskId}: it is already ${rec.status}`);
        }
        rec.abort.abort(new Error('task cancelled'));
        this.update(rec, 'cancelled', 'Cancelled by client');
        return this.wire(rec);
      }
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }
}
