/**
 * The four `* /list` methods. Every entry passes the admission pipeline's `visible` filters, so a
 * halted tool (or, later, a flagged-off one) is hidden the same way in both eras.
 */
import type { AdmissionPipeline, EntryKind } from '../admission/pipeline.js';
import type { IncomingRequest } from './incoming.js';
import { paginate } from './pagination.js';
import type { PromptEntry, ResourceEntry, TemplateEntry, ToolEntry } from './registry.js';

/** What the list methods read: the server's registry, its pipeline and page size. */
export interface Lists {
  tools: Map<string, ToolEntry>;
  resources: Map<string, ResourceEntry>;
  templates: TemplateEntry[];
  prompts: Map<string, PromptEntry>;
  admission: AdmissionPipeline;
  pageSize: number;
}

/** One page of `tools/list`, `resources/list`, `resources/templates/list` or `prompts/list`. */
export async function listPage(method: string, l: Lists, params: Record<string, unknown>, inc: IncomingRequest): Promise<Record<string, unknown>> {
  switch (method) {
    case 'tools/list':
      return paginate('tools', shown('tool', l.tools.values(), l.admission, inc), params, l.pageSize);
    case 'resources/list': {
      const all: Array<{ wire: Record<string, unknown> }> = [...l.resources.values()];
      for (const t of l.templates) {
        if (!t.options.list) continue;
        for (const item of await t.options.list()) {
          const { uri, ...rest } = item;
          all.push({ wire: { uri, name: rest.name ?? uri, ...rest } });
        }
      }
      return paginate('resources', shown('resource', all, l.admission, inc), params, l.pageSize);
    }
    case 'resources/templates/list':
      return paginate('resourceTemplates', shown('resourceTemplate', l.templates, l.admission, inc), params, l.pageSize);
    default:
      return paginate('prompts', shown('prompt', l.prompts.values(), l.admission, inc), params, l.pageSize);
  }
}

/** The wire forms of the entries the admission stages show this request. */
function shown(kind: EntryKind, entries: Iterable<{ wire: Record<string, unknown> }>, admission: AdmissionPipeline, inc: IncomingRequest): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const filter = admission.filtersLists;
  for (const e of entries) {
    const w = e.wire;
    // Resources are known by URI, templates by their template, tools and prompts by name.
    if (!filter || admission.visible(kind, (kind === 'resource' ? w.uri : kind === 'resourceTemplate' ? w.uriTemplate : w.name) as string, inc)) out.push(w);
  }
  return out;
}
