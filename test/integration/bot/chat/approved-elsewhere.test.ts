import { afterEach, describe, expect, it } from 'vitest';
import { ApprovedRunPoller } from '../../../../core/engine/approved-poller.js';
import { startChat, type ChatService } from '../../../../bot/chat/start.js';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { execute } from '../../../../core/commands/dispatch.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { runSchedule } from '../../../../scheduler/scheduler.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { CHAT_CONFIG_YAML, movableDeps, specsWithTeardown, until } from './builders.js';

// Runs approved or requested outside chat, end to end against the contract-checked fake Rocket.Chat:
// "approve N" from the CLI (another process) is started by the bot's poller once, with progress in chat; a
// scheduled destructive command gets its approval prompt in chat, or by email while chat is away.

let rc: FakeRocketChat | undefined;
let chat: ChatWiring | undefined;
let svc: ChatService | undefined;
afterEach(async () => {
  chat?.adapter.stop();
  await svc?.stop();
  await rc?.close();
  if (rc) expect(rc.violations).toEqual([]);
  rc = undefined;
  chat = undefined;
  svc = undefined;
});

const cli = (actor: string) => ({ actor, source: 'cli' }) as const;
const nightly = { name: 'nightly', command: 'teardown --env prod --reason "night"' };
const withScheduler = (yaml: string) => yaml.replace('admin: [alice, erin]', 'admin: [alice, erin, "scheduler:nightly"]');

async function startBot(env: ReturnType<typeof movableDeps>, specs: readonly CommandSpec[]) {
  rc = new FakeRocketChat();
  await rc.start();
  for (const u of ['alice', 'erin', 'bob']) rc.addUser(u);
  const roomId = rc.addRoom('ops')._id;
  const bot = rc.addUser('aks-bot', { roles: ['bot'] });
  chat = wireChat({ ...env.deps, registry: specs }, { url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 20, backoff: { initialMs: 20, maxMs: 200 } });
  await chat.adapter.start();
  await chat.ddp.ready();
  const botMessages = () => rc!.inRoom(roomId).filter((m) => m.u.username === 'aks-bot');
  return { roomId, botMessages, chat };
}

