/**
 * The component registry: the supervision tree (`node` → store, `server:<name>`, tools, transports)
 * and the operator's view of it: `components()`, `halt()`, `resume()`.
 *
 * Component ids: `node`, `store`, `server:<name>`, `transport:http`, `transport:stdio`,
 * `transport:ws`, `transport:tcp`, `transport:sse`,
 * `tool:<name>`, `ops`.
 */
import type { McpServer } from '../server/server.js';
import type { HttpEndpoint } from '../transports/serve-http.js';
import type { StdioConnection } from '../transports/stdio.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { FailureDetector } from './failure-detection.js';
import type { HaltRecord, HaltRegistry } from './halt.js';
import { netTransportSpec, type NetTransport } from './net-transports.js';
import { Supervisor, UnknownComponentError, type ChildLink, type ChildSpec, type ComponentInfo } from './supervisor.js';

/** What the tree needs from the runtime. */
export interface ComponentDeps {
  server: McpServer;
  halts: HaltRegistry;
  log: Logger;
  clock: Clock;
  failures: FailureDetector;
  intensity?: { maxRestarts: number; windowMs: number };
  backoff?: { baseMs: number; maxMs: number };
  /** Current drain phase. */
  phase(): string;
  /** Grace for a node halt to let in-flight requests finish. */
  graceMs(): number;
  /** Root escalation (restart intensity exceeded at the root). */
  onEscalate(err: Error): void;
  /** Halt states changed (health readiness). */
  onChange(): void;
}

/** The supervision tree and the operator actions on it. */
export class ComponentTree {
  readonly root: Supervisor;
  readonly tools: Supervisor;
  http: HttpEndpoint | undefined;
  stdio: StdioConnection | undefined;
  /** WebSocket, TCP and legacy SSE transports (src/runtime/net-transports.ts). */
  readonly net: NetTransport[] = [];
  private serverHaltReason: string | null = null;

  constructor(private readonly d: ComponentDeps) {
    const sup = { halts: d.halts, logger: d.log, clock: d.clock, intensity: d.intensity, backoff: d.backoff };
    this.root = new Supervisor({ id: 'node', strategy: 'one_for_one', ...sup });
    this.tools = new Supervisor({ id: 'tools', strategy: 'one_for_one', ...sup });
    this.root.onEscalate = (err) => d.onEscalate(err);
  }

  /** The server component's halt reason, or null while it runs. */
  get serverHalted(): string | null {
    return this.serverHaltReason;
  }

  /** Builds the tree (store, server, tools) and starts it. Transports are added once listening. */
  async start(): Promise<void> {
    const { server, halts } = this.d;
    await this.root.add({ id: 'store', kind: 'store', critical: true, start: () => ({ stop: () => {} }) });
    const serverId = `server:${server.info.name}`;
    await this.root.add({
      id: serverId,
      kind: 'server',
      critical: true,
      start: () => {
        this.serverHaltReason = null;
        return { stop: (reason) => void (this.serverHaltReason = halts.isHalted(serverId) ? reason : null) };
      },
    });
    if (halts.isHalted(serverId)) this.serverHaltReason = halts.get(serverId)!.reason;
    for (const name of server.toolNames()) {
      // A tool halted in a previous run is not started, so hide it here, before any request.
      const h = halts.get(`tool:${name}`);
      if (h) server.setToolHalted(name, h.reason);
      await this.tools.add(this.toolSpec(name));
    }
    await this.root.add(this.tools.asChild());
    await this.root.start();
  }

  /** Supervises the HTTP endpoint (already listening): a server error is its crash; a halt stops accepting. */
  async addHttp(http: HttpEndpoint): Promise<void> {
    this.http = http;
    let current: ChildLink | undefined;
    // A server error after listening is the transport's crash (its supervisor restarts or halts it).
    http.httpServer.on('error', (err) => current?.crashed(err));
    await this.root.add({
      id: 'transport:http',
      kind: 'transport',
      critical: true,
      start: (link: ChildLink) => {
        current = link;
        http.handler.setAccepting(this.d.phase() === 'running' && !this.d.halts.isHalted('node'));
        return {
          stop: async (reason: string) => {
            http.handler.setAccepting(false, `Service Unavailable: transport halted (${reason})`);
            await this.d.server.whenIdle(5000);
          },
        };
      },
    });
  }

