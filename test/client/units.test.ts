/**
 * The client's pure pieces: the incremental SSE parser, x-mcp-header validation and value
 * encoding, backoff bounds, SEP-1034 elicitation defaults, WWW-Authenticate parsing and JWT signing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../src/client/sse-parser.js';
import { encodeHeaderValue, requestHeaders2026, toolHeaderParams } from '../../src/client/headers.js';
import { backoffDelay, reconnectPolicy } from '../../src/client/backoff.js';
import { generateKeyPairSync, verify } from 'node:crypto';
import { parseBearerChallenge, signJwt, withDefaults } from '../../src/client/index.js';

function parse(chunks: Array<string | Uint8Array>): { events: SseEvent[]; ids: string[]; retries: number[] } {
  const events: SseEvent[] = [];
  const ids: string[] = [];
  const retries: number[] = [];
  const p = new SseParser({ onEvent: (e) => events.push(e), onId: (i) => ids.push(i), onRetry: (r) => retries.push(r) });
  for (const c of chunks) p.push(c);
  p.end();
  return { events, ids, retries };
}

test('SSE: events split across chunks, CRLF and CR line ends, multi-line data, comments', () => {
  const { events, ids, retries } = parse(['id: 1\nretry: 5', '00\ndata: \n\n: keep-alive\n\nevent: message\r', '\ndata: {"a":', '1}\r\n\r\ndata: line1\rdata: line2\r\r', 'data: tail-without-blank-line']);
  assert.deepEqual(ids, ['1']);
  assert.deepEqual(retries, [500]);
  assert.deepEqual(
    events.map((e) => [e.event, e.data]),
    [
      ['message', '{"a":1}'],
      ['message', 'line1\nline2'],
    ],
    'the priming event (empty data) and the unterminated event are not dispatched',
  );
});

test('SSE: UTF-8 split inside a code point', () => {
  const bytes = Buffer.from('data: héllo wörld\n\n', 'utf8');
  const { events } = parse([bytes.subarray(0, 8), bytes.subarray(8, 9), bytes.subarray(9)]);
  assert.equal(events[0]!.data, 'héllo wörld');
});

test('x-mcp-header: valid annotations become header params', () => {
  const r = toolHeaderParams({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'integer', 'x-mcp-header': 'Count' }, b: { type: ['boolean', 'null'], 'x-mcp-header': 'Flag' }, plain: { type: 'string' } } });
  assert.deepEqual(r, {
    params: [
      ['region', 'Region'],
      ['n', 'Count'],
      ['b', 'Flag'],
    ],
  });
});

test('x-mcp-header: invalid annotations exclude the tool', () => {
  const bad = (prop: Record<string, unknown>, extra: Record<string, unknown> = {}) => toolHeaderParams({ type: 'object', properties: { v: prop, ...extra } });
  for (const [prop, why] of [
    [{ type: 'string', 'x-mcp-header': '' }, /non-empty/],
    [{ type: 'object', 'x-mcp-header': 'Data' }, /string, integer or boolean/],
    [{ type: 'number', 'x-mcp-header': 'Score' }, /string, integer or boolean/],
    [{ type: 'null', 'x-mcp-header': 'Nil' }, /string, integer or boolean/],
    [{ type: 'string', 'x-mcp-header': 'My Region' }, /not a valid header name/],
    [{ type: 'string', 'x-mcp-header': 'Region:1' }, /not a valid header name/],
    [{ type: 'string', 'x-mcp-header': 'Région' }, /not a valid header name/],
    [{ type: 'string', 'x-mcp-header': 'Region\t1' }, /not a valid header name/],
  ] as const) {
    const r = bad(prop);
    assert.ok('error' in r && why.test(r.error), `${JSON.stringify(prop)} → ${JSON.stringify(r)}`);
  }
  const dup = bad({ type: 'string', 'x-mcp-header': 'MyField' }, { w: { type: 'string', 'x-mcp-header': 'myfield' } });
  assert.ok('error' in dup && /case-insensitive/.test(dup.error));
});

test('header values: plain ASCII as is, anything unsafe base64-wrapped, null omitted', () => {
  assert.equal(encodeHeaderValue('us-west1'), 'us-west1');
  assert.equal(encodeHeaderValue('us west 1'), 'us west 1');
  assert.equal(encodeHeaderValue(''), '');
  assert.equal(encodeHeaderValue(42), '42');
  assert.equal(encodeHeaderValue(false), 'false');
  assert.equal(encodeHeaderValue(null), undefined);
  assert.equal(encodeHeaderValue({ a: 1 }), undefined);
  for (const v of ['Hello, 世界', ' padded ', 'line1\nline2', '\tindented', '=?base64?abc?=']) {
    const h = encodeHeaderValue(v)!;
    const m = /^=\?base64\?(.*)\?=$/.exec(h);
    assert.ok(m, `${JSON.stringify(v)} → ${h}`);
    assert.equal(Buffer.from(m[1]!, 'base64').toString('utf8'), v);
  }
});

test('2026 request headers: method, name, mirrored params', () => {
  const h = requestHeaders2026('2026-07-28', 'tools/call', { name: 'my-tool', arguments: { region: 'eu', n: 3, skip: null } }, [
    ['region', 'Region'],
    ['n', 'Count'],
    ['skip', 'Skip'],
  ]);
  assert.deepEqual(h, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'my-tool', 'mcp-param-region': 'eu', 'mcp-param-count': '3' });
  assert.equal(requestHeaders2026('2026-07-28', 'resources/read', { uri: 'file:///a%20b.txt' }, undefined)['mcp-name'], 'file:///a%20b.txt');
  assert.equal(requestHeaders2026('2026-07-28', 'tools/list', {}, undefined)['mcp-name'], undefined);
});

test('backoff grows, is capped, never undercuts the server retry, and jitter only adds', () => {
  const p = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
  for (let i = 0; i < 50; i++) {
    const d1 = backoffDelay(p, 1);
    assert.ok(d1 >= 100 && d1 <= 150);
    const d5 = backoffDelay(p, 5);
    assert.ok(d5 >= 1000 && d5 <= 1500);
    assert.ok(backoffDelay(p, 1, 700) >= 700);
  }
  assert.equal(reconnectPolicy().maxAttempts, 4);
});

test('SEP-1034: omitted fields are filled from schema defaults, given ones are kept', () => {
  const schema = { type: 'object', properties: { name: { type: 'string', default: 'John' }, age: { type: 'integer', default: 30 }, x: { type: 'string' } } };
  assert.deepEqual(withDefaults(schema, { name: 'Ann' }), { name: 'Ann', age: 30 });
  assert.deepEqual(withDefaults(schema, undefined), { name: 'John', age: 30 });
});

test('WWW-Authenticate: Bearer and DPoP challenges, quoted and bare values', () => {
  assert.deepEqual(parseBearerChallenge('Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="https://x/.well-known/oauth-protected-resource/mcp"'), {
    error: 'insufficient_scope',
    scope: 'mcp:read mcp:write',
    resourceMetadata: 'https://x/.well-known/oauth-protected-resource/mcp',
  });
  assert.deepEqual(parseBearerChallenge('DPoP error=use_dpop_nonce, resource_metadata="https://x/prm"'), { error: 'use_dpop_nonce', resourceMetadata: 'https://x/prm' });
  assert.deepEqual(parseBearerChallenge(undefined), {});
});

test('signJwt: ES256 (raw r||s) and RS256 signatures verify with node:crypto', () => {
  for (const [type, alg, opts] of [
    ['ec', 'ES256', { namedCurve: 'P-256' }],
    ['rsa', 'RS256', { modulusLength: 2048 }],
  ] as const) {
    const { privateKey, publicKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
    const jwt = signJwt({ iss: 'me', n: 1 }, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, alg, { typ: 'dpop+jwt' });
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg, typ: 'dpop+jwt' });
    assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), { iss: 'me', n: 1 });
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), type === 'ec' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, Buffer.from(sig, 'base64url'));
    assert.ok(ok, `${alg} signature verifies`);
  }
});
