/**
 * The client side of the `andon` command:
 *
 *   andon tools <url|command>                    list a server's tools
 *   andon call  <url|command> <tool> [json-args] call a tool
 *   andon read  <url|command> <uri>              read a resource
 *
 * A target starting with http:// or https:// is a Streamable HTTP URL (with the HTTP+SSE
 * fallback); anything else is a command line, split as a shell would and spawned over stdio,
 * e.g. `andon tools "npx -y @modelcontextprotocol/server-everything"`. Output is for people by
 * default and JSON with `--json`. Exit codes: 0 success, 1 the tool reported an error
 * (`isError`), 2 anything else failed.
 */
import type { Command } from 'commander';
import type { ClientTarget, McpClient } from '../client/client.js';
import { splitCommand } from '../client/shell-split.js';
import { ClientError, McpError } from '../client/errors.js';
import type { CallToolResult, ContentBlock, ResourceContents, Tool } from '../client/types.js';
import type { OAuthOptions } from '../client/oauth.js';

/** Options shared by the client commands. */
interface ClientFlags {
  json?: boolean;
  header?: string[];
  env?: string[];
  protocol?: string;
  timeout?: string;
  verbose?: boolean;
  oauth?: boolean;
  clientCredentials?: string;
}

/**
 * The browser step of OAuth for a terminal: a one-shot loopback server receives the redirect
 * (RFC 8252 §7.3), and the authorization URL is printed for the person to open.
 */
