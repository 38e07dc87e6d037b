/**
 * The lifecycle of a connection: connecting detects the era — `server/discover` (2026-07-28,
 * stateless) first, then `initialize` (2025-11-25 and older), or the era is pinned — with the
 * fallback to the 2024 HTTP+SSE transport; re-initializing an expired 2025 session; closing.
 */
import { ErrorCode, McpError } from '../protocol/errors.js';
import { META, SESSION_VERSIONS, STATELESS_VERSIONS, V2025_11_25, isStatelessVersion, type Era } from '../protocol/versions.js';
import type { Implementation } from '../protocol/types.js';
import { ClientError } from './errors.js';
import { StreamableHttpTransport } from './http.js';
import { LegacySseTransport } from './legacy-sse.js';
import { WebSocketClientTransport } from './websocket.js';
import { StdioTransport } from './stdio.js';
import { splitCommand } from './shell-split.js';
import { OAuthFlow } from './oauth.js';
import type { ClientTransport } from './transport.js';
import { ClientInbound } from './inbound.js';
import { DEFAULT_INFO, type ClientOptions, type ClientTarget } from './options.js';
import type { ServerSummary } from './types.js';
import { isObject } from './util.js';

/** Session-era versions the client accepts from `initialize`, newest first (2024-11-05 for old HTTP+SSE servers). */
export const CLIENT_SESSION_VERSIONS: readonly string[] = [...SESSION_VERSIONS, '2024-11-05'];

/** Connection failures that mean "no server there", as opposed to "a server that speaks another era". */
const FATAL_PROBE = new Set(['CONNECTION_FAILED', 'PROCESS_EXITED', 'CONNECTION_CLOSED', 'NOT_CONNECTED', 'ABORTED', 'UNAUTHORIZED']);

/** The third layer of the client: connecting, negotiating the era, re-initializing and closing. */
export abstract class ClientLifecycle extends ClientInbound {
  protected summary: Omit<ServerSummary, 'transport' | 'sessionId' | 'era' | 'protocolVersion'> = { serverInfo: undefined, capabilities: {}, instructions: undefined };
  private reinitializing: Promise<void> | undefined;

  // ───────────────────────────── state ─────────────────────────────

  /** The era in use once connected. */
  get era(): Era | undefined {
    return this.era_;
  }

  /** The protocol version in use once connected. */
  get protocolVersion(): string | undefined {
    return this.version;
  }

  /** The server's self-description, capabilities and the connection details. */
  get server(): ServerSummary {
    if (this.state !== 'connected' || !this.era_ || !this.version) throw new ClientError('NOT_CONNECTED', 'The client is not connected');
    return {
      ...this.summary,
      era: this.era_,
      protocolVersion: this.version,
      transport: this.transport!.kind,
      sessionId: this.transport instanceof StreamableHttpTransport ? this.transport.sessionId : undefined,
    };
  }

  /** True between a successful `connect()` and `close()` (or the transport dying). */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** The stdio server's process id, when connected over stdio. */
  get pid(): number | undefined {
    return this.transport instanceof StdioTransport ? this.transport.pid : undefined;
  }

  // ───────────────────────────── connecting ─────────────────────────────

