/**
 * The 2026 mirrored-header check with hostile bodies. Found by the wire fuzzer (HTTP, seed 9,
 * case 5225): a tools/call whose params.name was {"toString":1,"valueOf":"x"} made the mismatch
 * message's String() throw, and the client got a 500 "Internal error" instead of the refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { headerMismatch } from '../../src/transports/http-headers.js';
import type { JsonRpcRequest } from '../../src/protocol/jsonrpc.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const body = (text: string) => JSON.parse(text) as JsonRpcRequest;

test('header mismatch: a params.name or uri that is an object with a non-callable toString gets the refusal, not an exception', () => {
  const call = body('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":{"toString":1,"valueOf":"x"}}}');
  assert.equal(headerMismatch(req({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' }), call), 'Header mismatch: Mcp-Name header "echo" does not match params.name "{"toString":1,"valueOf":"x"}"');
  assert.equal(headerMismatch(req({ 'mcp-method': 'tools/call' }), call), 'Header mismatch: Mcp-Name header is required for tools/call (expected "{"toString":1,"valueOf":"x"}")');
  const read = body('{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{"toString":1}}}');
  assert.match(headerMismatch(req({ 'mcp-method': 'resources/read', 'mcp-name': 'test://static' }), read)!, /^Header mismatch: Mcp-Name header "test:\/\/static" does not match params.uri/);
  // A long value is shown shortened.
  const long = body(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${'x'.repeat(5000)}"}}`);
  assert.ok(headerMismatch(req({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' }), long)!.length < 400);
  // Matching headers still pass.
  assert.equal(headerMismatch(req({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' }), body('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}')), null);
});
