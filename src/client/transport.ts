/**
 * The contract between the client core and a transport. The core owns JSON-RPC correlation,
 * timeouts, eras and handlers; a transport only moves messages and reports failures that belong to
 * one request (so only that call fails) or to the whole connection.
 */
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../protocol/jsonrpc.js';
import type { ClientError } from './errors.js';

/** What a transport reports back to the core. */
export interface TransportSink {
  /**
   * A decoded JSON value that arrived (the core classifies it). `forRequest` names the request
   * whose stream carried it; `final` says it was that request's whole answer (a JSON body), so
   * if it does not answer the request, nothing else will.
   */
  message(value: unknown, forRequest?: RequestId, final?: boolean): void;
  /** Bytes arrived that could not be decoded; `forRequest` names the affected request when known. */
  malformed(detail: string, forRequest?: RequestId): void;
  /** The request can no longer be answered through this transport (stream lost, HTTP error…). */
  requestFailed(id: RequestId, err: ClientError): void;
  /**
   * A request could not be delivered yet and is being retried (`err`), or got through after
   * retries (`undefined`). Lets a timeout say "unreachable" rather than "no answer".
   */
  deliveryFailing?(id: RequestId, err: ClientError | undefined): void;
  /** The request waits for an OAuth authorization (which may involve a person): its timeout pauses. */
  authorizing?(id: RequestId, active: boolean): void;
  /** The whole connection is gone (process exited, transport closed). */
  closed(err: ClientError): void;
  /** Something worth telling the user that is not tied to a call (a reconnect, an ignored event…). */
  event(name: TransportEventName, detail: Record<string, unknown>): void;
}

export type TransportEventName = 'reconnect' | 'warning' | 'stderr';

/** Per-message options chosen by the core. */
export interface SendContext {
  /** Extra HTTP headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*). Ignored by stdio. */
  headers?: Record<string, string>;
  /** 2025 streams can be resumed after a cut; 2026 streams cannot (closing them is cancellation). */
  resumable?: boolean;
}

/** A way to reach a server. */
export interface ClientTransport {
  /** `http` (Streamable HTTP), `sse` (the 2024 HTTP+SSE transport), `stdio` or `websocket`. */
  readonly kind: 'http' | 'sse' | 'stdio' | 'websocket';
  /** Starts the transport (spawns the process, opens the legacy SSE stream…). */
  start(sink: TransportSink): Promise<void>;
  /** Sends a request. Never throws: failures arrive through `sink.requestFailed`. */
  sendRequest(request: JsonRpcRequest, ctx: SendContext): void;
  /** Sends a notification or a response; resolves once the server accepted it. */
  sendMessage(message: JsonRpcMessage, ctx: SendContext): Promise<void>;
  /** Stops listening for a request's answer: closes its response stream where there is one. */
  abandon(id: RequestId): void;
  /** Closes the connection (the stdio shutdown sequence; DELETE of the 2025 session). */
  close(): Promise<void>;
}
