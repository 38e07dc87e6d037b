/**
 * What runs in front of the Streamable HTTP handler on a listener andon owns: the HSTS header on
 * HTTPS responses, and an optional request guard (the OAuth resource server: metadata documents
 * and the bearer-token check) that may answer a request itself before the handler sees it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.js';

/** A request handler of node:http. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Runs before the MCP handler. Resolves true when it answered the request (a metadata document,
 * a 401), false to pass it on. It must not read the body of a request it passes on.
 */
export type RequestGuard = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Composes `handle` with the HSTS header and `guard`; returns `handle` itself when there is neither. */
export function frontHandler(handle: RequestHandler, o: { hsts?: string; guard?: RequestGuard; logger?: Logger }): RequestHandler {
  const { hsts, guard } = o;
  if (hsts === undefined && guard === undefined) return handle;
  return (req, res) => {
    if (hsts !== undefined) res.setHeader('strict-transport-security', hsts);
    if (guard === undefined) return handle(req, res);
    let answered: boolean | Promise<boolean>;
    try {
      answered = guard(req, res);
    } catch (err) {
      return fail(res, err, o.logger);
    }
    if (answered === false) return handle(req, res);
    if (answered === true) return;
    answered.then(
      (done) => {
        if (!done) handle(req, res);
      },
      (err: unknown) => fail(res, err, o.logger),
    );
  };
}

function fail(res: ServerResponse, err: unknown, log: Logger | undefined): void {
  log?.error({ err: (err as Error)?.message }, 'HTTP request guard failed');
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } }));
}
