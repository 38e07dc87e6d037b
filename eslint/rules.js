// Local lint rules of andon-mcp: layering and file size (the table is in ./architecture.js).
import { relative, resolve, dirname } from 'node:path';
import { layerViolation, maxFileBytes, sizeAllowList } from './architecture.js';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const rel = (abs) => relative(root, abs).split('\\').join('/');

/** `./x.js` from `file` → the repository-relative `.ts` path it names (TS NodeNext specifiers). */
function target(file, spec) {
  if (!spec.startsWith('.')) return null;
  return rel(resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
}

const layersRule = {
  meta: { type: 'problem', docs: { description: 'No upward imports between the layers of eslint/architecture.js' }, schema: [] },
  create(context) {
    const file = context.filename;
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string') return;
      const to = target(file, node.source.value);
      if (!to) return;
      const why = layerViolation(rel(file), to);
      if (why) context.report({ node: node.source, message: why });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

const sizeRule = {
  meta: { type: 'problem', docs: { description: `No src file over ${maxFileBytes} bytes` }, schema: [] },
  create(context) {
    return {
      Program(node) {
        const r = rel(context.filename);
        if (!r.startsWith('src/') || sizeAllowList.includes(r)) return;
        const bytes = Buffer.byteLength(context.sourceCode.text, 'utf8');
        if (bytes > maxFileBytes) context.report({ node, message: `${r} is ${bytes} bytes, over the ${maxFileBytes}-byte limit: split it by concept` });
      },
    };
  },
};

export default { meta: { name: 'andon' }, rules: { layers: layersRule, 'max-file-size': sizeRule } };
