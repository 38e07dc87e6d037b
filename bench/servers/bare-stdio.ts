/**
 * The stdio ceiling: a bare newline-JSON echo process (parse each line, answer with a result).
 * `batch: true` (the ceiling) writes all answers released by one input chunk in one write;
 * `batch: false` writes each answer on its own, as a naive line-by-line echo does.
 */
import { config, control, ready } from './control.js';

const cfg = config({ batch: true });
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buf += chunk;
  let out = '';
  let nl = buf.indexOf('\n');
  while (nl !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    nl = buf.indexOf('\n');
    if (!line) continue;
    const msg = JSON.parse(line) as { id?: number | string; params?: { arguments?: { text?: string } } };
    if (msg.id === undefined) continue;
    const answer = `${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: msg.params?.arguments?.text ?? '' }] } })}\n`;
    if (cfg.batch) out += answer;
    else process.stdout.write(answer);
  }
  if (out) process.stdout.write(out);
});
control();
ready();
