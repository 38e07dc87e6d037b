/**
 * Alert configuration: routes per severity, channels, dedup window, retry. Read from the
 * `alerts` section of the runtime's JSON config (or a file of its own). Secrets come from the
 * environment only: a channel names the variable (`routingKeyEnv: "PAGERDUTY_ROUTING_KEY"`), and
 * a config that holds a secret literal — a key such as `routingKey` or `password`, a Slack
 * webhook URL, a URL with credentials or a token in its query — is refused with an error that
 * says which variable to use instead. Config files end up in repositories and tickets; the
 * environment is where the deployment keeps secrets.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AndonError } from '../../errors/catalogue.js';
import { RuntimeErrors } from '../../errors/runtime.js';
import type { AlertChannel, Severity } from './types.js';
import { SEVERITIES } from './types.js';
import { SlackChannel } from './channels/slack.js';
import { PagerDutyChannel } from './channels/pagerduty.js';
import { EmailChannel } from './channels/email.js';
import { WebhookChannel } from './channels/webhook.js';
import { TwilioChannel } from './channels/twilio.js';

/** A configuration problem, with the path of the offending key. */
export class AlertConfigError extends AndonError {
  constructor(message: string) {
    super(RuntimeErrors.AlertConfig, message);
    this.name = 'AlertConfigError';
  }
}

/** Fields every channel accepts. */
export interface ChannelCommon {
  type: 'slack' | 'pagerduty' | 'email' | 'webhook' | 'twilio';
  /** Default true, except twilio (SMS), which is off unless `enabled: true`. */
  enabled?: boolean;
  /** Channel tried when this one fails after its retries. */
  fallback?: string;
}

/** The `alerts` section. Every field is optional. */
export interface AlertsConfig {
  /**
   * Channels each severity goes to (every listed channel gets the alert; each may fall back).
   * Default: critical → every enabled channel, warning and info → every enabled channel except
   * pagerduty and twilio.
   */
  routes?: Partial<Record<Severity, string[]>>;
  channels?: Record<string, ChannelCommon & Record<string, unknown>>;
  /** Identical alerts (severity, title, context) within this window are suppressed. Default 300,000 ms. */
  dedupWindowMs?: number;
  /** History entries kept (persisted). Default 200. */
  historySize?: number;
  /** Attempts per channel (default 3), first backoff (default 1,000 ms, doubling, jittered), backoff cap (default 30,000 ms). */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number };
  /** Timeout of one delivery attempt. Default 10,000 ms. */
  timeoutMs?: number;
  /** `source` shown in alerts. Default the host name. */
  source?: string;
}

/** What {@link buildAlertChannels} produces. */
export interface BuiltChannels {
  channels: AlertChannel[];
  /** channel name → fallback channel name. */
  fallbacks: Record<string, string>;
  routes: Record<Severity, string[]>;
  /** Things worth logging (a route naming a disabled channel…). */
  warnings: string[];
  /** The secret values read from the environment, for the log scrubber. */
  secrets: string[];
}

/** Keys that would hold a secret literal, and the `…Env` key to use instead. */
const SECRET_KEYS: Record<string, string> = {
  webhookurl: 'webhookUrlEnv',
  routingkey: 'routingKeyEnv',
  integrationkey: 'routingKeyEnv',
  password: 'passwordEnv',
  pass: 'passwordEnv',
  secret: 'secretEnv',
  authtoken: 'authTokenEnv',
  token: 'tokenEnv',
  apikey: 'apiKeyEnv',
};

const SECRET_VALUE_PATTERNS: Array<[RegExp, string]> = [
  [/hooks\.slack\.com\/(services|workflows|triggers)\//i, 'a Slack webhook URL'],
  [/\bxox[abposr]-/, 'a Slack token'],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, 'a URL with credentials'],
  [/[?&](token|key|secret|sig|signature|api_key|apikey|access_token|password)=/i, 'a URL with a credential in its query'],
  [/^(Bearer|Basic)\s+\S{6,}/i, 'an HTTP credential'],
];

