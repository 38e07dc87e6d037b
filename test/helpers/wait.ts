/** Small async helpers shared by the tests. */
import assert from 'node:assert/strict';

/** Resolves when `cond()` holds, polling every 5 ms; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** The text of a tool result's first content block, asserting it is a text block. */
export function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  assert.ok(Array.isArray(content) && content.length > 0, 'result has content');
  assert.equal(content[0]!.type, 'text');
  return content[0]!.text!;
}

/**
 * Reads `reader` (a response body) and appends to `text` until `done(text)` holds. Rejects when the
 * stream ends first (with what was read) or after `ms`; on a timeout the reader is cancelled so the
 * connection does not outlive the test. Resolves with the text read.
 */
export async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean, ms = 5000, what = 'stream data', text = ''): Promise<string> {
  const dec = new TextDecoder();
  const end = Date.now() + ms;
  while (!done(text)) {
    const left = end - Date.now();
    let r: Awaited<ReturnType<typeof reader.read>>;
    try {
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      r = await withTimeout(reader.read(), left, what);
    } catch (err) {
      void reader.cancel().catch(() => undefined);
      throw new Error(`${(err as Error).message}; read so far: ${text.slice(-500)}`);
    }
    if (r.done) throw new Error(`the stream ended before ${what}; read: ${text.slice(-500)}`);
    text += dec.decode(r.value, { stream: true });
  }
  return text;
}
