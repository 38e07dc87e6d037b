/**
 * Wraps an official-SDK client transport so every message our server sends is validated against
 * the official schema of its era. Violations are collected, not thrown (a throw inside the SDK's
 * message handler would be swallowed); each test file asserts the list is empty at the end.
 */
import { checkServerMessage, type SchemaEra } from './schema.js';

export const violations: string[] = [];
export let validatedCount = 0;

const STATELESS_KEY = 'io.modelcontextprotocol/protocolVersion';

export function validated<T extends object>(transport: T): T {
  const sent = new Map<unknown, { method: string; era: SchemaEra }>();
  let lastEra: SchemaEra = '2025';
  return new Proxy(transport, {
    set(target, prop, value) {
      if (prop === 'onmessage' && typeof value === 'function') {
        const inner = value as (m: any, extra?: unknown) => unknown;
        value = (m: any, extra?: unknown) => {
          const req = 'id' in m && !('method' in m) ? sent.get(m.id) : undefined;
          const era: SchemaEra = req?.era ?? (m.params?._meta?.['io.modelcontextprotocol/subscriptionId'] !== undefined ? '2026' : lastEra);
          try {
            checkServerMessage(era, m, req?.method);
            validatedCount++;
          } catch (err) {
            violations.push((err as Error).message);
          }
          return inner(m, extra);
        };
      }
      return Reflect.set(target, prop, value);
    },
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop === 'send' && typeof v === 'function') {
        return (m: any, opts?: unknown) => {
          if (m && typeof m === 'object' && 'method' in m && 'id' in m) {
            const era: SchemaEra = m.params?._meta?.[STATELESS_KEY] !== undefined || m.method === 'server/discover' ? '2026' : '2025';
            lastEra = era;
            sent.set(m.id, { method: m.method, era });
          }
          return (v as (...a: unknown[]) => unknown).call(target, m, opts);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
