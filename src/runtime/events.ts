/**
 * The runtime's instrumentation contract. Everything observable is published on
 * node:diagnostics_channel; metrics, logs, alerts and the dashboard subscribe from outside, so the
 * hot path never knows they exist (publishing to a channel nobody listens to costs a branch).
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import type { Era } from '../protocol/versions.js';

/** A request finished (published by McpServer.handleRequest when the channel has subscribers). */
export interface RequestEvent {
  method: string;
  /** Tool name, prompt name or resource URI, when the method has one (bounded by the registry). */
  name: string | undefined;
  era: Era;
  outcome: 'ok' | 'error' | 'tool_error' | 'input_required';
  durationMs: number;
  /** The object published on `requestStart` for this request (correlates the two events). */
  incoming?: RequestStartEvent;
}

/**
 * A request is about to be dispatched: the server's IncomingRequest itself (no copy). Published
 * with `runStores`, so a subscriber that binds an AsyncLocalStorage to this channel (observability
 * binds the request's trace scope) has it active for the whole request, the `request` event included.
 */
export interface RequestStartEvent {
  request: { id: string | number | null; method: string; params?: Record<string, unknown> | undefined };
  era: Era;
  session?: { id: string } | undefined;
  peer?: unknown;
  /** HTTP request headers, when the request came over HTTP. */
  headers?: Record<string, string | string[] | undefined> | undefined;
}

/** A session or connection opened or closed. */
export interface SessionEvent {
  action: 'open' | 'close';
  era: Era;
  transport: 'http' | 'stdio' | 'sse' | 'websocket' | 'tcp';
}

/** A supervised component changed state. */
export interface ComponentEvent {
  id: string;
  kind: string;
  from: string;
  to: string;
  reason?: string;
}

/** A component was restarted by its supervisor (or restart was refused). */
export interface RestartEvent {
  id: string;
  restarts: number;
  /** True when the restart intensity was exceeded and the component was halted instead. */
  intensityExceeded: boolean;
  error?: string;
}

/** The drain moved to a new phase. */
export interface DrainEvent {
  phase: 'running' | 'draining' | 'halting' | 'stopped';
  /** Time spent in the previous phase, ms. */
  durationMs: number;
  inflight: number;
  /** Requests that completed during the drain, and those aborted when the grace ran out. */
  drained?: number;
  forced?: number;
}

/** A store operation finished. */
export interface StoreEvent {
  op: 'read' | 'write' | 'delete';
  durationMs: number;
  ok: boolean;
}

/** The channels, typed. Subscribe with `channels.request.subscribe((e) => …)`. */
export const channels = {
  request: channel('andon:request') as Channel & { publish(e: RequestEvent): void },
  requestStart: channel('andon:request:start') as Channel & { publish(e: RequestStartEvent): void },
  session: channel('andon:session') as Channel & { publish(e: SessionEvent): void },
  component: channel('andon:component') as Channel & { publish(e: ComponentEvent): void },
  restart: channel('andon:restart') as Channel & { publish(e: RestartEvent): void },
  drain: channel('andon:drain') as Channel & { publish(e: DrainEvent): void },
  store: channel('andon:store') as Channel & { publish(e: StoreEvent): void },
};