async function loopbackAuthorizer(): Promise<{ redirectUri: string; authorize: (url: URL) => Promise<string>; close: () => void }> {
  const { createServer } = await import('node:http');
  let deliver: ((url: string) => void) | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Authorization received; you can close this window and return to the terminal.\n');
    deliver?.(`http://127.0.0.1:${String((server.address() as { port: number }).port)}${req.url ?? ''}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    authorize: (url) =>
      new Promise<string>((resolveUrl, reject) => {
        err(`andon: the server requires authorization. Open this URL in a browser:\n\n  ${url.href}\n`);
        const timer = setTimeout(() => reject(new Error('no authorization within 5 minutes')), 5 * 60_000);
        timer.unref();
        deliver = (u) => {
          clearTimeout(timer);
          resolveUrl(u);
        };
      }),
    close: () => server.close(),
  };
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function err(text: string): void {
  process.stderr.write(`${text}\n`);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function pairs(list: string[] | undefined, sep: string, what: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf(sep);
    if (i <= 0) throw new ClientError('INVALID_ARGUMENT', `${what} must look like NAME${sep}VALUE, got "${item}"`);
    o[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return o;
}

/** Connects as the flags say, runs `fn`, always closes. */
async function withClient<T>(target: string, flags: ClientFlags, fn: (c: McpClient) => Promise<T>): Promise<T> {
  const timeoutMs = flags.timeout !== undefined ? Number(flags.timeout) : 60_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ClientError('INVALID_ARGUMENT', `--timeout must be a positive number of ms, got ${flags.timeout}`);
  const isUrl = /^https?:\/\//i.test(target.trim());
  let spec: ClientTarget = target.trim();
  if (!isUrl) {
    // A command line: split here so a bad quote is reported before anything is spawned.
    const argv = splitCommand(target);
    if (argv.length === 0) throw new ClientError('INVALID_ARGUMENT', 'The command is empty');
    spec = { command: argv[0]!, args: argv.slice(1), env: pairs(flags.env, '=', '--env'), stderr: flags.verbose ? 'inherit' : 'pipe' };
  }
  let oauth: OAuthOptions | undefined;
  let loopback: Awaited<ReturnType<typeof loopbackAuthorizer>> | undefined;
  if (flags.clientCredentials !== undefined) {
    const i = flags.clientCredentials.indexOf(':');
    if (i <= 0) throw new ClientError('INVALID_ARGUMENT', '--client-credentials must look like CLIENT_ID:CLIENT_SECRET');
    oauth = { grant: { type: 'client_credentials' }, clientId: flags.clientCredentials.slice(0, i), clientSecret: flags.clientCredentials.slice(i + 1) };
  } else if (flags.oauth && isUrl) {
    loopback = await loopbackAuthorizer();
    oauth = { authorize: loopback.authorize, redirectUri: loopback.redirectUri, clientName: 'andon CLI' };
  }
  // The client (and its transports) load only when a client command runs.
  const { createClient } = await import('../client/client.js');
  const client = createClient(spec, {
    protocolVersion: flags.protocol ?? 'auto',
    headers: pairs(flags.header, ':', '--header'),
    timeoutMs,
    clientInfo: { name: 'andon-cli', version: '0.1.0' },
    oauth,
  });
  if (flags.verbose) {
    client.on('reconnect', (r) => err(`andon: reconnect ${JSON.stringify(r)}`));
    client.on('warning', (w) => err(`andon: warning ${w.code}: ${w.message}`));
    client.on('sessionReinitialized', (s) => err(`andon: session expired; new session ${String(s.sessionId)}`));
  }
  try {
    await client.connect();
    if (flags.verbose) {
      const s = client.server;
      err(`andon: connected to ${s.serverInfo?.name ?? 'server'} ${s.serverInfo?.version ?? ''} over ${s.transport}, protocol ${s.protocolVersion}`);
    }
    return await fn(client);
  } finally {
    loopback?.close();
    await client.close();
  }
}

/** One line per argument: `name: type (required) — description`. */
function describeArgs(tool: Tool): string[] {
  const schema = tool.inputSchema as { properties?: Record<string, { type?: unknown; description?: string }>; required?: string[] };
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const type = Array.isArray(s.type) ? s.type.join('|') : typeof s.type === 'string' ? s.type : 'any';
    return `    ${name}${required.has(name) ? '' : '?'}: ${type}${s.description ? ` — ${s.description}` : ''}`;
  });
}

function showContent(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${Buffer.byteLength(block.data, 'base64')} bytes]`;
    case 'resource_link':
      return `[resource link ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
    case 'resource':
      return showResource(block.resource);
    default:
      return JSON.stringify(block);
  }
}

function showResource(r: ResourceContents): string {
  if ('text' in r) return r.text;
  return `[binary ${r.mimeType ?? 'data'} ${r.uri}, ${Buffer.byteLength(r.blob, 'base64')} bytes]`;
}

/** Turns a failure into the exit code and a one-line message. */
function fail(e: unknown): never {
  if (e instanceof McpError) err(`andon: the server answered with error ${e.code}: ${e.message}`);
  else if (e instanceof ClientError) err(`andon: ${e.message} [${e.code}]`);
  else err(`andon: ${(e as Error).message ?? String(e)}`);
  process.exit(2);
}

function common(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON for scripts instead of text for people')
    .option('-H, --header <name:value>', 'HTTP header to send (repeatable)', collect)
    .option('-e, --env <NAME=value>', 'environment variable for a command target (repeatable)', collect)
    .option('--protocol <version>', 'protocol version: auto, 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26', 'auto')
    .option('--timeout <ms>', 'per-request timeout in ms (an --oauth login waits longer)', '60000')
    .option('--oauth', 'log in with OAuth if the server asks (prints a URL to open; the redirect comes back to a loopback port)')
    .option('--client-credentials <id:secret>', 'OAuth client_credentials grant for machine-to-machine access')
    .option('-v, --verbose', 'report the connection and retries on stderr (and show the server\'s stderr)');
}

/** Adds `andon tools`, `andon call` and `andon read` to the program. */
export function registerClientCommands(program: Command): void {
  common(program.command('tools'))
    .description('list the tools of an MCP server (a URL, or a command run over stdio)')
    .argument('<target>', 'http(s) URL, or a command line such as "npx -y @modelcontextprotocol/server-everything"')
    .action(async (target: string, flags: ClientFlags) => {
      try {
        const tools = await withClient(target, flags, (c) => c.listTools());
        if (flags.json) return out(JSON.stringify(tools, null, 2));
        if (tools.length === 0) return out('(no tools)');
        for (const t of tools) {
          out(`${t.name}${t.title && t.title !== t.name ? ` (${t.title})` : ''}${t.description ? ` — ${t.description.split('\n')[0]}` : ''}`);
          for (const line of describeArgs(t)) out(line);
        }
      } catch (e) {
        fail(e);
      }
    });

  common(program.command('call'))
    .description('call a tool of an MCP server and print its result')
    .argument('<target>', 'http(s) URL, or a command line')
    .argument('<tool>', 'tool name')
    .argument('[json-args]', 'arguments as a JSON object', '{}')
    .action(async (target: string, tool: string, jsonArgs: string, flags: ClientFlags) => {
      try {
        let args: unknown;
        try {
          args = JSON.parse(jsonArgs);
        } catch (e) {
          throw new ClientError('INVALID_ARGUMENT', `json-args is not valid JSON: ${(e as Error).message}`);
        }
        if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new ClientError('INVALID_ARGUMENT', 'json-args must be a JSON object, e.g. \'{"city":"Paris"}\'');
        const result: CallToolResult = await withClient(target, flags, (c) => c.callTool(tool, args as Record<string, unknown>));
        if (flags.json) out(JSON.stringify(result, null, 2));
        else {
          for (const block of result.content) out(showContent(block));
          const textMirrorsStructured = result.content.some((b) => b.type === 'text' && b.text.trim() === JSON.stringify(result.structuredContent));
          if (result.structuredContent !== undefined && !textMirrorsStructured) out(JSON.stringify(result.structuredContent, null, 2));
        }
        if (result.isError) {
          if (!flags.json) err(`andon: tool "${tool}" reported an error`);
          process.exitCode = 1;
        }
      } catch (e) {
        fail(e);
      }
    });

  common(program.command('read'))
    .description('read a resource of an MCP server')
    .argument('<target>', 'http(s) URL, or a command line')
    .argument('<uri>', 'resource URI')
    .action(async (target: string, uri: string, flags: ClientFlags) => {
      try {
        const result = await withClient(target, flags, (c) => c.readResource(uri));
        if (flags.json) return out(JSON.stringify(result, null, 2));
        for (const c of result.contents) out(showResource(c));
      } catch (e) {
        fail(e);
      }
    });
}
