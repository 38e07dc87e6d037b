// The architecture the lint rules and test/lint/architecture.test.ts enforce. One table, read by
// both: the `andon/layers` and `andon/max-file-size` rules in eslint/rules.js (editor feedback)
// and the node:test check over the whole import graph of src/ (CI, no type information needed).

/**
 * Layers, lowest first. A file may import files of its own layer and of lower layers, never of a
 * higher one (an upward import). The layer of a file is the entry with the longest matching path
 * prefix, so a single file can sit in a different layer than its folder. A file under src/ that
 * matches no entry is an error: place new folders here deliberately.
 *
 * Derived from the import graph of issue 9 (see the report of the i9-clock branch):
 * - util: clock, logger, small helpers (the base of everything).
 * - events: the typed diagnostics-channel registry (src/events), a leaf everyone publishes to.
 * - wire-codes: the JSON-RPC/MCP error codes and McpError (src/protocol/errors.ts), a leaf.
 * - errors: the one error catalogue (builds on the wire codes; the protocol refuses with it).
 * - protocol: JSON-RPC, versions, schemas and the MCP wire types (src/protocol/types.ts).
 * - store: persistence back-ends.
 * - server: the MCP server (sessions, registry, handlers).
 * - auth: the OAuth 2.1 resource server (token validation, scopes, metadata document).
 * - transports: stdio and Streamable HTTP on top of the server.
 * - client: a side branch; `mayImport` restricts it to util, protocol and errors, so the client
 *   never depends on server code (ranked here only so that no server-side layer imports it).
 * - resilience: breakers, limits, guardian, degradation, recovery strategist (issue 10).
 * - flags: feature flags (issue 12): store, evaluation, admission stage, OpenFeature provider.
 * - runtime: the runtime's parts (supervisor, halts, drain, journal, …).
 * - admin: the ops listener and admin API.
 * - observability: health, metrics, alerts, logging, mounted on the ops listener.
 * - dashboard: the operations dashboard on the ops listener (reads admin, runtime, observability).
 * - config: the configuration file, its schema, loader and reload (above observability: the
 *   alerts section is validated by the alert channels' own rules).
 * - root: the composition roots that wire everything: runtime.ts with its wiring (options,
 *   wiring, health-feed), the config → runtime mapping, index.ts.
 * - cli: the command line.
 *
 * `import type` follows the same rule (a type-only upward import still couples a lower layer to a
 * higher one); where one is necessary, list it in `allowUpward` with its reason.
 */
export const layers = [
  { name: 'util', paths: ['src/util/'] },
  { name: 'events', paths: ['src/events/', 'src/runtime/events.ts'] },
  { name: 'wire-codes', paths: ['src/protocol/errors.ts'] },
  { name: 'errors', paths: ['src/errors/'] },
  { name: 'protocol', paths: ['src/protocol/'] },
  { name: 'store', paths: ['src/store/'] },
  // The admission pipeline is the server's request path (dispatcher → stages → handler).
  { name: 'server', paths: ['src/server/', 'src/admission/'] },
  // The OAuth 2.1 resource server (issue 14): an admission stage (auth phase) and an HTTP guard
  // with the metadata document; the runtime hands the guard to the HTTP listener.
  { name: 'auth', paths: ['src/auth/'] },
  { name: 'transports', paths: ['src/transports/'] },
  { name: 'client', paths: ['src/client/'], mayImport: ['util', 'wire-codes', 'protocol', 'errors'] },
  // Self-protection (issue 10): breakers, rate and connection limits, the resource guardian and
  // degradation, the recovery strategist. Stages and controllers over the server and transports;
  // the runtime (root) creates and wires them.
  { name: 'resilience', paths: ['src/resilience/'] },
  // Feature flags (issue 12): the flag store and evaluation, the `flag` admission stage, the
  // OpenFeature provider. Over the store and the server; the runtime creates and wires them.
  { name: 'flags', paths: ['src/flags/'] },
  { name: 'runtime', paths: ['src/runtime/'] },
  { name: 'admin', paths: ['src/admin/'] },
  { name: 'observability', paths: ['src/observability/'] },
  // The operations dashboard (issue 11): pages and a live feed on the ops listener, built from the
  // runtime's components and halts, the alert history and optional panel providers.
  { name: 'dashboard', paths: ['src/dashboard/'] },
  { name: 'config', paths: ['src/config/'] },
  { name: 'root', paths: ['src/runtime/runtime.ts', 'src/runtime/options.ts', 'src/runtime/wiring.ts', 'src/runtime/dashboard-panels.ts', 'src/runtime/health-feed.ts', 'src/config/runtime-options.ts', 'src/config/runtime-target.ts', 'src/config/index.ts', 'src/index.ts'] },
  { name: 'cli', paths: ['src/cli/'] },
];

/**
 * Explicit exceptions to the layer rule: importer → imported, with the reason. Keep it short;
 * every entry is a debt with an owner.
 */
export const allowUpward = [
  // The logger redacts secrets and stamps the request scope (trace ids) on every line; both helpers
  // are dependency-free leaves that belong in util (move them there, then drop these two lines).
  { from: 'src/util/logger.ts', to: 'src/observability/redact.ts', why: 'leaf helper to move into util' },
  { from: 'src/util/logger.ts', to: 'src/observability/scope.ts', why: 'leaf helper to move into util' },
  // The admin API drives the runtime; runtime.ts (the root) mounts the admin API: a cycle the
  // runtime split of issue 9 removes (admin gets an interface, the root passes the runtime in).
  // The admin API answers POST /admin/config/reload with the reload report (a type only).
  { from: 'src/admin/admin-api.ts', to: 'src/config/reload.ts', why: 'type of the reload report' },
];

/**
 * Import cycles (value imports; `import type` cycles are erased at compile time and allowed)
 * tolerated for now, each as the set of files in the cycle. TEMPORARY: both live in files other
 * helpers of issue 9 are rewriting; the coordinator removes each entry once its cycle is gone.
 */
export const allowCycles = [
  ['src/transports/serve-http.ts', 'src/transports/streamable-http.ts'],
];

/** No file under src/ may be larger than this many bytes (25 KB): split it by concept. */
export const maxFileBytes = 25_000;

/**
 * TEMPORARY allow-list of the size rule: files over the limit that other helpers of issue 9 are
 * splitting right now. The coordinator empties this list after merging their branches.
 */
export const sizeAllowList = [];

/** The layer of a repository-relative path (posix separators), or undefined. */
export function layerOf(rel) {
  let best;
  let bestLen = -1;
  for (const l of layers) {
    for (const p of l.paths) {
      if ((p.endsWith('/') ? rel.startsWith(p) : rel === p) && p.length > bestLen) {
        best = l;
        bestLen = p.length;
      }
    }
  }
  return best;
}

/**
 * Why importing `to` from `from` (repository-relative paths) breaks the layering, or null when
 * it is allowed.
 */
export function layerViolation(from, to) {
  if (!to.startsWith('src/') || !from.startsWith('src/')) return null;
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a) return `${from} is in no layer: add its folder to eslint/architecture.js`;
  if (!b) return `${to} is in no layer: add its folder to eslint/architecture.js`;
  if (a === b) return null;
  if (allowUpward.some((x) => x.from === from && x.to === to)) return null;
  if (a.mayImport && !a.mayImport.includes(b.name)) return `layer "${a.name}" may import only ${a.mayImport.join(', ')}, not "${b.name}" (${to})`;
  if (layers.indexOf(b) > layers.indexOf(a)) return `upward import: "${a.name}" (${from}) must not import the higher layer "${b.name}" (${to})`;
  return null;
}
