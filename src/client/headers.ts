/**
 * 2026-07-28 HTTP request headers: `Mcp-Method` on every POST, `Mcp-Name` on tools/call,
 * resources/read and prompts/get (and the tasks extension's tasks/get, update and cancel), and `Mcp-Param-<Name>` for tool arguments the tool's
 * inputSchema marks with `x-mcp-header`. Values that are not plain visible ASCII travel
 * base64-wrapped as `=?base64?…?=`, so a header can never carry control characters or lose
 * leading/trailing whitespace on the way.
 */

/** `[argument name, header suffix]` pairs of one tool, from its `x-mcp-header` annotations. */
export type HeaderParams = Array<[string, string]>;

/** RFC 9110 token characters: what a header field name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** JSON Schema types whose values have one unambiguous text form in a header. */
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);

/**
 * Reads and validates a tool's `x-mcp-header` annotations. Returns the pairs, or the reason the
 * tool must be excluded: an empty or non-token name, a non-primitive (or `number`) property, or
 * two properties claiming the same header (case-insensitively).
 */
export function toolHeaderParams(inputSchema: unknown): { params: HeaderParams } | { error: string } {
  const props = (inputSchema as { properties?: unknown } | null)?.properties;
  const params: HeaderParams = [];
  if (!props || typeof props !== 'object') return { params };
  const seen = new Map<string, string>();
  for (const [arg, schema] of Object.entries(props as Record<string, unknown>)) {
    if (!schema || typeof schema !== 'object' || !('x-mcp-header' in schema)) continue;
    const name = (schema as Record<string, unknown>)['x-mcp-header'];
    if (typeof name !== 'string' || name.length === 0) return { error: `property "${arg}": x-mcp-header must be a non-empty string` };
    if (!TOKEN.test(name)) return { error: `property "${arg}": x-mcp-header "${name}" is not a valid header name (token characters only, no spaces, colons, control or non-ASCII characters)` };
    const type = (schema as Record<string, unknown>).type;
    const types = Array.isArray(type) ? type.filter((t) => t !== 'null') : [type];
    if (types.length === 0 || !types.every((t) => typeof t === 'string' && PRIMITIVE.has(t))) {
      return { error: `property "${arg}": x-mcp-header is only allowed on string, integer or boolean properties (got ${JSON.stringify(type)})` };
    }
    const key = name.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) return { error: `properties "${other}" and "${arg}" both use x-mcp-header "${name}" (header names are case-insensitive)` };
    seen.set(key, arg);
    params.push([arg, name]);
  }
  return { params };
}

/** True when `v` can be sent as-is: visible ASCII and inner spaces, nothing at the edges to trim. */
function plainSafe(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  if (v !== v.trim()) return false;
  // A value that already looks like the wrapper would be decoded by the server: wrap it too.
  return !/^=\?base64\?.*\?=$/.test(v);
}

/**
 * The header form of a value, or undefined when it must be omitted (null, absent, or not a
 * primitive). Booleans are `true`/`false`, numbers their decimal form.
 */
export function encodeHeaderValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  let text: string;
  if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'string') text = value;
  else return undefined;
  return plainSafe(text) ? text : `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * The `Mcp-Name` source of a method: `params.name`, `params.uri`, or (tasks extension)
 * `params.taskId`; null when the method has none.
 */
export function nameKey(method: string): 'name' | 'uri' | 'taskId' | null {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  if (method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel') return 'taskId';
  return null;
}

/** Headers of one 2026 POST: version, method, name and mirrored parameters. */
export function requestHeaders2026(version: string, method: string, params: Record<string, unknown>, headerParams: HeaderParams | undefined): Record<string, string> {
  const h: Record<string, string> = { 'mcp-protocol-version': version, 'mcp-method': method };
  const key = nameKey(method);
  if (key) {
    const v = encodeHeaderValue(params[key]);
    if (v !== undefined) h['mcp-name'] = v;
  }
  if (headerParams && method === 'tools/call') {
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    for (const [arg, name] of headerParams) {
      const v = encodeHeaderValue(args[arg]);
      if (v !== undefined) h[`mcp-param-${name.toLowerCase()}`] = v;
    }
  }
  return h;
}
