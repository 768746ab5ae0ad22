import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { ddpMessage } from '../../../fakes/rocketchat/state.js';
import { movableDeps, specsWithTeardown, until } from '../chat/builders.js';

// Bot-only mode end to end: the bot's REST + DDP clients against the contract-checked fake Rocket.Chat,
// commands as messages, approvals by reaction, progress edited in place.

let rc: FakeRocketChat;
let roomId: string;
let chat: ChatWiring;
let env: ReturnType<typeof movableDeps>;
let calls: string[];

async function startBot(opts: { graceMs?: number } = {}): Promise<void> {
  const bot = rc.addUser('aks-bot', { roles: ['bot'] });
  chat = wireChat({ ...env.deps, registry: specsWithTeardown(calls) }, {
    url: rc.url,
    userId: bot.user._id,
    token: bot.token,
    rooms: ['ops'],
    prefix: 'aks',
    graceMs: opts.graceMs ?? 0,
    progressIntervalMs: 20,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  await chat.adapter.start();
  await chat.ddp.ready();
}

const botMessages = () => rc.inRoom(roomId).filter((m) => m.u.username === 'aks-bot');
const settle = async () => {
  await chat.adapter.idle();
  await chat.launcher.idle();
};

beforeEach(async () => {
  rc = new FakeRocketChat();
  await rc.start();
  for (const u of ['alice', 'erin', 'bob', 'mallory']) rc.addUser(u);
  roomId = rc.addRoom('ops')._id;
  rc.addRoom('random');
  env = movableDeps();
  calls = [];
});
afterEach(async () => {
  chat.adapter.stop();
  await rc.close();
  expect(rc.violations).toEqual([]);
});

async function promptFor(text: string, by = 'alice') {
  rc.say(by, roomId, text);
  await until(() => botMessages().some((m) => m.msg.includes('Approval needed')));
  await until(() => Object.keys(botMessages().find((m) => m.msg.includes('Approval needed'))!.reactions ?? {}).length === 2);
  await settle();
  const prompt = botMessages().find((m) => m.msg.includes('Approval needed'))!;
  const runId = Number(/run (\d+)/.exec(prompt.msg)![1]);
  return { prompt, runId };
}

describe('bot-only mode against the fake Rocket.Chat', () => {
  it('answers a command message in its thread, and ignores other rooms and chatter', async () => {
    await startBot();
    const cmd = rc.say('bob', roomId, 'aks runs');
    rc.say('bob', roomId, 'just talking about aks');
    rc.say('bob', [...rc.rooms.values()].find((r) => r.name === 'random')!._id, 'aks runs');
    await until(() => botMessages().length === 1);
    await settle();
    const [reply] = botMessages();
    expect(reply!.tmid).toBe(cmd._id);
    expect(reply!.msg).toMatch(/No runs|#/);
    expect(botMessages()).toHaveLength(1);
  });

  it('answers commands in a direct message with the bot too', async () => {
    await startBot();
    const dm = rc.addRoom('aks-bot-bob', 'd');
    const cmd = rc.say('bob', dm._id, 'aks runs');
    const inDm = () => rc.inRoom(dm._id).filter((m) => m.u.username === 'aks-bot');
    await until(() => inDm().length > 0);
    await settle();
    // one answer, in the DM's thread of the command, with what "runs" answers; nothing in the ops room
    expect(inDm()).toHaveLength(1);
    expect(inDm()[0]!.tmid).toBe(cmd._id);
    expect(inDm()[0]!.msg).toMatch(/No runs|#/);
    expect(botMessages()).toEqual([]);
    expect((await env.deps.store.listAudit({ limit: 10 })).filter((a) => a.command === 'runs').map((a) => [a.actor, a.source, a.result])).toEqual([['bob', 'chat', 'ok']]);
  });

  it('answers an unknown command and a forbidden one with help, never a stack trace', async () => {
    await startBot();
    rc.say('bob', roomId, 'aks frobnicate');
    rc.say('mallory', roomId, 'aks runs');
    await until(() => botMessages().length === 2);
    const texts = botMessages().map((m) => m.msg);
    expect(texts.find((t) => t.includes('AKS_UNKNOWN_COMMAND'))).toContain('Commands:');
    expect(texts.find((t) => t.includes('AKS_FORBIDDEN'))).toContain('mallory may not run "runs"');
    expect(texts.join('\n')).not.toMatch(/at .*\.ts:\d+/);
  });

  it('runs a message delivered twice only once', async () => {
    await startBot();
    const m = rc.say('bob', roomId, 'aks runs');
    await until(() => botMessages().length === 1);
    rc.ddp.emitRoomMessage(roomId, ddpMessage(m));
    rc.ddp.dropAll();
    await until(() => chat.ddp.sessions === 2);
    rc.ddp.emitRoomMessage(roomId, ddpMessage(m));
    await new Promise((r) => setTimeout(r, 100));
    await settle();
    expect(botMessages()).toHaveLength(1);
    expect((await env.deps.store.listAudit({ limit: 10 })).filter((a) => a.command === 'runs')).toHaveLength(1);
  });

  it('approval by reaction: others and the requester are ignored, an authorised approver starts the run, progress is edited in place', async () => {
    await startBot();
    const { prompt, runId } = await promptFor('aks teardown --env prod --reason "credit ends"');
    expect(prompt.msg).toContain('1. back up prod\n2. destroy the cluster layer');
    expect(prompt.msg).toContain('Requested by @alice');
    expect((await env.deps.store.getRun(runId))?.status).toBe('awaiting-approval');

    rc.react('mallory', prompt._id, 'white_check_mark'); // no role
    rc.react('bob', prompt._id, 'white_check_mark'); // operator, teardown needs admin
    rc.react('alice', prompt._id, 'white_check_mark'); // requester: two-person rule
    rc.react('erin', prompt._id, 'tada'); // not a decision
    await new Promise((r) => setTimeout(r, 100));
    await settle();
    expect((await env.deps.store.getRun(runId))?.status).toBe('awaiting-approval');
    expect(calls).toEqual([]);
    const refusals = (await env.deps.store.listAudit({ limit: 20 })).filter((a) => a.result === 'denied').map((a) => `${a.actor}:${a.detail}`);
    expect(refusals.sort()).toEqual(['alice:AKS_APPROVAL_SELF', 'bob:AKS_APPROVER_FORBIDDEN', 'mallory:AKS_APPROVER_FORBIDDEN']);

    rc.react('erin', prompt._id, 'white_check_mark');
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'succeeded');
    await settle();
    expect(calls).toEqual(['teardown prod by alice (credit ends)']);
    expect(rc.messages.get(prompt._id)!.msg).toContain('Approved by @erin');
    const progress = botMessages().filter((m) => m.msg.startsWith(`Run ${runId}:`));
    expect(progress).toHaveLength(1);
    expect(progress[0]!.editedAt).toBeDefined();
    expect(progress[0]!.msg).toMatch(/succeeded/);
    expect(progress[0]!.msg).toContain('✓ back up');
    expect(progress[0]!.msg).toContain('✓ destroy cluster layer');
    expect(progress[0]!.msg).toContain('[██████████] 2/2');
    const decided = (await env.deps.store.listAudit({ limit: 20 })).find((a) => a.detail?.startsWith('approved'));
    expect(decided).toMatchObject({ actor: 'erin', source: 'chat', command: `approve run ${runId}` });
  });

  it('❌ denies: the run never starts', async () => {
    await startBot();
    const { prompt, runId } = await promptFor('aks teardown --env prod');
    rc.react('erin', prompt._id, 'x');
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'denied');
    await settle();
    expect(calls).toEqual([]);
    expect((await env.deps.store.listApprovals({ runId }))[0]).toMatchObject({ status: 'denied', decidedBy: 'erin' });
  });

  it('"approve N" as a command message works like the reaction', async () => {
    await startBot();
    const { runId } = await promptFor('aks teardown --env prod');
    rc.say('erin', roomId, `aks approve ${runId}`);
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'succeeded');
    await settle();
    expect(calls).toHaveLength(1);
  });

  it('expiry denies: a late ✅ changes nothing', async () => {
    await startBot();
    const { prompt, runId } = await promptFor('aks teardown --env prod');
    env.advance(31 * 60_000);
    await chat.adapter.sweep();
    expect((await env.deps.store.getRun(runId))?.status).toBe('denied');
    expect(botMessages().some((m) => m.tmid === prompt._id && m.msg.includes('expired'))).toBe(true);
    rc.react('erin', prompt._id, 'white_check_mark');
    await new Promise((r) => setTimeout(r, 100));
    await settle();
    expect(calls).toEqual([]);
    expect((await env.deps.store.listAudit({ limit: 5 })).some((a) => a.actor === 'erin' && a.detail === 'AKS_APPROVAL_EXPIRED')).toBe(true);
  });

  it('taking the ✅ back before the run starts cancels it', async () => {
    await startBot({ graceMs: 60_000 });
    const { prompt, runId } = await promptFor('aks teardown --env prod');
    rc.react('erin', prompt._id, 'white_check_mark');
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'queued');
    rc.react('erin', prompt._id, 'white_check_mark', false);
    await until(async () => (await env.deps.store.getRun(runId))?.status === 'cancelled');
    await settle();
    expect(calls).toEqual([]);
    expect(botMessages().some((m) => m.msg.includes('took back the approval'))).toBe(true);
  });
});

describe('secrets', () => {
  it('never reach chat, even in a successful answer that echoes them', async () => {
    env = movableDeps();
    env.deps.redactor.add('s3cr3t-value-xyz');
    await startBot();
    const { runId } = await promptFor('aks teardown --env prod');
    rc.say('erin', roomId, `aks deny ${runId} --reason "s3cr3t-value-xyz leaked"`);
    await until(() => botMessages().some((m) => m.msg.includes(`Run ${runId} (teardown on prod) denied`)));
    const answer = botMessages().find((m) => m.msg.includes('denied by @erin'))!;
    expect(answer.msg).toContain('[REDACTED] leaked');
    expect(rc.inRoom(roomId).filter((m) => m.u.username === 'aks-bot').map((m) => m.msg).join('\n')).not.toContain('s3cr3t-value-xyz');
  });
});
