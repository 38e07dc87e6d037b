/**
 * Delivery on each channel, through the real path (AlertManager → channel → HTTP/SMTP), to real
 * receivers on 127.0.0.1 that validate the payload formats of Slack, PagerDuty, a signed
 * webhook and Twilio, and a real SMTP server with STARTTLS and AUTH.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlertManager, buildAlertChannels, type AlertsConfig } from '../../src/observability/index.js';
import {
  startReceiver,
  startSmtp,
  validateSlack,
  validatePagerDuty,
  webhookValidator,
  twilioValidator,
  slackOk,
  pagerDutyOk,
  webhookOk,
  twilioOk,
  mimeParts,
  type HttpReceiver,
  type SmtpReceiver,
} from './receivers.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const WEBHOOK_SECRET = 'whsec_test_0123456789';
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'twilio-token-0123456789';
const SMTP_USER = 'alerts@example.test';
const SMTP_PASS = 'smtp-pass-0123456789';

let slack: HttpReceiver, pd: HttpReceiver, hook: HttpReceiver, twilio: HttpReceiver, smtp: SmtpReceiver;
let alerts: AlertManager;

before(async () => {
  [slack, pd, hook, twilio, smtp] = await Promise.all([
    startReceiver(validateSlack, slackOk),
    startReceiver(validatePagerDuty, pagerDutyOk),
    startReceiver(webhookValidator(WEBHOOK_SECRET), webhookOk),
    startReceiver(twilioValidator(TWILIO_SID, TWILIO_TOKEN), twilioOk),
    startSmtp(SMTP_USER, SMTP_PASS),
  ]);
  const env = {
    TEST_SLACK_URL: `${slack.url}/services/T000/B000/XXXX`,
    TEST_PD_KEY: ROUTING_KEY,
    TEST_HOOK_SECRET: WEBHOOK_SECRET,
    TEST_TWILIO_SID: TWILIO_SID,
    TEST_TWILIO_TOKEN: TWILIO_TOKEN,
    TEST_SMTP_PASS: SMTP_PASS,
  };
  const config: AlertsConfig = {
    channels: {
      slack: { type: 'slack', webhookUrlEnv: 'TEST_SLACK_URL', mention: '<!here>' },
      pagerduty: { type: 'pagerduty', routingKeyEnv: 'TEST_PD_KEY', url: `${pd.url}/v2/enqueue` },
      email: { type: 'email', host: '127.0.0.1', port: smtp.port, user: SMTP_USER, passwordEnv: 'TEST_SMTP_PASS', rejectUnauthorized: false, from: 'andon@example.test', to: ['oncall@example.test', 'team@example.test'] },
      hook: { type: 'webhook', url: `${hook.url}/andon`, secretEnv: 'TEST_HOOK_SECRET' },
      sms: { type: 'twilio', enabled: true, accountSidEnv: 'TEST_TWILIO_SID', authTokenEnv: 'TEST_TWILIO_TOKEN', from: '+15005550006', to: ['+15551234567'], baseUrl: twilio.url },
    },
  };
  const built = buildAlertChannels(config, env);
  assert.deepEqual(built.warnings, []);
  alerts = new AlertManager({ channels: built.channels, routes: built.routes, fallbacks: built.fallbacks, source: 'test-host', retry: { baseMs: 10 } });
});

after(async () => {
  await alerts.close(1000);
  await Promise.all([slack.close(), pd.close(), hook.close(), twilio.close(), smtp.close()]);
});

describe('alert channels deliver to real receivers', () => {
  test('default routes: critical goes everywhere; warning and info skip PagerDuty and SMS', () => {
    assert.deepEqual(alerts.route('critical').sort(), ['email', 'hook', 'pagerduty', 'slack', 'sms']);
    assert.deepEqual(alerts.route('warning').sort(), ['email', 'hook', 'slack']);
  });

  test('Slack: a Block Kit message with severity, title, context and component', async () => {
    const r = alerts.alert('critical', 'Database unreachable', { error: 'ECONNREFUSED', attempts: 4 }, { channels: ['slack'], component: 'store' });
    const rec = await r.delivered;
    assert.equal(rec?.status, 'sent', JSON.stringify(rec));
    const [got] = await slack.waitFor(1);
    assert.deepEqual(got!.problems, []);
    assert.equal(got!.path, '/services/T000/B000/XXXX');
    const b = got!.json;
    assert.match(b.text, /^<!here> 🔴 CRITICAL: Database unreachable$/, 'mention on critical');
    assert.equal(b.blocks[0].type, 'header');
    assert.match(b.blocks[0].text.text, /CRITICAL: Database unreachable/);
    const fields = b.blocks[1].fields.map((f: { text: string }) => f.text);
    assert.ok(fields.includes('*Severity*\ncritical'));
    assert.ok(fields.includes('*Component*\nstore'));
    assert.ok(fields.includes('*Source*\ntest-host'));
    assert.match(b.blocks[2].text.text, /"error": "ECONNREFUSED"/);
  });

  test('PagerDuty: trigger with a dedup_key per incident, resolve on recovery', async () => {
    const r = alerts.alert('critical', 'Component halted: tool:search', { reason: 'restart intensity' }, { channels: ['pagerduty'], component: 'tool:search', incident: 'component:tool:search:halted' });
    assert.equal((await r.delivered)?.status, 'sent');
    assert.ok(alerts.isOpen('component:tool:search:halted'));
    const res = alerts.resolve('component:tool:search:halted', { title: 'Component resumed: tool:search' });
    assert.equal(res.status, 'queued');
    assert.equal((await res.delivered)?.status, 'sent');
    const [trigger, resolve] = await pd.waitFor(2);
    assert.deepEqual(trigger!.problems, []);
    assert.deepEqual(resolve!.problems, []);
    assert.equal(trigger!.json.event_action, 'trigger');
    assert.equal(trigger!.json.routing_key, ROUTING_KEY);
    assert.equal(trigger!.json.dedup_key, 'component:tool:search:halted');
    assert.equal(trigger!.json.payload.severity, 'critical');
    assert.equal(trigger!.json.payload.component, 'tool:search');
    assert.equal(trigger!.json.payload.custom_details.reason, 'restart intensity');
    assert.deepEqual(resolve!.json, { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'component:tool:search:halted' });
    assert.equal(alerts.resolve('component:tool:search:halted').status, 'ignored', 'a closed incident is not resolved twice');
  });

  test('PagerDuty pages on critical only: a warning routed to it is not sent', async () => {
    const before = pd.received.length;
    const r = alerts.alert('warning', 'Latency rising', {}, { channels: ['pagerduty'] });
    assert.equal((await r.delivered)?.status, 'sent');
    assert.equal(pd.received.length, before);
  });

  test('email: plain text and HTML over SMTP with STARTTLS and AUTH', async () => {
    const r = alerts.alert('warning', 'Store write latency <high> & rising', { p99Ms: 840 }, { channels: ['email'], component: 'store' });
    const rec = await r.delivered;
    assert.equal(rec?.status, 'sent', JSON.stringify(rec));
    const [mail] = await smtp.waitFor(1);
    assert.equal(mail!.secure, true, 'upgraded with STARTTLS');
    assert.equal(mail!.user, SMTP_USER, 'authenticated');
    assert.equal(mail!.from, 'andon@example.test');
    assert.deepEqual(mail!.to, ['oncall@example.test', 'team@example.test']);
    assert.match(mail!.raw, /^Subject: \[andon\] WARNING: Store write latency <high> & rising/m);
    const parts = mimeParts(mail!.raw);
    const text = parts.find((p) => p.type === 'text/plain');
    const html = parts.find((p) => p.type === 'text/html');
    assert.ok(text && html, `both parts: ${parts.map((p) => p.type).join(', ')}`);
    assert.match(text.body, /Component: store/);
    assert.match(text.body, /"p99Ms": 840/);
    assert.match(html.body, /Store write latency &lt;high&gt; &amp; rising/, 'HTML is escaped');
  });

  test('webhook: JSON body with an HMAC-SHA256 signature and timestamp that verify', async () => {
    const r = alerts.alert('info', 'Deployed v1.2.3', { version: '1.2.3' }, { channels: ['hook'] });
    assert.equal((await r.delivered)?.status, 'sent');
    const [got] = await hook.waitFor(1);
    assert.deepEqual(got!.problems, [], 'signature verified by the receiver');
    assert.equal(got!.json.title, 'Deployed v1.2.3');
    assert.equal(got!.json.action, 'trigger');
    assert.equal(got!.headers['x-andon-event-id'], got!.json.id);
  });

  test('webhook: a receiver with another secret rejects the signature (400, not retried)', async () => {
    const wrong = await startReceiver(webhookValidator('another-secret-xyz'), webhookOk);
    try {
      const built = buildAlertChannels({ channels: { hook: { type: 'webhook', url: wrong.url, secretEnv: 'S' } } }, { S: WEBHOOK_SECRET });
      const m = new AlertManager({ channels: built.channels, retry: { baseMs: 1 } });
      const rec = await m.alert('info', 'x', {}).delivered;
      assert.equal(rec?.status, 'failed');
      assert.equal(rec?.deliveries[0]?.attempts, 1, '4xx is not retried');
      assert.match(rec?.deliveries[0]?.error ?? '', /HTTP 400.*signature does not verify/);
      await m.close(100);
    } finally {
      await wrong.close();
    }
  });

  test('SMS: Twilio Messages API with Basic auth and a form body', async () => {
    const r = alerts.alert('critical', 'Node halted', { by: 'operator' }, { channels: ['sms'], component: 'server' });
    const rec = await r.delivered;
    assert.equal(rec?.status, 'sent', JSON.stringify(rec));
    const [got] = await twilio.waitFor(1);
    assert.deepEqual(got!.problems, []);
    assert.equal(got!.form!.get('To'), '+15551234567');
    assert.equal(got!.form!.get('From'), '+15005550006');
    assert.match(got!.form!.get('Body')!, /^CRITICAL: Node halted \[server\]/);
  });

  test('SMS is off by default', () => {
    const built = buildAlertChannels({ channels: { sms: { type: 'twilio', from: '+15005550006', to: ['+15551234567'] } } }, {});
    assert.equal(built.channels.length, 0);
  });
});
