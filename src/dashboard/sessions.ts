/**
 * Dashboard login sessions: the admin token is exchanged once for a random session id kept in an
 * HttpOnly, SameSite=Strict cookie (Secure over TLS). The server keeps the sessions in memory
 * (a restart logs everyone out), each with its own CSRF token and an idle expiry that every
 * authenticated request extends. At most {@link MAX_SESSIONS}; the least recently used goes first.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../util/clock.js';

/** Cookie name of the session id. */
export const COOKIE = 'andon_dashboard';
/** Default idle lifetime: 8 hours. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Sessions kept at once. */
export const MAX_SESSIONS = 64;

export interface DashboardSession {
  id: string;
  csrf: string;
  expiresAt: number;
}

/** Constant-time string comparison. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether the request came over TLS (the cookie then gets `Secure`). */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

export class SessionStore {
  private readonly sessions = new Map<string, DashboardSession>();

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number = DEFAULT_SESSION_TTL_MS,
  ) {}

  /** Starts a session (after the admin token was checked). */
  create(): DashboardSession {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const s: DashboardSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.clock.now() + this.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session of a request's cookie (its expiry extended), or undefined. */
  of(req: IncomingMessage): DashboardSession | undefined {
    const id = readCookie(req.headers.cookie, COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.clock.now();
    if (s.expiresAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expiresAt = now + this.ttlMs;
    // Re-inserted so the map's order is least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  /** Whether `s` is still live (for long-lived event streams). */
  alive(s: DashboardSession): boolean {
    return this.sessions.get(s.id) === s && s.expiresAt > this.clock.now();
  }

  end(s: DashboardSession): void {
    this.sessions.delete(s.id);
  }

  /** The Set-Cookie value for `s` (or one that clears the cookie). */
  cookie(s: DashboardSession | undefined, secure: boolean): string {
    const base = `${COOKIE}=${s ? s.id : ''}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    return s ? `${base}; Max-Age=${Math.floor(this.ttlMs / 1000)}` : `${base}; Max-Age=0`;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
