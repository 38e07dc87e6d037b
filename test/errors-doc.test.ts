/**
 * Keeps docs/errors.md in step with the one error catalogue (`src/errors`) and the wire ErrorCode
 * table: every catalogue entry has exactly its row (code, JSON-RPC code, HTTP status, retryable,
 * when), and every code the page documents exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { ErrorCode } from '../src/protocol/errors.js';
import { catalogue, type ErrorDef } from '../src/errors/index.js';
import { ClientError } from '../src/client/errors.js';
import { OpsError } from '../src/admin/ops-server.js';
import { HaltedError, UnknownComponentError } from '../src/runtime/supervisor.js';
import { DeliveryError } from '../src/observability/alerts/types.js';
import { AlertConfigError } from '../src/observability/alerts/config.js';
import { MissingClientCapabilityError } from '../src/server/context.js';
import { AndonError } from '../src/errors/catalogue.js';

const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

/** The row docs/errors.md must hold for `def`. */
function row(def: ErrorDef): string {
  const dash = (v: number | undefined) => (v === undefined ? '—' : String(v));
  return `| \`${def.code}\` | ${dash(def.wireCode)} | ${dash(def.httpStatus)} | ${def.retryable ? 'yes' : 'no'} | ${def.when} |`;
}

test('docs/errors.md lists every wire error code with its name', () => {
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.match(doc, new RegExp(`^\\| ${code} \\| ${name} \\|`, 'm'), `wire error ${name} (${code}) is documented`);
  }
  const documented = [...doc.matchAll(/^\| (-\d+) \| (\w+) \|/gm)];
  for (const [, code, name] of documented) assert.equal((ErrorCode as Record<string, number>)[name!], Number(code), `documented wire error ${name} ${code} exists`);
});

test('docs/errors.md has the row of every catalogue entry, and documents no code the catalogue lacks', () => {
  const entries = catalogue();
  assert.ok(entries.length >= 40, `the catalogue holds every area's entries (got ${entries.length})`);
  const lines = new Set(doc.split('\n'));
  const missing = entries.filter((d) => !lines.has(row(d))).map(row);
  assert.deepEqual(missing, [], `docs/errors.md must hold these rows exactly:\n${missing.join('\n')}`);
  const codes = new Set(entries.map((d) => d.code));
  const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
  for (const c of documented) assert.ok(codes.has(c), `documented code ${c} is in the catalogue`);
  assert.equal(new Set(documented).size, documented.length, 'each code is documented once');
});

test('the local error classes keep their names and take code, retryable and status from their entry', () => {
  const cases: Array<[AndonError, string, string]> = [
    [new ClientError('TIMEOUT', 'x'), 'ClientError', 'TIMEOUT'],
    [new OpsError(404, 'gone'), 'OpsError', 'ANDON_OPS_NOT_FOUND'],
    [new HaltedError('tool:a', 'r'), 'HaltedError', 'ANDON_COMPONENT_HALTED'],
    [new UnknownComponentError('tool:b'), 'UnknownComponentError', 'ANDON_UNKNOWN_COMPONENT'],
    [new DeliveryError('down', true), 'DeliveryError', 'ANDON_ALERT_DELIVERY_FAILED'],
    [new DeliveryError('bad key', false), 'DeliveryError', 'ANDON_ALERT_DELIVERY_REJECTED'],
    [new AlertConfigError('bad'), 'AlertConfigError', 'ANDON_ALERT_CONFIG'],
    [new MissingClientCapabilityError('sampling'), 'MissingClientCapabilityError', 'ANDON_MISSING_CLIENT_CAPABILITY'],
  ];
  const byCode = new Map(catalogue().map((d) => [d.code, d]));
  for (const [err, name, code] of cases) {
    assert.ok(err instanceof AndonError && err instanceof Error, name);
    assert.equal(err.name, name);
    assert.equal(err.code, code);
    const def = byCode.get(code)!;
    assert.equal(err.retryable, def.retryable, `${name} retryable`);
    assert.equal(err.httpStatus, def.httpStatus, `${name} httpStatus`);
  }
  assert.equal(new OpsError(404, 'gone').status, 404);
  assert.equal(new OpsError(418, 'teapot').status, 418, 'an uncatalogued status is kept; the entry is the generic 4xx');
});
