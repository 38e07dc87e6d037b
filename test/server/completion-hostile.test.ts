/**
 * Found by the wire fuzzer (TCP and stdio, 100,000 mutants, seed 9): completion/complete with a
 * ref.name or ref.uri that is an object with a non-callable toString ({"toString":1}) was
 * answered with a bare -32603 "Internal error" (String() threw building the "Unknown prompt"
 * message). It is now -32602 naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageConnection } from '../../src/transports/message-connection.js';
import type { JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import { buildTestServer } from './test-server.js';

test('completion/complete: a non-string ref.name or ref.uri is -32602 naming it, not an internal error', async () => {
  const out: JsonRpcMessage[] = [];
  const mc = new MessageConnection(buildTestServer(), { kind: 'tcp', write: (m) => out.push(m) });
  mc.receive(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
  mc.receive('{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":{"toString":1}},"argument":{"name":"who","value":"w"}}}');
  mc.receive('{"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":{"toString":1}},"argument":{"name":"id","value":"w"}}}');
  mc.receive('{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":5},"argument":{"name":"who","value":"w"}}}');
  for (let i = 0; i < 200 && out.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
  const byId = new Map(out.map((m) => ['id' in m ? m.id : null, m] as const));
  for (const [id, field] of [[1, 'ref.name'], [2, 'ref.uri'], [3, 'ref.name']] as const) {
    const m = byId.get(id) as { error?: { code: number; message: string } } | undefined;
    assert.equal(m?.error?.code, -32602, JSON.stringify(out));
    assert.match(m!.error!.message, new RegExp(field.replace('.', '\\.')), JSON.stringify(m));
  }
  mc.close('done');
});