describe('runs approved outside chat', () => {
  it('"approve N" from the CLI: the poller starts the run once and reports progress in chat', async () => {
    const env = movableDeps();
    const calls: string[] = [];
    const specs = specsWithTeardown(calls);
    const { botMessages, chat: w } = await startBot(env, specs);
    const asked = await execute('teardown --env prod --reason "credit ends"', cli('alice'), { ...env.deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    expect(await execute(`approve ${runId}`, cli('erin'), { ...env.deps, registry: specs })).toMatchObject({ ok: true, text: expect.stringContaining('queued to start') });
    expect(calls).toEqual([]); // the CLI only records the decision

    const poller = new ApprovedRunPoller({ deps: env.deps, launcher: w.launcher, intervalMs: 20, graceMs: 0 });
    poller.start();
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'succeeded');
    await until(() => botMessages().some((m) => m.msg.startsWith(`Run ${runId}: teardown on prod — succeeded`)));
    // a few more passes find nothing left to start
    await new Promise((r) => setTimeout(r, 100));
    await poller.stop();
    await w.launcher.idle();

    expect(calls).toEqual(['teardown prod by alice (credit ends)']);
    const progress = botMessages().filter((m) => m.msg.startsWith(`Run ${runId}:`));
    expect(progress).toHaveLength(1); // one message, edited in place
    expect(progress[0]!.msg).toContain('✓ destroy cluster layer');
    expect(progress[0]!.msg).toContain('[██████████] 2/2');
    const audit = (await env.deps.store.listAudit({ limit: 20 })).find((a) => a.detail?.startsWith('approved'));
    expect(audit).toMatchObject({ actor: 'erin', source: 'cli', command: `approve run ${runId}` });
  });

  it('without Rocket.Chat configured, startChat\'s launcher still runs a CLI-approved run once and mails the report', async () => {
    const yaml = `${CHAT_CONFIG_YAML}
email:
  smtp: { host: 127.0.0.1, port: 9 }
  from: aks-bot@example.test
  to: [ops@example.test]
`;
    const deps = testDeps({ config: testConfig(yaml) });
    const calls: string[] = [];
    const specs = specsWithTeardown(calls);
    svc = await startChat({ ...deps, registry: specs }, { mailMs: 3_600_000 });
    const asked = await execute('teardown --env prod', cli('alice'), { ...deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await execute(`approve ${runId}`, cli('erin'), { ...deps, registry: specs });
    const poller = new ApprovedRunPoller({ deps, launcher: svc.launcher, intervalMs: 1_000, graceMs: 0 });
    expect(await poller.poll()).toBe(1);
    await svc.launcher.idle();
    expect(await poller.poll()).toBe(0);
    expect(await deps.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    expect(calls).toEqual(['teardown prod by alice']);
    const mails = await deps.store.claimDueNotifications(new Date(Date.now() + 60_000), 10);
    expect(mails.map((m) => m.recipient)).toContain('ops@example.test');
    expect(mails.some((m) => m.subject?.startsWith(`Run ${runId}`))).toBe(true);
  });

  it('a scheduled destructive command posts its prompt in chat; a ✅ there starts it', async () => {
    const env = movableDeps();
    const deps = { ...env.deps, config: testConfig(withScheduler(CHAT_CONFIG_YAML)) };
    const calls: string[] = [];
    const specs = specsWithTeardown(calls);
    const { botMessages, chat: w } = await startBot({ ...env, deps }, specs);
    await runSchedule(nightly, { ...deps, registry: specs }, { onReply: (reply) => w.adapter.announceApproval((reply.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId) });
    await until(() => botMessages().some((m) => m.msg.startsWith(':warning: Approval needed for run')));
    const prompt = botMessages().find((m) => m.msg.startsWith(':warning: Approval needed'))!;
    expect(prompt.msg).toContain('Requested by @scheduler:nightly');
    expect(prompt.msg).toContain('1. back up prod');
    await until(() => Object.keys(rc!.messages.get(prompt._id)!.reactions ?? {}).length === 2);

    rc!.react('erin', prompt._id, 'white_check_mark');
    await until(() => calls.length === 1);
    await w.adapter.idle();
    await w.launcher.idle();
    expect(calls).toEqual(['teardown prod by scheduler:nightly (night)']);
  });

  it.each([
    { name: 'Rocket.Chat unreachable', rocketchat: 'rocketchat: { url: "http://127.0.0.1:9", userId: someone, token: { env: RC_TOKEN }, rooms: [ops] }' },
    { name: 'no Rocket.Chat configured', rocketchat: '' },
  ])('a scheduled prompt goes by email with signed links when there is no chat ($name)', async ({ rocketchat }) => {
    const yaml = `${withScheduler(CHAT_CONFIG_YAML).replace('bot: { defaultEnvironment: prod, cliUser: cli-admin }', 'bot: { defaultEnvironment: prod, cliUser: cli-admin, publicUrl: "https://bot.example.test" }')}
email:
  smtp: { host: 127.0.0.1, port: 9 }
  from: aks-bot@example.test
  to: [ops@example.test]
  approvers: { erin: erin@example.test, bob: bob@example.test }
  linkSecret: { env: LINK_SECRET }
${rocketchat}
`;
    const deps = testDeps({ config: testConfig(yaml) });
    svc = await startChat(deps, { env: { RC_TOKEN: 'tok-1234', LINK_SECRET: 'link-secret-0123456789abcdef' }, mailMs: 3_600_000 });
    const reply = await runSchedule(nightly, { ...deps, registry: specsWithTeardown([]) }, { onReply: (r) => svc!.announce(r) });
    const runId = (reply.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    const mails = await deps.store.claimDueNotifications(new Date(Date.now() + 60_000), 10);
    // erin is an admin and may approve; bob (operator) may not
    expect(mails.map((m) => m.recipient)).toEqual(['erin@example.test']);
    expect(mails[0]!.subject).toBe(`Approval needed: run ${runId} teardown on prod`);
    expect(mails[0]!.body).toContain('https://bot.example.test/approvals/email?token=');
    expect(mails[0]!.body).toContain('Requested by @scheduler:nightly');
  });
});
