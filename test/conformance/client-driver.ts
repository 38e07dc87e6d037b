/**
 * The client under test for `conformance client`: the suite starts a mock server, then runs
 *
 *   node dist/test/conformance/client-driver.js <server url>
 *
 * with MCP_CONFORMANCE_SCENARIO (what to do), MCP_CONFORMANCE_PROTOCOL_VERSION (the era: the
 * driver pins it, since the client must derive its lifecycle from it) and, for some scenarios,
 * MCP_CONFORMANCE_CONTEXT (JSON). Everything below is ordinary use of the public client API; the
 * scenario only decides which calls to make. Exit 0 on success, 1 with a message on stderr.
 */
import { createClient, type McpClient, type OAuthOptions, type Tool } from '../../src/client/index.js';

const url = process.argv[process.argv.length - 1]!;
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as {
  toolCalls?: Array<{ name: string; arguments?: Record<string, unknown> }>;
  client_id?: string;
  client_secret?: string;
  issuer?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
  valid_jwt?: string;
  idp_id_token?: string;
  idp_token_endpoint?: string;
  idp_client_id?: string;
};

/** Machine-to-machine scenarios: client credentials (secret or private_key_jwt), workload JWT bearer, SEP-990 ID-JAG. */
function machineGrant(): OAuthOptions['grant'] {
  if (scenario === 'auth/client-credentials-basic') return { type: 'client_credentials' };
  if (scenario === 'auth/client-credentials-jwt') return { type: 'client_credentials', privateKeyPem: context.private_key_pem, signingAlgorithm: context.signing_algorithm };
  if (scenario === 'auth/wif-jwt-bearer' && context.valid_jwt) return { type: 'jwt_bearer', assertion: context.valid_jwt };
  if (scenario === 'auth/enterprise-managed-authorization' && context.idp_id_token && context.idp_token_endpoint) {
    return { type: 'id_jag', idToken: context.idp_id_token, idpTokenEndpoint: context.idp_token_endpoint, idpClientId: context.idp_client_id };
  }
  return undefined;
}

function log(line: string): void {
  process.stderr.write(`[client-driver ${scenario}] ${line}\n`);
}

/** A client with every handler, so every capability is declared. */
function client(): McpClient {
  const c = createClient(url, {
    protocolVersion: version,
    clientInfo: { name: 'andon-mcp-conformance-client', version: '0.1.0' },
    timeoutMs: 20_000,
    // Accept with no fields: the client fills each omitted field from the schema's default (SEP-1034).
    elicitation: {
      form: async (params) => {
        const props = (params as { requestedSchema?: { properties?: Record<string, { type?: string }> } }).requestedSchema?.properties ?? {};
        const content: Record<string, unknown> = {};
        // Boolean fields without defaults (e.g. "confirmed") are answered yes.
        for (const [k, s] of Object.entries(props)) if (s.type === 'boolean' && !('default' in s)) content[k] = true;
        return { action: 'accept', content };
      },
      url: async () => ({ action: 'accept' }),
    },
    sampling: async () => ({ role: 'assistant', content: { type: 'text', text: 'conformance sample' }, model: 'andon-test-model' }),
    roots: [{ uri: 'file:///tmp/conformance', name: 'conformance' }],
    oauth: {
      // The "browser": the suite's authorization server approves at once and redirects; the
      // redirect URL (with code, state and iss) is the answer.
      authorize: async (authorizationUrl) => {
        const res = await fetch(authorizationUrl, { redirect: 'manual' });
        const location = res.headers.get('location');
        if (!location) throw new Error(`the authorization endpoint answered HTTP ${res.status} without a redirect`);
        return location;
      },
      redirectUri: 'http://localhost:3000/callback',
      clientName: 'andon-mcp-conformance-client',
      clientMetadataUrl: 'https://conformance-test.local/client-metadata.json',
      clientId: context.client_id,
      clientSecret: context.client_secret,
      clientIssuer: context.issuer,
      grant: machineGrant(),
    },
  });
  c.on('warning', (w) => log(`warning ${w.code}: ${w.message}`));
  c.on('reconnect', (r) => log(`reconnect ${JSON.stringify(r)}`));
  return c;
}

/** Arguments that satisfy a tool's required properties, for scenarios that just need a call. */
function sampleArgs(tool: Tool): Record<string, unknown> {
  const schema = tool.inputSchema as { properties?: Record<string, { type?: string }>; required?: string[] };
  const args: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const type = schema.properties?.[name]?.type;
    args[name] = type === 'integer' || type === 'number' ? 1 : type === 'boolean' ? true : type === 'object' ? {} : type === 'array' ? [] : 'us-west1';
  }
  return args;
}

async function run(): Promise<void> {
  const c = client();
  await c.connect();
  log(`connected: era ${c.server.era}, protocol ${c.server.protocolVersion}, server ${c.server.serverInfo?.name ?? '?'}`);
  try {
    switch (scenario) {
      case 'initialize':
        await c.listTools();
        break;
      case 'tools_call': {
        await c.listTools();
        const r = await c.callTool('add_numbers', { a: 5, b: 3 });
        log(`add_numbers → ${JSON.stringify(r.content)}`);
        break;
      }
      case 'elicitation-sep1034-client-defaults':
        await c.listTools();
        await c.callTool('test_client_elicitation_defaults', {});
        break;
      case 'sse-retry':
        await c.listTools();
        log(JSON.stringify(await c.callTool('test_reconnection', {})));
        break;
      case 'request-metadata':
        await c.listTools();
        await c.callTool('any_tool', {}).catch((err: Error) => log(`tools/call: ${err.message}`));
        break;
      case 'sep-2322-client-request-state':
        await c.listTools();
        for (const name of ['test_mrtr_echo_state', 'test_mrtr_no_state', 'test_mrtr_unrelated', 'test_mrtr_no_result_type']) {
          const r = await c.callTool(name, {});
          log(`${name} → ${JSON.stringify(r.content)}`);
        }
        break;
      case 'http-standard-headers': {
        for (const t of await c.listTools()) await c.callTool(t.name, sampleArgs(t));
        for (const r of await c.listResources()) await c.readResource(r.uri);
        for (const p of await c.listPrompts()) await c.getPrompt(p.name, {});
        break;
      }
      case 'http-custom-headers':
        await c.listTools();
        for (const call of context.toolCalls ?? []) await c.callTool(call.name, call.arguments ?? {});
        break;
      case 'http-invalid-tool-headers':
        // The client drops tools with invalid x-mcp-header annotations; call what is left.
        for (const t of await c.listTools()) await c.callTool(t.name, sampleArgs(t));
        break;
      case 'json-schema-ref-no-deref':
        await c.listTools();
        break;
      case 'json-schema-2020-12-preservation': {
        const tools = await c.listTools();
        const focal = tools.find((t) => t.name !== 'json_schema_echo');
        if (!focal) throw new Error('no focal tool listed');
        await c.callTool('json_schema_echo', { schema: focal.inputSchema });
        break;
      }
      default: {
        // Unknown scenarios (auth/*, extensions): the ordinary flow — list and call every tool.
        for (const t of await c.listTools()) await c.callTool(t.name, sampleArgs(t));
        break;
      }
    }
  } finally {
    await c.close();
  }
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
