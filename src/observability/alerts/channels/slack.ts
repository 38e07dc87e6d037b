/**
 * Slack incoming webhook (https://api.slack.com/messaging/webhooks): a Block Kit message with a
 * header (severity and title), the facts as fields (severity, component, source, time), the
 * context as a code block, and a fallback `text` for notifications. The webhook URL is a secret
 * (anyone holding it can post) and so comes from the environment.
 */
import type { Alert, AlertChannel } from '../types.js';
import { post } from '../http.js';
import { contextJson, cut, headline } from './format.js';

/** Options of {@link SlackChannel}. */
export interface SlackOptions {
  name?: string;
  /** The incoming webhook URL (from the environment: `webhookUrlEnv`, default `SLACK_WEBHOOK_URL`). */
  webhookUrl: string;
  /** Mention on critical alerts, e.g. `<!channel>` or `<@U123>`. Default none. */
  mention?: string;
}

/** Builds the Block Kit payload (exported for tests and previews). */
export function slackPayload(a: Alert, mention?: string): Record<string, unknown> {
  const title = headline(a);
  const blocks: Record<string, unknown>[] = [
    // Header blocks take plain_text up to 150 characters.
    { type: 'header', text: { type: 'plain_text', text: cut(title, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${a.action === 'resolve' ? 'resolved' : a.severity}` },
        { type: 'mrkdwn', text: `*Component*\n${a.component ?? '-'}` },
        { type: 'mrkdwn', text: `*Source*\n${a.source}` },
        { type: 'mrkdwn', text: `*Time*\n${a.time}` },
      ],
    },
  ];
  if (Object.keys(a.context).length) {
    // Section text is limited to 3000 characters, fences included.
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${contextJson(a, 2900)}\`\`\`` } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(`andon-mcp · incident \`${a.incident}\` · alert \`${a.id}\``, 3000) }] });
  const text = a.severity === 'critical' && a.action === 'trigger' && mention ? `${mention} ${title}` : title;
  return { text, blocks };
}

/** Posts alerts to a Slack incoming webhook. */
export class SlackChannel implements AlertChannel {
  readonly type = 'slack';
  readonly name: string;

  constructor(private readonly options: SlackOptions) {
    this.name = options.name ?? 'slack';
  }

  async send(alert: Alert, signal: AbortSignal): Promise<void> {
    await post('Slack', this.options.webhookUrl, JSON.stringify(slackPayload(alert, this.options.mention)), { 'content-type': 'application/json' }, signal);
  }
}
