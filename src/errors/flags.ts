/**
 * Catalogue section: feature flags (src/flags). An entry gated by a flag (`flag: 'new-search'` in
 * its registration options) is hidden from the lists of clients outside the flag's cohort, and a
 * call, read or get of it from such a client is refused as if the entry did not exist: the same
 * JSON-RPC code (-32602) and message ("Unknown tool: x") as an unknown tool or prompt, so a hidden
 * entry cannot be probed. `data.code` names the refusal for logs and operators.
 */
import { ErrorCode } from '../protocol/errors.js';
import { defineError } from './catalogue.js';

/** Feature flag refusals. */
export const FlagErrors = {
  Disabled: defineError({
    code: 'ANDON_FLAG_DISABLED',
    message: 'Unknown entry',
    retryable: false,
    wireCode: ErrorCode.InvalidParams,
    httpStatus: undefined,
    when: 'a `tools/call`, `resources/read`, `prompts/get` or `completion/complete` names an entry gated by a feature flag that is off for this client; answered like an unknown tool (`Unknown tool: <name>`, `Unknown prompt: …`, `Resource not found: …`), `data.flag` names the flag',
  }),
  Invalid: defineError({
    code: 'ANDON_FLAG_INVALID',
    message: 'Invalid feature flag',
    retryable: false,
    wireCode: undefined,
    httpStatus: 400,
    when: 'a flag definition (admin API, CLI, `flags` config section) is malformed: unknown kind, percent outside 0–100, a bad rule or name',
  }),
} as const;
