/** The value types every section of the configuration schema is built from (src/config/schema.ts). */
import { z } from 'zod';

export const port = z.number({ error: 'expected integer 0-65535' }).int({ error: 'expected integer 0-65535' }).min(0, { error: 'expected integer 0-65535' }).max(65535, { error: 'expected integer 0-65535' });
/** A duration or count: a non-negative integer. */
export const ms = z.number({ error: 'expected a non-negative integer (ms)' }).int({ error: 'expected a non-negative integer (ms)' }).min(0, { error: 'expected a non-negative integer (ms)' });
export const positiveInt = z.number({ error: 'expected a positive integer' }).int({ error: 'expected a positive integer' }).min(1, { error: 'expected a positive integer' });
export const nonEmpty = z.string({ error: 'expected a non-empty string' }).min(1, { error: 'expected a non-empty string' });
export const envName = z.string({ error: 'expected an environment variable name' }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name (letters, digits, _)' });
export const stringList = z.array(nonEmpty, { error: 'expected a list of strings' });
export const listOrAll = z.union([z.literal('*'), stringList], { error: 'expected "*" or a list of strings' });
export const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'expected one of trace, debug, info, warn, error, fatal, silent' });
export const requestLevel = z.enum(['debug', 'info', 'warn', 'error', 'off'], { error: 'expected one of debug, info, warn, error, off' });
export const severity = z.enum(['critical', 'warning', 'info'], { error: 'expected one of critical, warning, info' });
export const severities = z.union([severity, z.array(severity)], { error: 'expected a severity or a list of severities' });
export const recipients = z.union([nonEmpty, z.array(nonEmpty).min(1)], { error: 'expected a recipient or a non-empty list of recipients' });
export const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
