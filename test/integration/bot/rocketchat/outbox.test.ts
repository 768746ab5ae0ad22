import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatOutboxSender } from '../../../../bot/rocketchat/outbox.js';
import { OutboxMailer, smtpTransport } from '../../../../bot/email/mailer.js';
import { RocketChatRest } from '../../../../bot/rocketchat/rest.js';
import { alertRecipients, enqueueCostAlerts, type CostAlert } from '../../../../core/notification/alerts.js';
import { renderCostChart } from '../../../../core/cost/chart.js';
import { billingPeriod } from '../../../../core/cost/period.js';
import type { NotificationAttachment } from '../../../../core/store/types.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { useSandbox } from '../../../sandbox/use.js';
import { CHAT_CONFIG_YAML } from '../chat/builders.js';

// Cost alerts in the outbox reach chat: posted once, with the chart uploaded through rooms.media +
// rooms.mediaConfirm (contract-checked, multipart included); while Rocket.Chat is down they go by email (the
// sandbox's real SMTP server) with the chart attached, and are not posted again when chat is back.

interface MailSummary { id: string; subject: string; to: { address: string }[] }
interface Mail { subject: string; text: string | null; attachments: { filename: string | null; contentType: string; contentBase64?: string }[] }

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
let smtp: Record<string, string>;

beforeAll(async () => {
  smtp = (await useSandbox(['smtp'])).smtp;
});

async function mailsTo(address: string): Promise<Mail[]> {
  const out: Mail[] = [];
  for (const s of (await (await fetch(`${smtp.apiUrl}/messages`)).json()) as MailSummary[]) {
    if (s.to.some((t) => t.address === address)) out.push((await (await fetch(`${smtp.apiUrl}/messages/${s.id}`)).json()) as Mail);
  }
  return out;
}

function alert(key: string, body: string): CostAlert {
  return { key, kind: 'threshold', value: 50, subject: `[aks-bot] prod: ${body}`, body: `prod: ${body}` };
}

