/**
 * Email over SMTP with nodemailer: a plain-text part and an HTML part, one message to all
 * recipients. The transport is pooled and kept, so a burst of alerts reuses one connection.
 */
import { createTransport, type Transporter } from 'nodemailer';
import type { Alert, AlertChannel } from '../types.js';
import { DeliveryError } from '../types.js';
import { contextJson, escapeHtml, headline, plainText } from './format.js';

/** Options of {@link EmailChannel}. */
export interface EmailOptions {
  name?: string;
  host: string;
  /** Default 587 (or 465 when `secure`). */
  port?: number;
  /** TLS from the first byte (port 465). Default false (STARTTLS when offered). */
  secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. Default true when `user` is set, else false. */
  requireTLS?: boolean;
  /** SMTP user (from the config or `userEnv`) and password (from the environment: `passwordEnv`, default `SMTP_PASSWORD`). */
  user?: string;
  password?: string;
  from: string;
  to: string[];
  /** Subject prefix. Default `[andon]`. */
  subjectPrefix?: string;
  /** Verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** Connection, greeting and socket timeouts, ms. Default 10,000. */
  timeoutMs?: number;
}

/** The subject, text and HTML of an alert email (exported for tests). */
export function emailContent(a: Alert, prefix = '[andon]'): { subject: string; text: string; html: string } {
  const subject = `${prefix} ${headline(a, false)}`.trim();
  const rows = [
    ['Severity', a.action === 'resolve' ? 'resolved' : a.severity],
    ['Component', a.component ?? '-'],
    ['Source', a.source],
    ['Time', a.time],
    ['Incident', a.incident],
    ['Alert id', a.id],
  ]
    .map(([k, v]) => `<tr><th align="left">${escapeHtml(k!)}</th><td>${escapeHtml(v!)}</td></tr>`)
    .join('');
  const colour = a.action === 'resolve' ? '#2e7d32' : a.severity === 'critical' ? '#c62828' : a.severity === 'warning' ? '#ef6c00' : '#1565c0';
  const html = `<!doctype html><html><body style="font-family:sans-serif"><h2 style="color:${colour}">${escapeHtml(headline(a, false))}</h2><table cellpadding="4">${rows}</table><h3>Context</h3><pre>${escapeHtml(contextJson(a, 20_000))}</pre><p style="color:#777">Sent by andon-mcp</p></body></html>`;
  return { subject, text: plainText(a), html };
}

/** Sends alerts by email. */
export class EmailChannel implements AlertChannel {
  readonly type = 'email';
  readonly name: string;
  private readonly transport: Transporter;

  constructor(private readonly options: EmailOptions) {
    if (options.to.length === 0) throw new Error('email: "to" needs at least one address');
    this.name = options.name ?? 'email';
    const timeout = options.timeoutMs ?? 10_000;
    const secure = options.secure ?? false;
    this.transport = createTransport({
      host: options.host,
      port: options.port ?? (secure ? 465 : 587),
      secure,
      requireTLS: options.requireTLS ?? options.user !== undefined,
      auth: options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : undefined,
      pool: true,
      maxConnections: 1,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: { rejectUnauthorized: options.rejectUnauthorized ?? true },
    });
  }

  async send(alert: Alert, signal: AbortSignal): Promise<void> {
    const { subject, text, html } = emailContent(alert, this.options.subjectPrefix);
    if (signal.aborted) throw new DeliveryError(`email ${this.name}: timed out`, true);
    try {
      // nodemailer has no AbortSignal; its own timeouts bound the call, and the race stops the
      // caller from waiting past the manager's delivery timeout.
      await Promise.race([
        this.transport.sendMail({ from: this.options.from, to: this.options.to, subject, text, html, headers: { 'X-Andon-Alert-Id': alert.id, 'X-Andon-Incident': alert.incident } }),
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DeliveryError(`email ${this.name}: timed out`, true)), { once: true })),
      ]);
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      const e = err as Error & { responseCode?: number; code?: string };
      // SMTP 5xx replies are permanent (bad recipient, auth refused); 4xx and network errors pass.
      const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH' || e.code === 'EENVELOPE';
      throw new DeliveryError(`email ${this.name}: ${e.message}`, !permanent, undefined, { cause: err });
    }
  }

  close(): void {
    this.transport.close();
  }
}
