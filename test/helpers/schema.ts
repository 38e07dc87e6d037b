/**
 * Validates messages against the official MCP schema of their era (copied into
 * test/fixtures/spec; see its README for the origin). Every message our server emits in the tests
 * passes through `checkServerMessage`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './paths.js';

const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: new (o: object) => any }).default;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const ids = { '2025': 'mcp-2025-11-25', '2026': 'mcp-2026-07-28' } as const;
for (const [era, file] of [['2025', 'schema-2025-11-25.json'], ['2026', 'schema-2026-07-28.json']] as const) {
  const schema = JSON.parse(readFileSync(resolve(ROOT, 'test/fixtures/spec', file), 'utf8'));
  delete schema.$schema;
  schema.$id = ids[era];
  ajv.addSchema(schema);
}

export type SchemaEra = '2025' | '2026';

/** Throws with ajv's errors when `value` does not match `$defs[def]` of the era's schema. */
export function assertSchema(era: SchemaEra, def: string, value: unknown): void {
  const validate = ajv.getSchema(`${ids[era]}#/$defs/${def}`);
  if (!validate) throw new Error(`no $defs/${def} in the ${era} schema`);
  if (!validate(value)) {
    throw new Error(`${era} schema: message does not match ${def}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 800)}`);
  }
}

const RESULT_DEFS: Record<string, string> = {
  initialize: 'InitializeResult',
  ping: 'EmptyResult',
  'server/discover': 'DiscoverResult',
  'tools/list': 'ListToolsResult',
  'tools/call': 'CallToolResult',
  'resources/list': 'ListResourcesResult',
  'resources/templates/list': 'ListResourceTemplatesResult',
  'resources/read': 'ReadResourceResult',
  'resources/subscribe': 'EmptyResult',
  'resources/unsubscribe': 'EmptyResult',
  'prompts/list': 'ListPromptsResult',
  'prompts/get': 'GetPromptResult',
  'completion/complete': 'CompleteResult',
  'logging/setLevel': 'EmptyResult',
  'tasks/get': 'GetTaskResult',
  'tasks/list': 'ListTasksResult',
  'tasks/cancel': 'CancelTaskResult',
  'tasks/result': 'GetTaskPayloadResult',
};

/**
 * Validates one message the server emitted. `method` is the method of the request it answers
 * (for responses). Notifications and server→client requests are checked against the era's
 * ServerNotification / ServerRequest unions.
 */
export function checkServerMessage(era: SchemaEra, message: any, method?: string): void {
  if ('method' in message) {
    if ('id' in message) {
      assertSchema(era, 'JSONRPCRequest', message);
      if (era === '2025') assertSchema(era, 'ServerRequest', message);
    } else {
      assertSchema(era, 'JSONRPCNotification', message);
      assertSchema(era, 'ServerNotification', message);
    }
    return;
  }
  if ('error' in message) {
    assertSchema(era, 'JSONRPCErrorResponse', message);
    return;
  }
  assertSchema(era, 'JSONRPCResultResponse', message);
  const result = message.result;
  // The tasks extension's results are not in the 2026 schema: the generic Result check above is all.
  if (era === '2026' && result.resultType === 'task') return;
  if (era === '2026' && result.resultType === 'input_required') {
    assertSchema(era, 'InputRequiredResult', result);
    return;
  }
  if (method === 'tools/call' && result.task) {
    assertSchema(era, 'CreateTaskResult', result);
    return;
  }
  const def = method ? RESULT_DEFS[method] : undefined;
  if (def && !(era === '2026' && (def === 'EmptyResult' || def.startsWith('GetTask') || def.startsWith('ListTasks') || def === 'CancelTaskResult' || def === 'InitializeResult'))) {
    assertSchema(era, def, result);
  }
}
