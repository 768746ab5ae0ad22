import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer, smtpTransport } from '../../../../bot/email/mailer.js';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { buildApp } from '../../../../bot/server/app.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { useSandbox } from '../../../sandbox/use.js';
import { CHAT_CONFIG_YAML, specsWithTeardown, until } from './builders.js';

// Rocket.Chat goes down in the middle of a run: the next approval prompt goes by email (the real SMTP server of
// the sandbox) with signed links, the approver decides by link, chat comes back and progress continues there.

interface MailSummary { id: string; subject: string }
interface Mail { to: { address: string }[]; subject: string; text: string | null }

const LINK_SECRET = 'link-hmac-secret-for-tests';
let smtp: Record<string, string>;

beforeAll(async () => {
  smtp = (await useSandbox(['smtp'])).smtp;
});

async function mailTo(address: string, subjectPart: string): Promise<Mail> {
  for (let i = 0; i < 50; i++) {
    for (const s of (await (await fetch(`${smtp.apiUrl}/messages`)).json()) as MailSummary[]) {
      if (!s.subject.includes(subjectPart)) continue;
      const m = (await (await fetch(`${smtp.apiUrl}/messages/${s.id}`)).json()) as Mail;
      if (m.to.some((t) => t.address === address)) return m;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${address} about ${subjectPart}`);
}

describe('email fallback', () => {
  let rc: FakeRocketChat;
  let chat: ChatWiring;
  afterAll(async () => {
    chat?.adapter.stop();
    await rc?.close();
  });

  it('chat down mid-run → approval email with a signed link → approval by link → chat back → progress continues in chat', async () => {
    const tag = `t${Date.now()}`;
    const yaml = `${CHAT_CONFIG_YAML.replace('bot: { defaultEnvironment: prod, cliUser: cli-admin }', 'bot: { defaultEnvironment: prod, cliUser: cli-admin, publicUrl: "http://bot.test" }')}
email:
  smtp: { host: ${smtp.host}, port: ${smtp.port}, user: ${smtp.user}, password: { env: SMTP_PASSWORD } }
  from: aks-bot@example.test
  to: [ops-${tag}@example.test]
  approvers: { erin: erin-${tag}@example.test, bob: bob-${tag}@example.test, alice: alice-${tag}@example.test }
  linkSecret: { env: LINK_SECRET }
`;
    const deps = { ...testDeps({ config: testConfig(yaml) }), now: () => new Date() };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const specs = specsWithTeardown(calls, { gate });

    rc = new FakeRocketChat();
    await rc.start();
    for (const u of ['alice', 'erin']) rc.addUser(u);
    const roomId = rc.addRoom('ops')._id;
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    chat = wireChat({ ...deps, registry: specs }, {
      url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 20,
      backoff: { initialMs: 20, maxMs: 100 }, links: { secret: LINK_SECRET, publicUrl: 'http://bot.test' },
    });
    await chat.adapter.start();
    await chat.ddp.ready();
    const app = buildApp({ deps: { ...deps, registry: specs }, rocketchat: { linkSecret: LINK_SECRET, launcher: chat.launcher } });
    const mailer = new OutboxMailer({ store: deps.store, transport: smtpTransport(deps.config.email!.smtp, smtp.password), from: 'aks-bot@example.test', log: deps.log, now: () => new Date() });
    const botMsgs = () => rc.inRoom(roomId).filter((m) => m.u.username === 'aks-bot');

    // Run 1, approved in chat, is half done when chat goes away.
    rc.say('alice', roomId, 'aks teardown --env prod --reason first');
    await until(() => botMsgs().some((m) => m.msg.includes('Approval needed for run 1')));
    await chat.adapter.idle();
    rc.react('erin', botMsgs().find((m) => m.msg.includes('Approval needed for run 1'))!._id, 'white_check_mark');
    await until(() => botMsgs().some((m) => m.msg.startsWith('Run 1:') && m.msg.includes('✓ back up')));
    const progress1 = botMsgs().find((m) => m.msg.startsWith('Run 1:'))!;
    await rc.stop();

    // Run 2 is requested outside chat; its prompt can only go by email, one personal mail per approver who may decide.
    const reply = await execute('teardown --env prod --reason second', { actor: 'alice', source: 'cli' }, { ...deps, registry: specs });
    await chat.adapter.announceApproval((reply.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId);
    expect(await mailer.drain()).toBe(1);
    const mail = await mailTo(`erin-${tag}@example.test`, 'Approval needed: run 2');
    expect(mail.text).toContain('1. back up prod');
    const approveUrl = new URL(/Approve: (\S+)/.exec(mail.text ?? '')![1]!);
    expect(approveUrl.origin).toBe('http://bot.test');

    // Opening the link changes nothing; the button's POST decides, once.
    const opened = await app.inject({ method: 'GET', url: `${approveUrl.pathname}${approveUrl.search}` });
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain('You decide as <b>erin</b>');
    expect((await deps.store.getRun(2))?.status).toBe('awaiting-approval');
    const form = { method: 'POST' as const, url: '/approvals/email', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${approveUrl.searchParams.get('token')!}` };
    const decided = await app.inject(form);
    expect(decided.statusCode).toBe(200);
    expect(decided.body).toContain('was approved by erin');
    const again = await app.inject(form);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('AKS_APPROVAL_NOT_FOUND');
    const tampered = await app.inject({ ...form, payload: form.payload.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) });
    expect(tampered.statusCode).toBe(400);

    // Run 2 starts while chat is still down: its start notice is queued for email.
    await until(async () => (await deps.store.getRun(2))?.status === 'running');
    await until(() => calls.length === 2);
    expect(await mailer.drain()).toBe(1);
    expect((await mailTo(`ops-${tag}@example.test`, 'Run 2: teardown on prod')).text).toContain('Run 2: teardown on prod — queued');

    // Chat comes back; the runs finish; progress continues in the same message and run 2 gets its own.
    await rc.start();
    release();
    await until(async () => (await deps.store.getRun(1))?.status === 'succeeded' && (await deps.store.getRun(2))?.status === 'succeeded');
    await chat.launcher.idle();
    await until(() => rc.messages.get(progress1._id)!.msg.includes('succeeded'));
    expect(rc.messages.get(progress1._id)!.msg).toContain('✓ destroy cluster layer');
    expect(botMsgs().filter((m) => m.msg.startsWith('Run 1:'))).toHaveLength(1);
    expect(botMsgs().some((m) => m.msg.startsWith('Run 2:') && m.msg.includes('succeeded'))).toBe(true);
    expect((await deps.store.listAudit({ limit: 30 })).find((a) => a.command === 'approve run 2' && a.result === 'ok')).toMatchObject({ actor: 'erin', source: 'email' });
    expect(rc.violations).toEqual([]);
  });
});
