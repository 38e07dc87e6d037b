/** Alerting: the manager, its channels, configuration and wiring. */
export * from './types.js';
export { AlertManager, realClock, type AlertManagerOptions, type AlertOptions, type AlertReceipt, type AlertClock } from './manager.js';
export { AlertHistory, readHistoryFile, HISTORY_FILE, type AlertHistoryOptions } from './history.js';
export { AlertConfigError, assertNoSecretLiterals, buildAlertChannels, loadAlertsConfig, type AlertsConfig, type BuiltChannels, type ChannelCommon } from './config.js';
export { wireAlerts, type AlertWiringOptions } from './wiring.js';
export { SlackChannel, slackPayload, type SlackOptions } from './channels/slack.js';
export { PagerDutyChannel, pagerDutyEvent, PAGERDUTY_EVENTS_URL, type PagerDutyOptions } from './channels/pagerduty.js';
export { EmailChannel, emailContent, type EmailOptions } from './channels/email.js';
export { WebhookChannel, webhookBody, signWebhook, verifyWebhookSignature, type WebhookOptions } from './channels/webhook.js';
export { TwilioChannel, smsText, TWILIO_API_URL, type TwilioOptions } from './channels/twilio.js';
