/**
 * Real receivers on 127.0.0.1 for the alert tests: HTTP servers that validate what Slack,
 * PagerDuty, a signed webhook and Twilio would accept (answering the way those services answer),
 * and an SMTP server (smtp-server) that takes the mail with STARTTLS and AUTH. Validation is
 * written here independently of the channel code: the HMAC is recomputed, not imported.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json?: any;
  form?: URLSearchParams;
  /** Problems found by the validator (empty when the payload is valid). */
  problems: string[];
  at: number;
}

/** What a receiver answers: a fixed status/body, or a function per request. */
export type Behaviour = (r: Received, n: number) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

export interface HttpReceiver {
  url: string;
  received: Received[];
  /** Changes the behaviour for later requests. */
  behave(b: Behaviour): void;
  /** Resolves when `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

type Validator = (r: Received) => string[];

export async function startReceiver(validate: Validator, ok: Behaviour): Promise<HttpReceiver> {
  const received: Received[] = [];
  let behaviour = ok;
  const waiters: Array<() => void> = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, problems: [], at: Date.now() };
      const ct = req.headers['content-type'] ?? '';
      if (ct.startsWith('application/json')) {
        try {
          r.json = JSON.parse(body);
        } catch {
          r.problems.push('body is not JSON');
        }
      } else if (ct.startsWith('application/x-www-form-urlencoded')) r.form = new URLSearchParams(body);
      if (!r.problems.length) r.problems.push(...validate(r));
      received.push(r);
      for (const w of waiters.splice(0)) w();
      const answer = r.problems.length ? { status: 400, body: JSON.stringify({ error: 'invalid', problems: r.problems }) } : behaviour(r, received.length);
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    behave(b) {
      behaviour = b;
    },
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} requests, wanted ${n}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return received.slice(0, n);
    },
    async close() {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ───────────────────────────── Slack ─────────────────────────────

/** Block Kit limits from Slack's reference (header ≤150, section text ≤3000, ≤10 fields of ≤2000, ≤50 blocks). */
export function validateSlack(r: Received): string[] {
  const p: string[] = [];
  if (r.method !== 'POST') p.push('method must be POST');
  const b = r.json;
  if (!b || typeof b !== 'object') return ['body must be a JSON object'];
  if (typeof b.text !== 'string' || !b.text) p.push('text (notification fallback) must be a non-empty string');
  if (!Array.isArray(b.blocks) || b.blocks.length === 0 || b.blocks.length > 50) return [...p, 'blocks must be an array of 1-50 blocks'];
  for (const [i, blk] of b.blocks.entries()) {
    switch (blk.type) {
      case 'header':
        if (blk.text?.type !== 'plain_text' || typeof blk.text.text !== 'string' || blk.text.text.length > 150) p.push(`blocks[${i}]: header needs plain_text of at most 150 chars`);
        break;
      case 'section':
        if (blk.text === undefined && blk.fields === undefined) p.push(`blocks[${i}]: section needs text or fields`);
        if (blk.text && (!['mrkdwn', 'plain_text'].includes(blk.text.type) || blk.text.text.length > 3000)) p.push(`blocks[${i}]: section text invalid`);
        if (blk.fields && (!Array.isArray(blk.fields) || blk.fields.length > 10 || blk.fields.some((f: any) => typeof f.text !== 'string' || f.text.length > 2000))) p.push(`blocks[${i}]: fields invalid`);
        break;
      case 'context':
        if (!Array.isArray(blk.elements) || blk.elements.length === 0 || blk.elements.length > 10) p.push(`blocks[${i}]: context needs 1-10 elements`);
        break;
      default:
        p.push(`blocks[${i}]: unexpected type ${blk.type}`);
    }
  }
  return p;
}

export const slackOk: Behaviour = () => ({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });

// ───────────────────────────── PagerDuty ─────────────────────────────

/** Events API v2 rules: routing_key of 32 chars, event_action, dedup_key ≤255, payload for triggers. */
export function validatePagerDuty(r: Received): string[] {
  const p: string[] = [];
  if (r.path !== '/v2/enqueue') p.push(`path must be /v2/enqueue, got ${r.path}`);
  const b = r.json;
  if (!b || typeof b !== 'object') return ['body must be a JSON object'];
  if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32) p.push('routing_key must be 32 characters');
  if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action)) p.push('event_action must be trigger, acknowledge or resolve');
  if (b.dedup_key !== undefined && (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255)) p.push('dedup_key must be a string of at most 255 chars');
  if (b.event_action !== 'trigger' && typeof b.dedup_key !== 'string') p.push(`${b.event_action} needs dedup_key`);
  if (b.event_action === 'trigger') {
    const pl = b.payload;
    if (!pl || typeof pl !== 'object') p.push('trigger needs payload');
    else {
      if (typeof pl.summary !== 'string' || !pl.summary || pl.summary.length > 1024) p.push('payload.summary must be 1-1024 chars');
      if (typeof pl.source !== 'string' || !pl.source) p.push('payload.source is required');
      if (!['critical', 'error', 'warning', 'info'].includes(pl.severity)) p.push('payload.severity must be critical, error, warning or info');
      if (pl.timestamp !== undefined && Number.isNaN(Date.parse(pl.timestamp))) p.push('payload.timestamp must be ISO 8601');
      if (pl.custom_details !== undefined && (typeof pl.custom_details !== 'object' || pl.custom_details === null)) p.push('payload.custom_details must be an object');
    }
  }
  return p;
}

