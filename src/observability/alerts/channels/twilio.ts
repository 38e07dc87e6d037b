/**
 * SMS through Twilio's Messages API
 * (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
 * form-encoded `To`, `From`, `Body`, HTTP Basic auth with the account SID and auth token, one
 * message per recipient. Off unless configured with `enabled: true`: texts cost money and wake
 * people.
 */
import type { Alert, AlertChannel } from '../types.js';
import { post } from '../http.js';
import { cut, headline } from './format.js';

/** Twilio's public API base. */
export const TWILIO_API_URL = 'https://api.twilio.com';

/** Options of {@link TwilioChannel}. */
export interface TwilioOptions {
  name?: string;
  /** Account SID (from the environment: `accountSidEnv`, default `TWILIO_ACCOUNT_SID`). */
  accountSid: string;
  /** Auth token (from the environment: `authTokenEnv`, default `TWILIO_AUTH_TOKEN`). */
  authToken: string;
  /** Sender number (E.164) or messaging service SID (`MG…`). */
  from: string;
  /** Recipients (E.164). */
  to: string[];
  /** API base. Default {@link TWILIO_API_URL}. */
  baseUrl?: string;
}

/** The SMS text: short, since every 153 characters is another billed segment. */
export function smsText(a: Alert): string {
  const where = a.component ? ` [${a.component}]` : '';
  return cut(`${headline(a, false)}${where} (${a.source}, ${a.time})`, 320);
}

/** Sends alerts as SMS through Twilio. */
export class TwilioChannel implements AlertChannel {
  readonly type = 'twilio';
  readonly name: string;
  private readonly url: string;
  private readonly auth: string;

  constructor(private readonly options: TwilioOptions) {
    if (options.to.length === 0) throw new Error('twilio: "to" needs at least one number');
    this.name = options.name ?? 'sms';
    this.url = `${(options.baseUrl ?? TWILIO_API_URL).replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    this.auth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  }

  async send(alert: Alert, signal: AbortSignal): Promise<void> {
    const text = smsText(alert);
    const sender = this.options.from.startsWith('MG') ? 'MessagingServiceSid' : 'From';
    for (const to of this.options.to) {
      const form = new URLSearchParams({ To: to, [sender]: this.options.from, Body: text });
      await post('Twilio', this.url, form.toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: this.auth, accept: 'application/json' }, signal);
    }
  }
}
