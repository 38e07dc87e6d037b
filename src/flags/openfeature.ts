/**
 * An OpenFeature provider over the runtime's flags, so user code evaluates the same flags with
 * the standard API:
 *
 *   OpenFeature.setProvider(new AndonFlagProvider(runtime.flags));
 *   const on = await OpenFeature.getClient().getBooleanValue('new-search', false, { targetingKey });
 *
 * `targetingKey` is the stable key the runtime uses (`clientKey`: `sub:<subject>`,
 * `session:<id>`, `ip:<address>`; in a handler, the key `ctx.flag()` uses); `clientName` and
 * `clientVersion` in the context feed the targeting rules. Flags are boolean: a string, number
 * or object evaluation answers the default with TYPE_MISMATCH; an unknown flag answers the
 * default with FLAG_NOT_FOUND.
 */
import { ErrorCode, StandardResolutionReasons, type EvaluationContext, type JsonValue, type Provider, type ResolutionDetails } from '@openfeature/server-sdk';
import type { FlagSubject } from '../server/context.js';
import type { FlagReason } from './model.js';

/** What the provider reads (the runtime's FlagRegistry). */
export interface FlagSource {
  evaluate(name: string, subject: FlagSubject): [boolean, FlagReason] | undefined;
}

function subjectOf(ctx: EvaluationContext): FlagSubject {
  const name = ctx.clientName;
  const version = ctx.clientVersion;
  return { key: ctx.targetingKey ?? 'anonymous', clientName: typeof name === 'string' ? name : undefined, clientVersion: typeof version === 'string' ? version : undefined };
}

function mismatch<T>(defaultValue: T): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: 'andon flags are boolean' };
}

/** The OpenFeature provider (see the module comment). */
export class AndonFlagProvider implements Provider {
  readonly runsOn = 'server' as const;
  readonly metadata = { name: 'andon-mcp' } as const;

  constructor(private readonly flags: FlagSource) {}

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    const r = this.flags.evaluate(flagKey, subjectOf(context));
    if (r === undefined) return Promise.resolve({ value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `unknown feature flag "${flagKey}"` });
    return Promise.resolve({ value: r[0], reason: r[1], variant: r[0] ? 'on' : 'off' });
  }

  resolveStringEvaluation(_flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return Promise.resolve(mismatch(defaultValue));
  }

  resolveNumberEvaluation(_flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(mismatch(defaultValue));
  }

  resolveObjectEvaluation<T extends JsonValue>(_flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return Promise.resolve(mismatch(defaultValue));
  }
}
