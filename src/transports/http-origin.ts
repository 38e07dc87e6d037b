/**
 * DNS-rebinding protection of the Streamable HTTP endpoint: the `Host` and `Origin` checks the
 * spec requires of servers bound to localhost.
 */
import type { IncomingMessage } from 'node:http';
import type { ErrorDef } from '../errors/catalogue.js';
import { HttpErrors } from '../errors/http.js';

/** Hostnames accepted by default in `Host` and in browser `Origin`s. */
export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

/**
 * Why `req` is refused for its Host or Origin header (400 without Host, 403 otherwise), or null.
 * `'*'` allows any host or origin; requests without an Origin (non-browser clients) pass.
 */
export function hostOriginRefusal(req: IncomingMessage, allowedHosts: string[] | '*', allowedOrigins: string[] | '*'): { def: ErrorDef; message: string } | null {
  if (allowedHosts !== '*') {
    const host = req.headers.host;
    if (!host) return { def: HttpErrors.MissingHost, message: 'Bad Request: missing Host header' };
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    if (!allowedHosts.includes(hostname.toLowerCase())) return { def: HttpErrors.HostForbidden, message: `Forbidden: Host "${host}" is not allowed` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && allowedOrigins !== '*' && !originAllowed(origin, allowedOrigins)) {
    return { def: HttpErrors.OriginForbidden, message: `Forbidden: Origin "${origin}" is not allowed` };
  }
  return null;
}

function originAllowed(origin: string, allowed: string[]): boolean {
  if (allowed.includes(origin)) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && LOCAL_HOSTS.includes(u.hostname);
  } catch {
    return false;
  }
}
