import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DdpClient } from '../../../../bot/rocketchat/ddp.js';
import { RocketChatRest } from '../../../../bot/rocketchat/rest.js';
import type { ChatMessage } from '../../../../bot/rocketchat/schema.js';
import { messageSchema } from '../../../../bot/rocketchat/schema.js';
import { MessageTracker, type StreamEvent } from '../../../../bot/rocketchat/stream.js';
import { testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat, sharedContract } from '../../../fakes/rocketchat/server.js';

// The bot's REST and DDP clients against the contract-checked fake: every exchange is validated against the
// official OpenAPI files, and the suite fails on any violation.

let rc: FakeRocketChat;
let bot: { user: { _id: string; username: string }; token: string };
let roomId: string;
const log = testDeps().log;

beforeAll(async () => {
  rc = new FakeRocketChat();
  await rc.start();
  bot = rc.addUser('aks-bot', { roles: ['bot'] });
  rc.addUser('alice');
  roomId = rc.addRoom('ops')._id;
});
afterEach(() => {
  expect(rc.violations).toEqual([]);
});
afterAll(async () => {
  await rc.close();
});

const restFor = (token = bot.token, userId = bot.user._id) => new RocketChatRest({ url: rc.url, userId, token, timeoutMs: 2_000 });

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('REST client against the fake', () => {
  it('posts, replies in a thread, edits in place, reacts and reads reactions back', async () => {
    const rest = restFor();
    expect(await rest.me()).toMatchObject({ username: 'aks-bot' });
    expect((await rest.roomByName('ops'))._id).toBe(roomId);
    const posted = await rest.postMessage(roomId, 'run 1 started');
    const reply = await rest.postMessage(roomId, 'in thread', { tmid: posted._id });
    expect(reply.tmid).toBe(posted._id);
    await rest.updateMessage(roomId, posted._id, 'run 1 done');
    await rest.react(posted._id, ':white_check_mark:');
    rc.react('alice', posted._id, 'white_check_mark');
    const read = await rest.getMessage(posted._id);
    expect(read.msg).toBe('run 1 done');
    expect(read.reactions?.[':white_check_mark:']?.usernames.sort()).toEqual(['aks-bot', 'alice']);
    expect(rc.requests.map((r) => r.path)).toContain('/api/v1/chat.update');
  });

  it.each([
    ['a wrong token', () => restFor('nope').me(), 'AKS_CHAT_API'],
    ['an unknown room', () => restFor().postMessage('nowhere', 'x'), 'AKS_CHAT_API'],
    ['an unknown message', () => restFor().getMessage('missing'), 'AKS_CHAT_API'],
  ])('maps %s to a coded error', async (_name, call, code) => {
    await expect(call()).rejects.toMatchObject({ code });
  });

  it('reports a server that does not answer as unreachable (the email fallback trigger)', async () => {
    const rest = new RocketChatRest({ url: 'http://127.0.0.1:9', userId: 'u', token: 't', timeoutMs: 1_000 });
    await expect(rest.me()).rejects.toMatchObject({ code: 'AKS_CHAT_UNREACHABLE' });
  });

  it('is rate limited like the real server unless the user has the bot role, and waits out a short Retry-After', async () => {
    const limited = new FakeRocketChat(undefined, { calls: 2, windowMs: 1_000 });
    await limited.start();
    try {
      const u = limited.addUser('human');
      const waits: number[] = [];
      const rest = new RocketChatRest({ url: limited.url, userId: u.user._id, token: u.token, sleep: async (ms) => void waits.push(ms), maxRetryWaitMs: 0 });
      await rest.me();
      await rest.me();
      await expect(rest.me()).rejects.toMatchObject({ code: 'AKS_CHAT_API', details: { status: 429 } });
      const b = limited.addUser('bot2', { roles: ['bot'] });
      const botRest = new RocketChatRest({ url: limited.url, userId: b.user._id, token: b.token });
      for (let i = 0; i < 5; i++) await botRest.me();
      expect(limited.violations).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('catches a request that breaks the contract', async () => {
    const res = await fetch(`${rc.url}/api/v1/chat.update`, {
      method: 'POST',
      headers: { 'X-User-Id': bot.user._id, 'X-Auth-Token': bot.token, 'content-type': 'application/json' },
      body: JSON.stringify({ roomId, text: 'no msgId' }),
    });
    expect(res.status).toBe(400);
    expect(rc.violations.splice(0)).toEqual([expect.stringContaining("must have required property 'msgId'")]);
  });

  // The responses the fake sends are checked as strictly as the requests: a field every documented answer has
  // (here the posted message, the logged-in user's data) may not be left out, and a wrong type is caught.
  it.each([
    ['POST', '/api/v1/chat.postMessage', { success: true }, "/ must have required property 'message'"],
    ['POST', '/api/v1/chat.update', { message: {}, success: 'yes' }, '/success must be boolean'],
    ['GET', '/api/v1/rooms.info', { success: true }, "/ must have required property 'room'"],
    ['POST', '/api/v1/login', { status: 'success' }, "/ must have required property 'data'"],
    ['GET', '/api/v1/me', { _id: 'x', username: 'x', success: true }, "/ must have required property 'emails'"],
  ])('catches a %s %s response that breaks the contract', (method, path, body, problem) => {
    expect(sharedContract().checkResponse(method, path, 200, body)).toEqual(expect.arrayContaining([`${method} ${path} 200 response: ${problem}`]));
  });
});

describe('DDP client against the fake', () => {
  it('logs in with the token, receives room messages, re-emits on reactions, and resubscribes after a drop', async () => {
    const seen: ChatMessage[] = [];
    const ddp = new DdpClient({ url: rc.url, token: bot.token, log, backoff: { initialMs: 20, maxMs: 100 }, random: () => 0.5 });
    ddp.subscribe('stream-room-messages', ['__my_messages__', false], (args) => {
      for (const a of args) seen.push(messageSchema.parse(a));
    });
    ddp.start();
    try {
      await ddp.ready();
      const m = rc.say('alice', roomId, 'aks help');
      await until(() => seen.some((s) => s._id === m._id));
      rc.react('alice', m._id, 'x');
      await until(() => seen.filter((s) => s._id === m._id).length === 2);
      const again = seen.filter((s) => s._id === m._id)[1]!;
      expect(again.editedAt).toBeUndefined();
      expect(again.reactions).toEqual({ ':x:': { usernames: ['alice'] } });

      rc.ddp.dropAll();
      await until(() => ddp.sessions === 2);
      await until(() => rc.ddp.subscriptionCount === 1);
      const after = rc.say('alice', roomId, 'after the drop');
      await until(() => seen.some((s) => s._id === after._id));
      expect(rc.ddp.received.filter((f) => f.msg === 'method').every((f) => f.method === 'login')).toBe(true);
    } finally {
      ddp.stop();
    }
  });

  it('backs off exponentially with jitter, capped', () => {
    const b = { initialMs: 1_000, maxMs: 30_000 };
    expect([0, 1, 2, 3, 10].map((n) => DdpClient.backoffDelay(n, b, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 30_000]);
    expect(DdpClient.backoffDelay(0, b, () => 0)).toBe(800);
    expect(DdpClient.backoffDelay(0, b, () => 1)).toBe(1_200);
  });

  it('turns re-emitted messages into one message event and reaction diffs', async () => {
    const events: StreamEvent[] = [];
    const tracker = new MessageTracker();
    const ddp = new DdpClient({ url: rc.url, token: bot.token, log });
    ddp.subscribe('stream-room-messages', ['__my_messages__', false], (args) => {
      for (const a of args) events.push(...tracker.observe(messageSchema.parse(a)));
    });
    ddp.start();
    try {
      await ddp.ready();
      const m = rc.say('alice', roomId, 'approve me');
      rc.react('alice', m._id, 'white_check_mark');
      rc.react('alice', m._id, 'white_check_mark', false);
      await until(() => events.length >= 3);
      expect(events.map((e) => (e.kind === 'message' ? 'message' : `${e.added ? '+' : '-'}${e.emoji}@${e.username}`))).toEqual([
        'message',
        '+:white_check_mark:@alice',
        '-:white_check_mark:@alice',
      ]);
    } finally {
      ddp.stop();
    }
  });
});
