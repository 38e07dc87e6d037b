/**
 * TLS for the listeners (HTTP now; WebSocket and TCP reuse it): one {@link TlsContext} loads the
 * certificate, key and optional CA bundle from files, refuses anything below TLS 1.2, offers only
 * AEAD cipher suites with forward secrecy, and reloads the files when they change on disk (polled
 * on the injected clock) or when asked (SIGHUP). A reload swaps the secure context of every
 * attached server with `server.setSecureContext()`: the next handshake gets the new certificate,
 * connections already established keep theirs and stay up. A reload that fails (a half-written
 * pair, a key that does not match the certificate) keeps the old context and is logged; the next
 * change is tried again.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer, type TlsOptions as NodeTlsOptions } from 'node:tls';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/**
 * TLS 1.3 suites, then the TLS 1.2 suites of Mozilla's "intermediate" profile: ECDHE key exchange
 * (forward secrecy) with AES-GCM or ChaCha20-Poly1305 only — no CBC, no RSA key exchange, no SHA-1.
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Options of {@link TlsContext}. */
export interface TlsOptions {
  /** PEM certificate (chain) file. */
  certFile: string;
  /** PEM private key file. */
  keyFile: string;
  /** PEM CA bundle, passed as `ca` (trust anchors for client certificates, extra chain certificates). */
  caFile?: string;
  /** Lowest protocol accepted. Default and floor `TLSv1.2`. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list. Default {@link MODERN_CIPHERS}. */
  ciphers?: string;
  /** Poll the files and reload when they change. Default true. */
  reloadOnChange?: boolean;
  /** How often the files are polled. Default 2000 ms. */
  pollMs?: number;
  /** `Strict-Transport-Security` on every HTTPS response. Default on, one year. */
  hsts?: { enabled?: boolean; maxAgeSec?: number; includeSubDomains?: boolean };
  clock?: Clock;
  logger?: Logger;
}

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/** A loaded TLS configuration shared by the servers it is attached to, reloadable in place. */
export class TlsContext {
  private material: Material;
  private signature: string;
  private failedSignature: string | undefined;
  private readonly servers = new Set<TlsServer>();
  private timer: Timer | undefined;
  private readonly clock: Clock;
  private reloading: Promise<boolean> | undefined;
  /** How many reloads replaced the context (for tests and logs). */
  reloads = 0;

  private constructor(
    readonly options: TlsOptions,
    material: Material,
    signature: string,
  ) {
    this.material = material;
    this.signature = signature;
    this.clock = options.clock ?? systemClock;
  }

  /** Loads and checks the files (a bad pair rejects here, at start); starts polling when asked. */
  static async load(options: TlsOptions): Promise<TlsContext> {
    const [material, signature] = await Promise.all([readMaterial(options), fileSignature(options)]);
    createSecureContext(secureOptions(options, material)); // throws on a key that does not match
    const ctx = new TlsContext(options, material, signature);
    if (options.reloadOnChange !== false) ctx.watch();
    return ctx;
  }

  /** Options for `https.createServer` / `tls.createServer`: files, floor, ciphers. */
  serverOptions(): NodeTlsOptions {
    return secureOptions(this.options, this.material);
  }

  /** The `Strict-Transport-Security` value, or undefined when HSTS is off. */
  get hsts(): string | undefined {
    const h = this.options.hsts;
    if (h?.enabled === false) return undefined;
    return `max-age=${h?.maxAgeSec ?? 31_536_000}${h?.includeSubDomains ? '; includeSubDomains' : ''}`;
  }

  /** Registers a server whose context is swapped on reload; returns a function that detaches it. */
  attach(server: TlsServer): () => void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
    return () => this.servers.delete(server);
  }

  /** An HTTPS server with this context attached (keep-alive options as for `http.createServer`). */
  createHttpsServer(opts: { keepAliveTimeout?: number }, handle: (req: IncomingMessage, res: ServerResponse) => void): HttpsServer {
    const server = createHttpsServer({ ...this.serverOptions(), ...opts }, handle);
    this.attach(server);
    return server;
  }

  /**
   * Re-reads the files and, when they load into a valid context, gives it to every attached
   * server. Resolves true when the context was replaced, false when it kept the old one.
   */
  reload(): Promise<boolean> {
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Stops polling (attached servers keep their context). */
  close(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  private watch(): void {
    this.timer = this.clock.setInterval(() => void this.poll(), Math.max(50, this.options.pollMs ?? 2000));
    this.timer.unref?.();
  }

  /** A poll reloads only when a file's size or mtime changed since the last good (or failed) load. */
  private async poll(): Promise<void> {
    if (this.reloading) return;
    let sig: string;
    try {
      sig = await fileSignature(this.options);
    } catch {
      return; // a file is missing for a moment (being replaced): try at the next poll
    }
    if (sig === this.signature || sig === this.failedSignature) return;
    await this.reload();
  }

  private async doReload(): Promise<boolean> {
    const log = this.options.logger;
    let sig = '';
    try {
      sig = await fileSignature(this.options);
      const material = await readMaterial(this.options);
      const opts = secureOptions(this.options, material);
      createSecureContext(opts);
      for (const s of this.servers) s.setSecureContext(opts);
      this.material = material;
      this.signature = sig;
      this.failedSignature = undefined;
      this.reloads++;
      log?.info({ certFile: this.options.certFile, servers: this.servers.size }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      if (sig !== this.failedSignature) log?.warn({ certFile: this.options.certFile, err: (err as Error).message }, 'TLS reload failed; keeping the current certificate');
      this.failedSignature = sig;
      return false;
    }
  }
}

function secureOptions(o: TlsOptions, m: Material): NodeTlsOptions & SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca ? { ca: m.ca } : {}),
    minVersion: o.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: o.ciphers ?? MODERN_CIPHERS,
    honorCipherOrder: true,
  };
}

async function readMaterial(o: TlsOptions): Promise<Material> {
  const [cert, key, ca] = await Promise.all([readFile(o.certFile), readFile(o.keyFile), o.caFile ? readFile(o.caFile) : undefined]);
  return { cert, key, ca };
}

async function fileSignature(o: TlsOptions): Promise<string> {
  const files = [o.certFile, o.keyFile, ...(o.caFile ? [o.caFile] : [])];
  const st = await Promise.all(files.map((f) => stat(f)));
  return st.map((s) => `${s.size}:${s.mtimeMs}:${s.ino}`).join('|');
}