describe('chat notifications from the outbox', () => {
  const rc = new FakeRocketChat();
  beforeAll(() => rc.start());
  afterAll(() => rc.close());

  it('posts an alert once with its chart while chat is up; by email while it is down, and not again when it is back', async () => {
    const tag = `t${Date.now()}`;
    const ops = `ops-${tag}@example.test`;
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    const room = rc.addRoom(`ops-${tag}`);
    const yaml = `${CHAT_CONFIG_YAML}
rocketchat: { url: "${rc.url}", userId: ${bot.user._id}, token: { env: RC_TOKEN }, rooms: [ops-${tag}] }
email:
  smtp: { host: ${smtp.host}, port: ${smtp.port}, user: ${smtp.user}, password: { env: SMTP_PASSWORD } }
  from: aks-bot@example.test
  to: [${ops}]
`;
    const deps = { ...testDeps({ config: testConfig(yaml) }), now: () => new Date() };
    const rest = new RocketChatRest({ url: rc.url, userId: bot.user._id, token: bot.token, timeoutMs: 2_000 });
    const sender = new ChatOutboxSender({ store: deps.store, rest, log: deps.log, redactor: deps.redactor, now: deps.now, emailTo: [ops] });
    const mailer = new OutboxMailer({ store: deps.store, transport: smtpTransport(testConfig(yaml).email!.smtp, smtp.password), from: 'aks-bot@example.test', log: deps.log, now: deps.now });
    const recipients = alertRecipients(deps.config);
    // Chat configured: the ops room only (email is the fallback, not a second copy).
    expect(recipients).toEqual([{ channel: 'rocketchat', recipient: `ops-${tag}` }]);

    let renders = 0;
    const chart = async (): Promise<NotificationAttachment> => {
      renders++;
      const now = deps.now();
      const content = renderCostChart({ environment: 'prod', period: billingPeriod(now, 1), now, creditUsd: 150, safetyMarginUsd: 5, daily: [{ date: now.toISOString().slice(0, 10), cost: 12 }] });
      return { filename: 'cost-prod.png', contentType: 'image/png', content };
    };

    // 1. Chat up: posted once, the chart uploaded with the text as one message; the mailer leaves the row alone.
    const first = await enqueueCostAlerts(deps.store, [alert(`cost:prod:${tag}:a`, '50 % of the Azure credit used')], recipients, deps.now(), chart);
    expect(first.fired).toHaveLength(1);
    expect(renders).toBe(1);
    expect(await mailer.drain()).toBe(0);
    const row = (await deps.store.findNotification(`cost:prod:${tag}:a:rocketchat:ops-${tag}`))!;
    expect(row.attempts).toBe(0); // the mailer did not claim (and count an attempt on) the chat row
    expect(await sender.drain()).toMatchObject({ posted: 1, emailed: 0 });
    expect(await sender.drain()).toMatchObject({ posted: 0 });
    const posted = rc.inRoom(room._id);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.msg).toBe('prod: 50 % of the Azure credit used');
    expect(posted[0]!.file?.type).toBe('image/png');
    expect(posted[0]!.file?.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(posted[0]!.attachments).toEqual([expect.objectContaining({ title: 'cost-prod.png', image_type: 'image/png' })]);
    expect(rc.requests.map((r) => r.path)).toEqual(expect.arrayContaining([`/api/v1/rooms.media/${room._id}`, expect.stringMatching(new RegExp(`^/api/v1/rooms.mediaConfirm/${room._id}/`))]));
    expect(await deps.store.getNotification(row.id)).toMatchObject({ status: 'sent', attempts: 1 });

    // The same alert again (a retried check, a restart): nothing new, nothing rendered.
    const again = await enqueueCostAlerts(deps.store, [alert(`cost:prod:${tag}:a`, '50 % of the Azure credit used')], recipients, deps.now(), chart);
    expect(again).toMatchObject({ fired: [], alreadyFired: [`cost:prod:${tag}:a`] });
    expect(renders).toBe(1);

    // 2. Chat down: the alert goes by email with the chart attached; the chat row is closed with the reason.
    await rc.stop();
    await enqueueCostAlerts(deps.store, [alert(`cost:prod:${tag}:b`, '75 % of the Azure credit used')], recipients, deps.now(), chart);
    expect(await sender.drain()).toMatchObject({ posted: 0, emailed: 1 });
    expect(await mailer.drain()).toBe(1);
    const mails = await mailsTo(ops);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('[aks-bot] prod: 75 % of the Azure credit used');
    expect(mails[0]!.text).toContain('Rocket.Chat was unreachable');
    expect(mails[0]!.attachments).toEqual([expect.objectContaining({ filename: 'cost-prod.png', contentType: 'image/png' })]);
    expect(Buffer.from(mails[0]!.attachments[0]!.contentBase64 ?? '', 'base64').subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const down = (await deps.store.findNotification(`cost:prod:${tag}:b:rocketchat:ops-${tag}`))!;
    expect(down).toMatchObject({ status: 'failed', lastError: expect.stringContaining('sent by email instead') });

    // 3. Chat back: nothing is posted twice, and the email is not sent again.
    await rc.start();
    expect(await sender.drain()).toMatchObject({ posted: 0, emailed: 0 });
    expect(await mailer.drain()).toBe(0);
    expect(rc.inRoom(room._id)).toHaveLength(1);
    expect(await mailsTo(ops)).toHaveLength(1);

    // 4. And the next alert goes to chat again.
    await enqueueCostAlerts(deps.store, [alert(`cost:prod:${tag}:c`, '90 % of the Azure credit used')], recipients, deps.now(), chart);
    expect(await sender.drain()).toMatchObject({ posted: 1 });
    expect(rc.inRoom(room._id).map((m) => m.msg)).toEqual(['prod: 50 % of the Azure credit used', 'prod: 90 % of the Azure credit used']);
    expect(rc.violations).toEqual([]);
  });

  it('a refusal (unknown room) is retried with backoff, and goes by email when it is given up', async () => {
    const bot = rc.addUser(`aks-bot-${Date.now()}`, { roles: ['bot'] });
    const deps = { ...testDeps({ config: testConfig(CHAT_CONFIG_YAML) }), now: () => new Date() };
    let now = new Date();
    const rest = new RocketChatRest({ url: rc.url, userId: bot.user._id, token: bot.token, timeoutMs: 2_000 });
    const sender = new ChatOutboxSender({ store: deps.store, rest, log: deps.log, redactor: deps.redactor, now: () => now, emailTo: ['ops@example.test'], maxAttempts: 2 });
    const { notification } = await deps.store.enqueueNotification({ channel: 'rocketchat', recipient: 'no-such-room', subject: 'Alert', body: 'hello', dedupeKey: 'k-refused', notBefore: now });
    expect(await sender.drain()).toMatchObject({ retried: 1, emailed: 0 });
    expect(await deps.store.getNotification(notification.id)).toMatchObject({ status: 'pending', lastError: expect.stringContaining('AKS_CHAT_API') });
    now = new Date(now.getTime() + 30_000);
    expect(await sender.drain()).toMatchObject({ emailed: 1 });
    expect(await deps.store.getNotification(notification.id)).toMatchObject({ status: 'failed', lastError: expect.stringContaining('sent by email instead') });
    expect(await deps.store.findNotification('k-refused:chat-fallback:ops@example.test')).toMatchObject({ channel: 'email', subject: 'Alert', status: 'pending' });
    expect(rc.violations).toEqual([]);
  });

  it('a notification with several files that fails part-way is retried with only the files not yet posted', async () => {
    const bot = rc.addUser(`aks-bot-files-${Date.now()}`, { roles: ['bot'] });
    const room = rc.addRoom(`files-${Date.now()}`);
    const deps = { ...testDeps({ config: testConfig(CHAT_CONFIG_YAML) }), now: () => new Date() };
    let now = new Date();
    const rest = new RocketChatRest({ url: rc.url, userId: bot.user._id, token: bot.token, timeoutMs: 2_000 });
    // the second upload fails once (chat went away between two files)
    let uploads = 0;
    const flaky = Object.create(rest) as RocketChatRest;
    flaky.postFile = async (...a: Parameters<RocketChatRest['postFile']>) => {
      uploads++;
      if (uploads === 2) throw new Error('socket hang up');
      return rest.postFile(...a);
    };
    const sender = new ChatOutboxSender({ store: deps.store, rest: flaky, log: deps.log, redactor: deps.redactor, now: () => now, emailTo: [], maxAttempts: 3 });
    const file = (name: string) => ({ filename: name, contentType: 'image/png', content: Buffer.concat([PNG_SIGNATURE, Buffer.from(name)]) });
    const { notification } = await deps.store.enqueueNotification({
      channel: 'rocketchat',
      recipient: room.name!,
      body: 'two charts',
      dedupeKey: `k-files-${Date.now()}`,
      notBefore: now,
      attachments: [file('a.png'), file('b.png'), file('c.png')],
    });
    expect(await sender.drain()).toMatchObject({ posted: 0, retried: 1 });
    expect(rc.inRoom(room._id).map((m) => [m.msg, m.file?.name])).toEqual([['two charts', 'a.png']]);
    now = new Date(now.getTime() + 60_000);
    expect(await sender.drain()).toMatchObject({ posted: 1 });
    // a.png is not posted again; the text went with it, the others follow without text
    expect(rc.inRoom(room._id).map((m) => [m.msg, m.file?.name])).toEqual([['two charts', 'a.png'], ['', 'b.png'], ['', 'c.png']]);
    expect(uploads).toBe(4);
    expect(await deps.store.getNotification(notification.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect((await deps.store.notificationAttachments(notification.id)).every((f) => f.postedAt instanceof Date)).toBe(true);
    expect(rc.violations).toEqual([]);
  });

  it('without email, an unreachable chat is retried with backoff and given up after maxAttempts', async () => {
    const deps = { ...testDeps({ config: testConfig(CHAT_CONFIG_YAML) }), now: () => new Date() };
    let now = new Date();
    const rest = new RocketChatRest({ url: 'http://127.0.0.1:9', userId: 'u', token: 't', timeoutMs: 1_000 });
    const sender = new ChatOutboxSender({ store: deps.store, rest, log: deps.log, redactor: deps.redactor, now: () => now, emailTo: [], maxAttempts: 2 });
    const { notification } = await deps.store.enqueueNotification({ channel: 'rocketchat', recipient: 'ops', body: 'hello', dedupeKey: 'k1', notBefore: now });
    expect(await sender.drain()).toMatchObject({ retried: 1, gaveUp: 0 });
    const retry = (await deps.store.getNotification(notification.id))!;
    expect(retry).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('AKS_CHAT_UNREACHABLE') });
    expect(retry.nextAttemptAt.getTime() - now.getTime()).toBe(30_000);
    expect(await sender.drain()).toMatchObject({ retried: 0 }); // not due yet
    now = new Date(now.getTime() + 30_000);
    expect(await sender.drain()).toMatchObject({ gaveUp: 1 });
    expect(await deps.store.getNotification(notification.id)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(deps.logs.text).toContain('chat notification given up');
  });
});
