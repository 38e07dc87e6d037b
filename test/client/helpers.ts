/** Shared bits of the client tests. */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DIST } from '../helpers/paths.js';
import { ClientError, type ClientErrorCode } from '../../src/client/index.js';

/** Compiled test servers run as child processes. */
export const SERVERS = resolve(DIST, 'test/client/servers');

/** Polls until `cond` holds, failing after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Asserts that `p` rejects with a ClientError of `code`; returns it. */
export async function rejectsWith(p: Promise<unknown>, code: ClientErrorCode): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ClientError, `expected a ClientError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

/** First text block of a tool result. */
export function text(result: { content: Array<{ type: string; text?: string }> }): string {
  const b = result.content.find((c) => c.type === 'text');
  assert.ok(b, 'result has a text block');
  return b.text!;
}

/** True if a process with this pid is still running. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Fails the current test file on any unhandled rejection: the client must never leave one. */
export function forbidUnhandledRejections(): { check: () => void } {
  const seen: unknown[] = [];
  process.on('unhandledRejection', (reason) => seen.push(reason));
  return {
    check() {
      assert.deepEqual(seen.map(String), [], 'no unhandled rejections');
    },
  };
}
