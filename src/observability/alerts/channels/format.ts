/** Text shared by the channels: the same facts, rendered for each medium. */
import type { Alert } from '../types.js';

const ICON: Record<Alert['severity'], string> = { critical: '🔴', warning: '🟠', info: '🔵' };

/** "🔴 CRITICAL: title" or "✅ RESOLVED: title" (and "[TEST]" for test alerts). */
export function headline(a: Alert, icons = true): string {
  const test = a.test ? '[TEST] ' : '';
  if (a.action === 'resolve') return `${icons ? '✅ ' : ''}${test}RESOLVED: ${a.title}`;
  return `${icons ? `${ICON[a.severity]} ` : ''}${test}${a.severity.toUpperCase()}: ${a.title}`;
}

/** The context as indented JSON, cut to `max` characters. */
export function contextJson(a: Alert, max = 2800): string {
  const s = JSON.stringify(a.context, null, 2) ?? '{}';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Plain-text body (email, SMS): headline, facts, context. */
export function plainText(a: Alert, withContext = true): string {
  const lines = [headline(a, false), '', `Severity:  ${a.severity}`, `Component: ${a.component ?? '-'}`, `Source:    ${a.source}`, `Time:      ${a.time}`, `Incident:  ${a.incident}`, `Alert id:  ${a.id}`];
  if (withContext) lines.push('', 'Context:', contextJson(a, 20_000));
  return lines.join('\n');
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Cuts `s` to `max` characters with an ellipsis. */
export function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