export const pagerDutyOk: Behaviour = (r) => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: r.json.dedup_key ?? 'generated' }) });

// ───────────────────────────── signed webhook ─────────────────────────────

/** Recomputes the HMAC-SHA256 over "<timestamp>.<body>" and checks it and the timestamp's age. */
export function webhookValidator(secret: string): Validator {
  return (r) => {
    const p: string[] = [];
    const ts = r.headers['x-andon-timestamp'];
    const sig = r.headers['x-andon-signature'];
    if (typeof ts !== 'string' || !/^\d+$/.test(ts)) return ['x-andon-timestamp missing or not unix seconds'];
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) p.push('timestamp outside the 5 minute tolerance');
    if (typeof sig !== 'string' || !sig.startsWith('sha256=')) return [...p, 'x-andon-signature missing'];
    const want = Buffer.from(createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex'));
    const got = Buffer.from(sig.slice(7));
    if (want.length !== got.length || !timingSafeEqual(want, got)) p.push('signature does not verify');
    const b = r.json;
    if (!b || typeof b.title !== 'string' || typeof b.severity !== 'string' || typeof b.id !== 'string' || typeof b.context !== 'object') p.push('body must carry id, severity, title, context');
    return p;
  };
}

export const webhookOk: Behaviour = () => ({ status: 204 });

// ───────────────────────────── Twilio ─────────────────────────────

/** Messages API: POST /2010-04-01/Accounts/{Sid}/Messages.json, Basic auth SID:token, form To/From/Body. */
export function twilioValidator(sid: string, token: string): Validator {
  return (r) => {
    const p: string[] = [];
    if (r.method !== 'POST' || r.path !== `/2010-04-01/Accounts/${sid}/Messages.json`) p.push(`unexpected ${r.method} ${r.path}`);
    const auth = r.headers.authorization ?? '';
    if (auth !== `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`) p.push('basic auth does not match SID:token');
    const f = r.form;
    if (!f) return [...p, 'body must be application/x-www-form-urlencoded'];
    if (!/^\+[1-9]\d{6,14}$/.test(f.get('To') ?? '')) p.push('To must be E.164');
    if (!f.get('From') && !f.get('MessagingServiceSid')) p.push('From or MessagingServiceSid required');
    const body = f.get('Body') ?? '';
    if (!body || body.length > 1600) p.push('Body must be 1-1600 chars');
    return p;
  };
}

export const twilioOk: Behaviour = (r) => ({ status: 201, body: JSON.stringify({ sid: `SM${'0'.repeat(32)}`, status: 'queued', to: r.form?.get('To'), body: r.form?.get('Body') }) });

// ───────────────────────────── SMTP ─────────────────────────────

export interface Mail {
  from: string;
  to: string[];
  raw: string;
  user: string | undefined;
  secure: boolean;
}

export interface SmtpReceiver {
  port: number;
  mails: Mail[];
  waitFor(n: number, timeoutMs?: number): Promise<Mail[]>;
  close(): Promise<void>;
}

/** A real SMTP server: STARTTLS (smtp-server's built-in test certificate) and AUTH PLAIN/LOGIN required. */
export async function startSmtp(user: string, pass: string): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    // Refuse AUTH before STARTTLS, as a real submission server does.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
          secure: session.secure,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < n) {
        if (Date.now() > deadline) throw new Error(`SMTP server got ${mails.length} mails, wanted ${n}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return mails.slice(0, n);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Decodes quoted-printable (for reading the parts of a received mail). */
export function decodeQuotedPrintable(s: string): string {
  return Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

/** Splits a multipart mail into its parts' content types and decoded bodies. */
export function mimeParts(raw: string): Array<{ type: string; body: string }> {
  const m = /boundary="?([^";\r\n]+)"?/i.exec(raw);
  if (!m) return [];
  const out: Array<{ type: string; body: string }> = [];
  for (const part of raw.split(`--${m[1]}`).slice(1)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase() ?? '';
    let body = part.slice(split + 4);
    if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) body = decodeQuotedPrintable(body);
    else if (/content-transfer-encoding:\s*base64/i.test(head)) body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (type) out.push({ type, body });
  }
  return out;
}