  /** Connects and detects (or checks) the era. Resolves with the client itself. Idempotent. */
  connect(): Promise<this> {
    if (this.state === 'connected') return Promise.resolve(this);
    if (this.state === 'closed') return Promise.reject(new ClientError('NOT_CONNECTED', 'The client was closed; create a new one'));
    if (this.connecting) return this.connecting;
    this.state = 'connecting';
    this.connecting = this.doConnect().then(
      () => {
        this.state = 'connected';
        this.connecting = undefined;
        return this;
      },
      async (err: unknown) => {
        this.connecting = undefined;
        this.state = 'closed';
        await this.transport?.close().catch(() => {});
        throw err;
      },
    );
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.transport = makeTransport(this.target, this.options);
    await this.transport.start(this.sink());
    const pinned = this.options.protocolVersion ?? 'auto';
    if (pinned === 'auto' || isStatelessVersion(pinned)) {
      if (await this.discover(pinned !== 'auto')) return;
    } else if (!CLIENT_SESSION_VERSIONS.includes(pinned)) {
      throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `Protocol version ${pinned} is not one this client speaks (${[...STATELESS_VERSIONS, ...CLIENT_SESSION_VERSIONS].join(', ')})`);
    }
    const offer = pinned === 'auto' ? V2025_11_25 : pinned;
    try {
      await this.initialize(offer);
    } catch (err) {
      const status = (err as ClientError).status;
      if (this.transport instanceof StreamableHttpTransport && this.options.legacySseFallback !== false && err instanceof ClientError && err.code === 'HTTP_ERROR' && (status === 400 || status === 404 || status === 405)) {
        this.log.info({ url: this.transport.url.href, status }, 'server refused Streamable HTTP; trying the 2024 HTTP+SSE transport');
        await this.transport.close();
        const legacy = new LegacySseTransport(this.transport.url, { headers: this.options.headers, clock: this.clock });
        this.transport = legacy;
        await legacy.start(this.sink());
        await this.initialize(offer);
        return;
      }
      throw err;
    }
  }

  /**
   * The 2026 probe. Returns true when the server speaks 2026-07-28; false to fall back to
   * initialize. A -32022 naming versions we speak gets one retry with the best of them.
   */
  private async discover(pinned: boolean): Promise<boolean> {
    let version = pinned ? this.options.protocolVersion! : STATELESS_VERSIONS[0]!;
    for (let attempt = 0; attempt < 2; attempt++) {
      let r: Record<string, unknown>;
      try {
        r = await this.roundTrip('server/discover', {}, { timeoutMs: this.options.discoverTimeoutMs ?? Math.min(10_000, this.options.timeoutMs ?? 60_000) }, { era: '2026', version });
      } catch (err) {
        if (err instanceof McpError && err.code === ErrorCode.UnsupportedProtocolVersion) {
          const supported = (err.data as { supported?: unknown } | undefined)?.supported;
          const offered = Array.isArray(supported) ? supported.filter((v): v is string => typeof v === 'string') : [];
          const common = STATELESS_VERSIONS.find((v) => offered.includes(v));
          if (common && attempt === 0) {
            version = common;
            continue;
          }
          if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server does not speak ${version} (it supports ${offered.join(', ') || 'nothing we know'})`, { cause: err });
          return false;
        }
        if (err instanceof ClientError && FATAL_PROBE.has(err.code)) throw err;
        if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `server/discover failed, so the server does not speak ${version}: ${(err as Error).message}`, { cause: err });
        this.log.debug({ err: (err as Error).message }, 'server/discover failed; falling back to initialize');
        return false;
      }
      const supported = Array.isArray(r.supportedVersions) ? (r.supportedVersions as unknown[]).filter((v): v is string => typeof v === 'string') : [];
      const common = STATELESS_VERSIONS.find((v) => supported.includes(v));
      if (!common) {
        if (pinned) throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server supports ${supported.join(', ') || 'no versions'}, not ${version}`);
        return false;
      }
      this.era_ = '2026';
      this.version = common;
      const meta = (r._meta ?? {}) as Record<string, unknown>;
      this.summary = {
        serverInfo: (meta[META.serverInfo] ?? r.serverInfo) as Implementation | undefined,
        capabilities: isObject(r.capabilities) ? (r.capabilities as Record<string, any>) : {},
        instructions: typeof r.instructions === 'string' ? r.instructions : undefined,
      };
      return true;
    }
    return false;
  }

  /** The 2025 handshake: initialize, check the version, initialized, then the GET stream. */
  private async initialize(offer: string): Promise<void> {
    const r = await this.roundTrip('initialize', { protocolVersion: offer, capabilities: this.capabilities('2025', offer), clientInfo: this.options.clientInfo ?? DEFAULT_INFO }, {}, { era: '2025', version: offer });
    if (typeof r.protocolVersion !== 'string' || !isObject(r.capabilities)) {
      throw new ClientError('INVALID_RESULT', 'The initialize result needs a string protocolVersion and a capabilities object', { details: { result: r } });
    }
    const version = r.protocolVersion;
    if (!CLIENT_SESSION_VERSIONS.includes(version)) {
      throw new ClientError('UNSUPPORTED_PROTOCOL_VERSION', `The server chose protocol version ${version}, which this client does not speak (it offered ${offer})`);
    }
    this.era_ = '2025';
    this.version = version;
    this.summary = {
      serverInfo: r.serverInfo as Implementation,
      capabilities: r.capabilities as Record<string, any>,
      instructions: typeof r.instructions === 'string' ? r.instructions : undefined,
    };
    await this.transport!.sendMessage({ jsonrpc: '2.0', method: 'notifications/initialized' }, this.sendCtx());
    if (this.transport instanceof StreamableHttpTransport) this.transport.openStandaloneStream({ 'mcp-protocol-version': version });
    if (this.logLevel && this.summary.capabilities.logging) {
      await this.roundTrip('logging/setLevel', { level: this.logLevel }, {}).catch((err: unknown) => this.warn('SET_LEVEL_FAILED', `logging/setLevel failed: ${(err as Error).message}`));
    }
  }

  /** A 404 on the 2025 session: initialize a new one (once at a time), re-subscribe, and say so. */
  protected override reinitialize(): Promise<void> {
    if (this.reinitializing) return this.reinitializing;
    const t = this.transport;
    if (!(t instanceof StreamableHttpTransport) || this.era_ !== '2025') return Promise.reject(new ClientError('SESSION_EXPIRED', 'The session expired'));
    this.reinitializing = (async () => {
      const previousSessionId = t.sessionId;
      t.resetSession();
      await this.initialize(this.version!);
      this.emit('sessionReinitialized', { previousSessionId, sessionId: t.sessionId });
      for (const uri of this.resourceCallbacks.keys()) {
        await this.roundTrip('resources/subscribe', { uri }, {}).catch((err: unknown) => this.warn('RESUBSCRIBE_FAILED', `Re-subscribing to ${uri} failed: ${(err as Error).message}`, { uri }));
      }
    })().finally(() => {
      this.reinitializing = undefined;
    });
    return this.reinitializing;
  }


  /**
   * Closes the connection: in-flight calls fail with CONNECTION_CLOSED, the 2025 HTTP session is
   * deleted, a stdio server goes through the shutdown sequence. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' && !this.transport) return;
    const wasConnected = this.state === 'connected';
    const err = new ClientError('CONNECTION_CLOSED', 'The client was closed');
    this.state = 'closed';
    this.closedError = err;
    for (const p of [...this.pending.values()]) {
      this.cancel(p, 'client closed');
      this.settle(p, err);
    }
    for (const ac of this.serverRequests.values()) ac.abort(err);
    const t = this.transport;
    this.transport = undefined;
    if (t instanceof StreamableHttpTransport && this.era_ === '2025' && this.version) {
      t.closeStandaloneStream();
      await t.terminateSession({ 'mcp-protocol-version': this.version });
    }
    await t?.close();
    if (wasConnected) this.emit('close', {});
  }
}

/** Builds the transport for a target. */
function makeTransport(target: ClientTarget, options: ClientOptions): ClientTransport {
  if (typeof target === 'object' && target !== null && 'transport' in target) return target.transport;
  const auth = options.oauth ? new OAuthFlow(options.oauth) : undefined;
  const ws = target instanceof URL ? target : typeof target === 'string' && /^wss?:\/\//i.test(target.trim()) ? new URL(target.trim()) : undefined;
  if (ws && (ws.protocol === 'ws:' || ws.protocol === 'wss:')) return new WebSocketClientTransport(ws, { headers: options.headers });
  if (target instanceof URL || (typeof target === 'string' && /^https?:\/\//i.test(target.trim()))) {
    return new StreamableHttpTransport(typeof target === 'string' ? target.trim() : target, { headers: options.headers, reconnect: options.reconnect, auth, clock: options.clock });
  }
  if (typeof target === 'object' && 'url' in target) {
    return new StreamableHttpTransport(target.url, { headers: { ...options.headers, ...target.headers }, reconnect: options.reconnect, auth, clock: options.clock });
  }
  if (typeof target === 'string') {
    const argv = splitCommand(target);
    if (argv.length === 0) throw new ClientError('INVALID_ARGUMENT', 'Empty command');
    return new StdioTransport({ command: argv[0]!, args: argv.slice(1) });
  }
  return new StdioTransport(target);
}

