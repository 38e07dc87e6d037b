/**
 * The architecture over the whole import graph of src/ (the same table as the lint rules, in
 * eslint/architecture.js): no value import cycles, no upward imports between layers, the client
 * on protocol/util/errors only, no file over 25 KB — and every allow-list entry still needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ROOT } from '../helpers/paths.js';

interface Architecture {
  layerViolation(from: string, to: string): string | null;
  allowUpward: Array<{ from: string; to: string; why: string }>;
  allowCycles: string[][];
  maxFileBytes: number;
  sizeAllowList: string[];
}

interface Edge {
  to: string;
  /** Erased at compile time: `import type`, or every named binding type-only. */
  typeOnly: boolean;
  /** `import()`: loaded later, cannot take part in a load-order cycle. */
  dynamic: boolean;
}

const arch = (await import(pathToFileURL(resolve(ROOT, 'eslint/architecture.js')).href)) as Architecture;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const rel = (abs: string) => relative(ROOT, abs).split('\\').join('/');

/** The relative imports and re-exports of one file, as repository-relative `.ts` paths. */
export function importsOf(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic: boolean) => {
    if (spec.startsWith('.')) edges.push({ to: rel(resolve(dirname(file), spec)).replace(/\.js$/, '.ts'), typeOnly, dynamic });
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(st.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      const named = st.exportClause && ts.isNamedExports(st.exportClause) ? st.exportClause.elements : undefined;
      add(st.moduleSpecifier.text, st.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)), false);
    }
  }
  const walk = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) add(n.arguments[0].text, false, true);
    n.forEachChild(walk);
  };
  sf.forEachChild(walk);
  return edges;
}

/** Strongly connected components of more than one file (Tarjan), over the edges `follow` keeps. */
export function cycles(graph: Map<string, Edge[]>, follow: (e: Edge) => boolean): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const e of graph.get(v) ?? []) {
      if (!follow(e) || !graph.has(e.to)) continue;
      if (!idx.has(e.to)) {
        visit(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (on.has(e.to)) low.set(v, Math.min(low.get(v)!, idx.get(e.to)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const files = sourceFiles(resolve(ROOT, 'src'));
const graph = new Map(files.map((f) => [rel(f), importsOf(f, readFileSync(f, 'utf8'))]));
const valueEdge = (e: Edge) => !e.typeOnly && !e.dynamic;

test('the checker finds what it must (a synthetic graph)', () => {
  const g = new Map<string, Edge[]>([
    ['a', [{ to: 'b', typeOnly: false, dynamic: false }]],
    ['b', [{ to: 'c', typeOnly: false, dynamic: false }]],
    ['c', [{ to: 'a', typeOnly: false, dynamic: false }, { to: 'd', typeOnly: true, dynamic: false }]],
    ['d', [{ to: 'c', typeOnly: false, dynamic: false }]],
  ]);
  assert.deepEqual(cycles(g, valueEdge), [['a', 'b', 'c']], 'the type-only edge c → d closes no value cycle');
  assert.deepEqual(cycles(g, () => true), [['a', 'b', 'c', 'd']]);
  const parsed = importsOf('/r/src/x/f.ts', "import type { A } from './a.js';\nimport { type B, c } from '../y/b.js';\nexport type { D } from './d.js';\nexport * from './e.js';\nvoid import('./f.js');\n");
  assert.deepEqual(
    parsed.map((e) => [e.to.split('/').slice(-2).join('/'), e.typeOnly, e.dynamic]),
    [
      ['x/a.ts', true, false],
      ['y/b.ts', false, false],
      ['x/d.ts', true, false],
      ['x/e.ts', false, false],
      ['x/f.ts', false, true],
    ],
  );
  assert.match(arch.layerViolation('src/util/clock.ts', 'src/server/server.ts') ?? '', /upward import: "util"/);
  assert.match(arch.layerViolation('src/client/core.ts', 'src/server/types.ts') ?? '', /layer "client" may import only/);
  assert.match(arch.layerViolation('src/nowhere/x.ts', 'src/util/clock.ts') ?? '', /in no layer/);
  assert.equal(arch.layerViolation('src/server/server.ts', 'src/util/clock.ts'), null);
});

test('no value import cycles in src/ beyond the explicit allow-list', () => {
  const found = cycles(graph, valueEdge);
  const allowed = arch.allowCycles.map((c) => [...c].sort().join(' ↔ '));
  const unexpected = found.filter((c) => !arch.allowCycles.some((a) => c.every((f) => a.includes(f))));
  assert.deepEqual(unexpected, [], `import cycles (break them; \`import type\` is allowed to close a cycle): ${unexpected.map((c) => c.join(' → ')).join('; ')}`);
  const stale = allowed.filter((a) => !found.some((c) => a === c.join(' ↔ ')));
  assert.deepEqual(stale, [], 'allowCycles entries whose cycle is gone: remove them from eslint/architecture.js');
});

test('no upward imports between layers (the client imports protocol, util and errors only)', () => {
  const problems: string[] = [];
  for (const [from, edges] of graph) for (const e of edges) {
    const why = arch.layerViolation(from, e.to);
    if (why) problems.push(why);
  }
  assert.deepEqual(problems, []);
  const used = new Set<string>();
  for (const [from, edges] of graph) for (const e of edges) used.add(`${from} → ${e.to}`);
  const stale = arch.allowUpward.filter((x) => !used.has(`${x.from} → ${x.to}`)).map((x) => `${x.from} → ${x.to}`);
  assert.deepEqual(stale, [], 'allowUpward entries no longer imported: remove them from eslint/architecture.js');
});

test(`no src file over the size limit`, () => {
  const sizes = files.map((f) => ({ file: rel(f), bytes: statSync(f).size }));
  const over = sizes.filter((s) => s.bytes > arch.maxFileBytes && !arch.sizeAllowList.includes(s.file));
  assert.deepEqual(over, [], `split these files by concept (limit ${arch.maxFileBytes} bytes)`);
  const stale = arch.sizeAllowList.filter((f) => !sizes.some((s) => s.file === f && s.bytes > arch.maxFileBytes));
  assert.deepEqual(stale, [], 'sizeAllowList entries now under the limit (or gone): remove them from eslint/architecture.js');
});
