/**
 * A probe preloaded into a fuzz node to see what its memory holds (docs/fuzzing.md, "The RSS
 * growth"): every 2 s a full GC (the node needs --expose-gc) and one line of
 * `process.memoryUsage()` in MB appended to `<dir>/memory-<pid>.log`; when a file `<dir>/snap-<name>`
 * appears, a heap snapshot `<dir>/snap-<name>.heapsnapshot` is written (and the trigger removed).
 *
 *   ANDON_PROBE_DIR=/tmp/probe ANDON_FUZZ_NODE_ARGS="--expose-gc --import ./dist/test/fuzz/memory-probe.js" \
 *     node dist/test/fuzz/runner.js --count 60000 --seed 4 --only stdio
 *   touch /tmp/probe/snap-a   # later: snap-b, then compare the two snapshots
 */
import { appendFileSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

const dir = process.env.ANDON_PROBE_DIR ?? '/tmp/andon-probe';
mkdirSync(dir, { recursive: true });
const out = join(dir, `memory-${process.pid}.log`);
const started = Date.now();
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;

setInterval(() => {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('snap-') || f.endsWith('.heapsnapshot')) continue;
    unlinkSync(join(dir, f));
    writeHeapSnapshot(join(dir, `${f}.heapsnapshot`));
  }
  gc?.();
  const m = process.memoryUsage();
  appendFileSync(out, `${JSON.stringify({ s: Math.round((Date.now() - started) / 1000), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) })}\n`);
}, 2000).unref();
