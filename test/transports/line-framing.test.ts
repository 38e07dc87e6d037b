/**
 * LineFramer (stdio and TCP framing). Found by the wire fuzzer: a long line arriving in many
 * chunks was appended to one string that was searched whole for a newline at every chunk, so a
 * line's cost grew with the square of its length: a 4 MiB line (the default limit) in 64 KiB
 * chunks blocked the event loop for 8.3 s, in 1 KiB chunks for 218 s (shared 2-core VM, loaded,
 * 2026-12-02). One TCP client could stall the node. Each chunk is now searched once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer } from '../../src/transports/line-framing.js';

function frame(chunks: (Buffer | string)[], max?: number): { lines: string[]; overflows: number } {
  const lines: string[] = [];
  let overflows = 0;
  const f = new LineFramer(
    (l) => lines.push(l),
    () => overflows++,
    max,
  );
  for (const c of chunks) f.push(c);
  f.end();
  return { lines, overflows };
}

test('line framing: lines split anywhere (inside multi-byte characters too) come out whole; CRLF and a last line without newline', () => {
  const text = '{"a":"é€😀"}\r\n\n{"b":1}\nlast';
  const bytes = Buffer.from(text);
  for (let size = 1; size <= bytes.length; size++) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    assert.deepEqual(frame(chunks).lines, ['{"a":"é€😀"}', '', '{"b":1}', 'last'], `chunk size ${size}`);
  }
});

test('line framing: an over-long line is discarded whole (also when it arrives in pieces) and the next line is served', () => {
  const long = 'x'.repeat(100);
  assert.deepEqual(frame([`ok\n${long.slice(0, 40)}`, long.slice(40), long, '\nnext\n'], 64), { lines: ['ok', 'next'], overflows: 1 });
  assert.deepEqual(frame([`${long}`, '\nnext'], 64), { lines: ['next'], overflows: 1 });
  // A line at the limit is served.
  assert.deepEqual(frame(['y'.repeat(32), 'y'.repeat(32), '\n'], 64), { lines: ['y'.repeat(64)], overflows: 0 });
});

test('line framing: work is linear in the line length (8 MiB line in 1 KiB chunks)', { timeout: 120_000 }, () => {
  const chunk = Buffer.alloc(1024, 0x61);
  const n = 8 * 1024;
  const lines: number[] = [];
  const f = new LineFramer(
    (l) => lines.push(l.length),
    () => assert.fail('no overflow expected'),
    64 * 1024 * 1024,
  );
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f.push(chunk);
  f.push('\n');
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  assert.deepEqual(lines, [n * 1024]);
  // Linear: well under a second even on a loaded machine; the quadratic framer took minutes (4 MiB: 218 s here).
  assert.ok(ms < 20_000, `${ms} ms`);
});
