/**
 * Schemas for tool input and output. Authors may pass a zod 4 schema or plain JSON Schema; both
 * become JSON Schema 2020-12 once at registration, and validation runs on an ajv validator that is
 * compiled on first use, so zod never sits on the hot path and unused tools cost nothing.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';

/** A JSON Schema object (2020-12). */
export type JsonSchema = Record<string, unknown>;

/** Anything accepted where a schema is expected: a zod 4 schema or a JSON Schema object. */
export type SchemaInput = JsonSchema | { _zod: unknown };

const require = createRequire(import.meta.url);

function isZod(s: unknown): s is { _zod: unknown } {
  return typeof s === 'object' && s !== null && '_zod' in s;
}

/**
 * Converts a schema input to JSON Schema. zod is loaded only when a zod schema is actually given,
 * which keeps cold start small for servers that use plain JSON Schema.
 */
export function toJsonSchema(input: SchemaInput | undefined, fallback: JsonSchema = { type: 'object' }): JsonSchema {
  if (input === undefined) return fallback;
  if (isZod(input)) {
    const z = require('zod') as { toJSONSchema: (s: unknown, o?: unknown) => JsonSchema };
    const out = { ...z.toJSONSchema(input, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) };
    // The $schema keyword is noise on the wire; MCP tools default to 2020-12 anyway.
    delete out.$schema;
    return out;
  }
  return input as JsonSchema;
}

type AjvInstance = { compile: (s: JsonSchema) => ValidateFunction };
let ajv: AjvInstance | undefined;

function getAjv(): AjvInstance {
  if (!ajv) {
    const mod = require('ajv/dist/2020') as { default: new (o: unknown) => AjvInstance };
    const Ctor = mod.default;
    ajv = new Ctor({ allErrors: false, strict: false, validateFormats: false });
  }
  return ajv;
}

/** A validator that returns null when the value is valid, or a message that names the field. */
export type Validator = (value: unknown) => string | null;

/**
 * Returns a lazily compiled validator for a JSON Schema. `root` names the value in messages,
 * e.g. `arguments` gives "arguments.city: must be string".
 */
export function lazyValidator(schema: JsonSchema, root: string): Validator {
  let compiled: ValidateFunction | undefined;
  return (value) => {
    if (!compiled) compiled = getAjv().compile(schema);
    if (compiled(value)) return null;
    return formatAjvError(compiled.errors?.[0], root);
  };
}

function formatAjvError(e: ErrorObject | undefined, root: string): string {
  if (!e) return `${root}: is invalid`;
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const where = path ? `${root}.${path}` : root;
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    return `${where}${missing ? `.${missing}` : ''}: is required`;
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return `${where}${extra ? `.${extra}` : ''}: is not allowed`;
  }
  return `${where}: ${e.message ?? 'is invalid'}`;
}