  /** Supervises a stdio connection (transient: stdin closing ends it without a restart). */
  async addStdio(open: () => StdioConnection): Promise<void> {
    await this.root.add({
      id: 'transport:stdio',
      kind: 'transport',
      restart: 'transient',
      start: (link: ChildLink) => {
        this.stdio = open();
        void this.stdio.closed.then(() => link.exited());
        return { stop: () => this.stdio?.close() };
      },
    });
  }

  /** Supervises a WebSocket, TCP or legacy SSE transport (already listening) as `transport:<kind>`. */
  async addNet(t: NetTransport): Promise<void> {
    this.net.push(t);
    await this.root.add(netTransportSpec(t, this.d.server, this.d.halts));
  }

  /** Closes the WebSocket, TCP and legacy SSE transports (drain, failed start). */
  async closeNet(): Promise<void> {
    await Promise.all(this.net.map((t) => t.close()));
  }

  private toolSpec(name: string): ChildSpec {
    const id = `tool:${name}`;
    const { server, halts, failures } = this.d;
    return {
      id,
      kind: 'tool',
      start: (link: ChildLink) => {
        failures.started(name, link);
        server.setToolUnavailable(name, null);
        server.setToolHalted(name, null);
        return {
          stop: (reason: string) => {
            failures.stopped(name);
            // Halted: hidden and refused with the operator's reason. Restarting: still listed,
            // refused with a clear error until the supervisor brings it back.
            if (halts.isHalted(id)) server.setToolHalted(name, halts.get(id)!.reason);
            else server.setToolUnavailable(name, `restarting after a crash (${reason})`);
          },
        };
      },
    };
  }

  /** Component table: the tree plus the node itself, with in-flight counts. */
  components(): ComponentInfo[] {
    const node = this.d.halts.get('node');
    const nodeInfo: ComponentInfo = {
      id: 'node',
      kind: 'node',
      state: node ? (node.state as ComponentInfo['state']) : this.d.phase() === 'running' ? 'running' : 'stopped',
      restarts: 0,
      lastError: null,
      haltReason: node?.reason ?? null,
      critical: true,
    };
    // In-flight counts are derived on demand from the server's set, not kept on the hot path.
    const perTool = new Map<string, number>();
    const all = this.d.server.inflightRequests();
    for (const inc of all) {
      if (inc.request.method !== 'tools/call') continue;
      const id = `tool:${String(inc.request.params?.name)}`;
      perTool.set(id, (perTool.get(id) ?? 0) + 1);
    }
    nodeInfo.inflight = all.length;
    const rest = this.root.list().filter((c) => c.id !== 'tools');
    for (const c of rest) if (c.kind === 'transport' || c.kind === 'server') c.inflight = all.length;
    return [nodeInfo, ...rest, ...this.tools.list().map((c) => ({ ...c, inflight: perTool.get(c.id) ?? 0 }))];
  }

  private supervisorOf(id: string): Supervisor {
    if (this.tools.has(id)) return this.tools;
    if (this.root.has(id)) return this.root;
    throw new UnknownComponentError(id);
  }

  /** Pulls the cord on one component (or `node`). Persisted; survives restarts. */
  async halt(id: string, reason: string, by = 'operator'): Promise<HaltRecord> {
    if (id === 'node') {
      const rec = await this.d.halts.set('node', 'halted_manual', reason, by);
      this.applyNodeHalt(reason);
      this.d.onChange();
      await this.d.server.whenIdle(this.d.graceMs());
      return rec;
    }
    await this.supervisorOf(id).halt(id, reason, 'halted_manual', by);
    this.d.onChange();
    return this.d.halts.get(id)!;
  }

  /** Resumes a halted component (or `node`). */
  async resume(id: string, by = 'operator'): Promise<void> {
    if (id === 'node') {
      await this.d.halts.clear('node', by);
      if (this.d.phase() === 'running' && !this.d.halts.isHalted('transport:http')) this.http?.handler.setAccepting(true);
      this.d.onChange();
      return;
    }
    await this.supervisorOf(id).resume(id, by);
    this.d.onChange();
  }

  /** A halted node refuses every new request at the transport (503) until resumed. */
  applyNodeHalt(reason: string): void {
    this.http?.handler.setAccepting(false, `Service Unavailable: node halted (${reason})`);
  }
}
