/**
 * A deliberately bad MCP server over stdio (2025 era only; server/discover gets -32601). The mode
 * in argv[2] picks the misbehaviour; tools/call of `echo` always works so tests can check that
 * only the affected call fails.
 *
 *   garbage       tools/list is answered with a broken JSON line naming its id
 *   noise         a non-JSON line with no id before every answer
 *   unknown-id    tools/call `twice` is answered for an unknown id first, then properly
 *   wrong-type    tools/list result has "tools": "nope"; tools/call `bad` gets result "oops"
 *   hang          tools/call `hang` is never answered
 *   die           tools/call `die` makes the process exit with code 3
 *   stubborn      ignores stdin closing (exits on SIGTERM)
 *   very-stubborn ignores stdin closing and SIGTERM (only SIGKILL works)
 */
const mode = process.argv[2] ?? 'garbage';

function send(m: unknown): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

if (mode === 'stubborn' || mode === 'very-stubborn') {
  // Keep the event loop alive after stdin closes.
  setInterval(() => {}, 1000);
  process.on('SIGTERM', () => {
    process.stderr.write('got SIGTERM\n');
    if (mode === 'stubborn') process.exit(0);
  });
}

let buf = '';
process.stdin.on('data', (chunk: Buffer) => {
  buf += chunk.toString('utf8');
  let nl = buf.indexOf('\n');
  while (nl !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line.trim()) handle(JSON.parse(line) as { id?: number | string; method?: string; params?: any });
    nl = buf.indexOf('\n');
  }
});
process.stdin.on('end', () => {
  if (mode !== 'stubborn' && mode !== 'very-stubborn') process.exit(0);
});

function handle(m: { id?: number | string; method?: string; params?: any }): void {
  if (m.method === undefined || m.id === undefined) return;
  const id = m.id;
  if (mode === 'noise') process.stdout.write('DEBUG: this line is not JSON\n');
  switch (m.method) {
    case 'initialize':
      return send({ jsonrpc: '2.0', id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: `bad-${mode}`, version: '0.0.1' } } });
    case 'server/discover':
      return send({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
    case 'ping':
      return send({ jsonrpc: '2.0', id, result: {} });
    case 'tools/list':
      if (mode === 'garbage') {
        process.stdout.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[{"name":"x"\n`);
        return;
      }
      if (mode === 'wrong-type') return send({ jsonrpc: '2.0', id, result: { tools: 'nope' } });
      return send({ jsonrpc: '2.0', id, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } });
    case 'tools/call': {
      const name = m.params?.name;
      if (name === 'echo') return send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: String(m.params?.arguments?.text ?? '') }] } });
      if (name === 'twice' && mode === 'unknown-id') {
        send({ jsonrpc: '2.0', id: 987654, result: { content: [{ type: 'text', text: 'for nobody' }] } });
        return send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'the real answer' }] } });
      }
      if (name === 'bad' && mode === 'wrong-type') return send({ jsonrpc: '2.0', id, result: 'oops' });
      if (name === 'hang') return;
      if (name === 'die') {
        process.stderr.write('fatal: the server is going down\n');
        process.exit(3);
      }
      return send({ jsonrpc: '2.0', id, error: { code: -32602, message: `Unknown tool: ${String(name)}` } });
    }
    default:
      return send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${m.method}` } });
  }
}
