/**
 * Issue 15, docs/common-errors.md stays true to the error catalogue: 20 entries, each with symptom,
 * error, cause and fix; every `ANDON_*` code the page names exists in the catalogue (src/errors);
 * every **Error:** line states the catalogue's HTTP status, JSON-RPC code and default message for
 * its code (a wire error: its ErrorCode and the HTTP status docs/errors.md gives it); the status in
 * an entry's heading and every "HTTP nnn" in it is one of its errors'. And every `andon …` command
 * in the operator guides (quick start, common errors, tuning, architecture) is one the CLI accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { catalogue } from '../../src/errors/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { andonLines, andonProgram, checkAndonLine, shellWords } from '../helpers/cli-commands.js';

const doc = readFileSync(join(ROOT, 'docs/common-errors.md'), 'utf8');
const errorsDoc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
const byCode = new Map(catalogue().map((d) => [d.code, d]));

/** The numbered entries: heading and body. */
function entries(): Array<{ heading: string; body: string }> {
  const parts = doc.split(/^## (?=\d+\. )/m).slice(1);
  return parts.map((p) => ({ heading: p.split('\n')[0]!, body: p }));
}

/** HTTP status a wire error gets, from its row in docs/errors.md ("(HTTP 400)"). */
function wireHttpStatus(name: string): number | undefined {
  const row = errorsDoc.split('\n').find((l) => new RegExp(`^\\| -\\d+ \\| ${name} \\|`).test(l));
  const m = row && /HTTP (\d{3})/.exec(row);
  return m ? Number(m[1]) : undefined;
}

test('docs/common-errors.md has 20 entries, each with symptom, error or cause, and fix', () => {
  const es = entries();
  assert.equal(es.length, 20, es.map((e) => e.heading).join('\n'));
  es.forEach((e, i) => {
    assert.ok(e.heading.startsWith(`${i + 1}. `), `entry ${i + 1} is numbered in order: ${e.heading}`);
    for (const part of ['**Symptom.**', '**Cause.**', '**Fix.**']) assert.ok(e.body.includes(part), `${e.heading}: has ${part}`);
  });
});

test('every ANDON_* code the page names is in the error catalogue', () => {
  const codes = new Set([...doc.matchAll(/\bANDON_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]).filter((c) => !/^ANDON_(ADMIN_TOKEN|OPS_URL|STATE_DIR|REDIS_URL|DRAIN_GRACE_MS|CONFIG|LOG_LEVEL)$/.test(c)));
  assert.ok(codes.size >= 25, `only ${codes.size} codes`);
  for (const c of codes) assert.ok(byCode.has(c), `${c} is not in the catalogue (src/errors)`);
});

test('every **Error:** line states its code\'s catalogue status, JSON-RPC code and message; headings and HTTP statuses agree', () => {
  const problems: string[] = [];
  let lines = 0;
  for (const e of entries()) {
    const statuses = new Set<number>();
    for (const line of e.body.split('\n').filter((l) => l.startsWith('**Error:**'))) {
      lines++;
      const code = /`([A-Za-z0-9_]+)`/.exec(line)?.[1];
      const http = /HTTP (\d{3})/.exec(line)?.[1];
      const rpc = /JSON-RPC (-\d+)/.exec(line)?.[1];
      const msg = /message "(.*)"\.?$/.exec(line)?.[1];
      if (!code) {
        problems.push(`${e.heading}: an Error line without a code: ${line}`);
        continue;
      }
      const def = byCode.get(code);
      if (def) {
        if (def.httpStatus !== undefined && http === undefined) problems.push(`${code}: the line does not state HTTP ${def.httpStatus}`);
        if (http !== undefined && Number(http) !== def.httpStatus) problems.push(`${code}: HTTP ${http} stated, the catalogue says ${def.httpStatus ?? 'none'}`);
        if (rpc !== undefined && Number(rpc) !== def.wireCode) problems.push(`${code}: JSON-RPC ${rpc} stated, the catalogue says ${def.wireCode ?? 'none'}`);
        if (msg !== undefined && msg !== def.message) problems.push(`${code}: message "${msg}" stated, the catalogue says "${def.message}"`);
        if (def.httpStatus !== undefined) statuses.add(def.httpStatus);
      } else if (code in ErrorCode) {
        const value = (ErrorCode as Record<string, number>)[code];
        if (rpc === undefined || Number(rpc) !== value) problems.push(`${code}: JSON-RPC ${rpc} stated, ErrorCode says ${value}`);
        const status = wireHttpStatus(code);
        if (http !== undefined && Number(http) !== status) problems.push(`${code}: HTTP ${http} stated, docs/errors.md says ${status ?? 'none'}`);
        if (status !== undefined) statuses.add(status);
      } else {
        problems.push(`${e.heading}: ${code} is neither in the catalogue nor a wire error`);
      }
    }
    const headingStatus = /^\d+\. (\d{3})\b/.exec(e.heading)?.[1];
    if (headingStatus && !statuses.has(Number(headingStatus))) problems.push(`${e.heading}: heading says ${headingStatus}, its errors have ${[...statuses].join(', ') || 'none'}`);
    for (const m of e.body.matchAll(/HTTP (\d{3})\b/g)) if (!statuses.has(Number(m[1]))) problems.push(`${e.heading}: states HTTP ${m[1]}, its errors have ${[...statuses].join(', ') || 'none'}`);
  }
  assert.ok(lines >= 25, `only ${lines} Error lines`);
  assert.deepEqual(problems, []);
});

test('every andon command in the operator guides is accepted by the real CLI', async () => {
  const program = await andonProgram();
  const problems: string[] = [];
  let checked = 0;
  for (const f of ['quickstart.md', 'common-errors.md', 'tuning.md', 'architecture.md']) {
    const text = readFileSync(join(ROOT, 'docs', f), 'utf8');
    for (const { line, loose } of andonLines(text)) {
      for (const p of checkAndonLine(program, shellWords(line).slice(1), { loose })) problems.push(`${f}: \`${line}\`: ${p}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `only ${checked} andon lines`);
  assert.deepEqual(problems, []);
});