/** Throws when `raw` holds a secret literal anywhere. Exported for the runtime's config loader. */
export function assertNoSecretLiterals(raw: unknown, path = 'alerts'): void {
  if (raw === null || typeof raw !== 'object') {
    if (typeof raw === 'string') {
      for (const [re, what] of SECRET_VALUE_PATTERNS) {
        if (re.test(raw)) throw new AlertConfigError(`${path} holds ${what}. Secrets come from the environment only: put the value in an environment variable and name it with "${lastKey(path)}Env" (the config file is refused).`);
      }
    }
    return;
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const here = `${path}.${k}`;
    const instead = SECRET_KEYS[k.toLowerCase().replace(/[-_]/g, '')];
    if (instead && v !== undefined && v !== null && v !== '') {
      throw new AlertConfigError(`${here} is a secret literal. Secrets come from the environment only: replace it with "${instead}": "<VARIABLE_NAME>" and export that variable (the config file is refused).`);
    }
    assertNoSecretLiterals(v, here);
  }
}

function lastKey(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

type Env = Record<string, string | undefined>;

function fromEnv(env: Env, c: Record<string, unknown>, key: string, fallbackVar: string, path: string, secrets: string[]): string {
  const v = c[`${key}Env`] ?? fallbackVar;
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new AlertConfigError(`${path}.${key}Env must be an environment variable name, got ${JSON.stringify(v)}`);
  const value = env[v];
  if (value === undefined || value === '') throw new AlertConfigError(`${path}: environment variable ${v} is not set (it holds the ${key}).`);
  secrets.push(value);
  return value;
}

function str(c: Record<string, unknown>, key: string, path: string, required: true): string;
function str(c: Record<string, unknown>, key: string, path: string, required?: false): string | undefined;
function str(c: Record<string, unknown>, key: string, path: string, required = false): string | undefined {
  const v = c[key];
  if (v === undefined) {
    if (required) throw new AlertConfigError(`${path}.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new AlertConfigError(`${path}.${key} must be a non-empty string`);
  return v;
}

function list(c: Record<string, unknown>, key: string, path: string): string[] {
  const v = c[key];
  const arr = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(arr) || arr.length === 0 || !arr.every((x) => typeof x === 'string' && x)) throw new AlertConfigError(`${path}.${key} must be a non-empty list of strings`);
  return arr as string[];
}

function url(c: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = str(c, key, path);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new AlertConfigError(`${path}.${key} is not a valid URL: ${v}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AlertConfigError(`${path}.${key} must be an http(s) URL`);
  return v;
}

/**
 * Builds the channels of `config`, reading secrets from `env` (default process.env). Only
 * channels in `only` are built when it is given (the CLI's `--channel`). Throws
 * {@link AlertConfigError} on secret literals, unknown types or references, and unset variables.
 */
export function buildAlertChannels(config: AlertsConfig, env: Env = process.env, only?: string[]): BuiltChannels {
  assertNoSecretLiterals(config);
  const channels: AlertChannel[] = [];
  const fallbacks: Record<string, string> = {};
  const warnings: string[] = [];
  const secrets: string[] = [];
  const defined = config.channels ?? {};
  const enabled = new Set<string>();
  for (const [name, c] of Object.entries(defined)) {
    const path = `alerts.channels.${name}`;
    if (!c || typeof c !== 'object') throw new AlertConfigError(`${path} must be an object`);
    const on = c.enabled ?? c.type !== 'twilio';
    if (!on) continue;
    enabled.add(name);
    if (c.fallback !== undefined) {
      if (typeof c.fallback !== 'string' || !(c.fallback in defined)) throw new AlertConfigError(`${path}.fallback names an unknown channel: ${JSON.stringify(c.fallback)}`);
      fallbacks[name] = c.fallback;
    }
    if (only && !only.includes(name)) continue;
    const r = c as Record<string, unknown>;
    switch (c.type) {
      case 'slack':
        channels.push(new SlackChannel({ name, webhookUrl: fromEnv(env, r, 'webhookUrl', 'SLACK_WEBHOOK_URL', path, secrets), mention: str(r, 'mention', path) }));
        break;
      case 'pagerduty': {
        const triggerOn = r.triggerOn === undefined ? undefined : (list(r, 'triggerOn', path) as Severity[]);
        if (triggerOn?.some((s) => !SEVERITIES.includes(s))) throw new AlertConfigError(`${path}.triggerOn must list severities (${SEVERITIES.join(', ')})`);
        channels.push(new PagerDutyChannel({ name, routingKey: fromEnv(env, r, 'routingKey', 'PAGERDUTY_ROUTING_KEY', path, secrets), url: url(r, 'url', path), triggerOn }));
        break;
      }
      case 'email': {
        const user = str(r, 'user', path) ?? (typeof r.userEnv === 'string' ? env[r.userEnv] : undefined);
        const password = user !== undefined ? fromEnv(env, r, 'password', 'SMTP_PASSWORD', path, secrets) : undefined;
        const port = r.port;
        if (port !== undefined && (!Number.isInteger(port) || (port as number) <= 0 || (port as number) > 65535)) throw new AlertConfigError(`${path}.port must be a port number`);
        channels.push(
          new EmailChannel({
            name,
            host: str(r, 'host', path, true),
            port: port as number | undefined,
            secure: r.secure === true,
            requireTLS: typeof r.requireTLS === 'boolean' ? r.requireTLS : undefined,
            rejectUnauthorized: typeof r.rejectUnauthorized === 'boolean' ? r.rejectUnauthorized : undefined,
            user,
            password,
            from: str(r, 'from', path, true),
            to: list(r, 'to', path),
            subjectPrefix: str(r, 'subjectPrefix', path),
          }),
        );
        break;
      }
      case 'webhook': {
        const u = r.urlEnv !== undefined ? fromEnv(env, r, 'url', 'ANDON_WEBHOOK_URL', path, secrets) : url(r, 'url', path);
        if (!u) throw new AlertConfigError(`${path}.url (or urlEnv) is required`);
        const headers = r.headers as Record<string, string> | undefined;
        if (headers !== undefined && (typeof headers !== 'object' || Object.values(headers).some((v) => typeof v !== 'string'))) throw new AlertConfigError(`${path}.headers must map names to strings`);
        channels.push(new WebhookChannel({ name, url: u, secret: fromEnv(env, r, 'secret', 'ANDON_WEBHOOK_SECRET', path, secrets), headers }));
        break;
      }
      case 'twilio':
        channels.push(
          new TwilioChannel({
            name,
            accountSid: str(r, 'accountSid', path) ?? fromEnv(env, r, 'accountSid', 'TWILIO_ACCOUNT_SID', path, secrets),
            authToken: fromEnv(env, r, 'authToken', 'TWILIO_AUTH_TOKEN', path, secrets),
            from: str(r, 'from', path, true),
            to: list(r, 'to', path),
            baseUrl: url(r, 'baseUrl', path),
          }),
        );
        break;
      default:
        throw new AlertConfigError(`${path}.type must be one of slack, pagerduty, email, webhook, twilio (got ${JSON.stringify((c as { type?: unknown }).type)})`);
    }
  }
  const routes = {} as Record<Severity, string[]>;
  for (const sev of SEVERITIES) {
    const want = config.routes?.[sev];
    if (want === undefined) {
      routes[sev] = [...enabled].filter((n) => sev === 'critical' || (defined[n]!.type !== 'pagerduty' && defined[n]!.type !== 'twilio'));
      continue;
    }
    if (!Array.isArray(want)) throw new AlertConfigError(`alerts.routes.${sev} must be a list of channel names`);
    routes[sev] = [];
    for (const n of want) {
      if (!(n in defined)) throw new AlertConfigError(`alerts.routes.${sev} names an unknown channel: ${JSON.stringify(n)}`);
      if (!enabled.has(n)) warnings.push(`alerts.routes.${sev}: channel "${n}" is disabled and is skipped`);
      else routes[sev].push(n);
    }
  }
  for (const [from, to] of Object.entries(fallbacks)) if (!enabled.has(to)) warnings.push(`alerts.channels.${from}.fallback: channel "${to}" is disabled`);
  return { channels, fallbacks, routes, warnings, secrets };
}

/**
 * Reads a JSON (or, for `.yaml`/`.yml`, YAML) config file and returns its `alerts` section (or the
 * whole file when it has none). Secret literals are refused here, before anything else looks at the file.
 */
export function loadAlertsConfig(file: string): AlertsConfig {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    // The andon config file may be YAML (andon.config.yaml); its `alerts` section is the same shape.
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new AlertConfigError(`cannot read alert config ${file}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AlertConfigError(`${file}: must hold an object`);
  const section = (raw as Record<string, unknown>).alerts ?? raw;
  assertNoSecretLiterals(section);
  return section as AlertsConfig;
}
