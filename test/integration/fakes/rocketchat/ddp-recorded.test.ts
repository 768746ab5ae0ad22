import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { messageSchema } from '../../../../bot/rocketchat/schema.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';

/**
 * The fake's realtime (DDP) frames against recorded examples of what Rocket.Chat sends (test/fixtures/rocketchat-ddp,
 * shaped as Rocket.Chat's realtime API documents them): connect/connected, the login result (and its refusal),
 * sub/ready and the stream-room-messages changed events the bot reads — a new message, a thread reply, an edit and a
 * reaction. Every field of the example must be in the fake's frame with the same JSON type (and the same value for
 * the protocol's constants); the fake may add fields, as newer servers do. The bot's parser must read the examples
 * themselves, not only the fake's frames.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'rocketchat-ddp');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, Json>;

/** Fields whose value is part of the protocol, not data, by their path in the frame. */
const CONSTANTS = new Set(['/msg', '/collection', '/server_id', '/result/type', '/error/error', '/error/errorType', '/error/isClientSafe', '/fields/eventName']);

/** Where `actual` lacks a field of `example` or has it with another type (or another constant). */
function shapeErrors(example: Json, actual: unknown, path = ''): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(example) !== kind(actual)) return [`${path || '/'}: ${kind(actual)} where Rocket.Chat sends ${kind(example)}`];
  if (Array.isArray(example)) {
    const items = actual as unknown[];
    if (example.length > 0 && items.length === 0) return [`${path}: empty where Rocket.Chat sends items`];
    return example.length === 0 ? [] : items.flatMap((item, i) => shapeErrors(example[0]!, item, `${path}/${i}`));
  }
  if (example !== null && typeof example === 'object') {
    const obj = actual as Record<string, unknown>;
    return Object.entries(example).flatMap(([k, v]) =>
      k in obj ? (CONSTANTS.has(`${path}/${k}`) && (v === null || typeof v !== 'object') && obj[k] !== v ? [`${path}/${k}: ${JSON.stringify(obj[k])} where Rocket.Chat sends ${JSON.stringify(v)}`] : shapeErrors(v, obj[k], `${path}/${k}`)) : [`${path}/${k}: missing`],
    );
  }
  return [];
}

let rc: FakeRocketChat;
let ws: WebSocket;
let roomId: string;
const frames: Record<string, unknown>[] = [];

async function next(): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const f = frames.shift();
  if (!f) throw new Error('no frame from the fake');
  return f;
}
const send = (f: unknown) => ws.send(JSON.stringify(f));

beforeAll(async () => {
  rc = new FakeRocketChat();
  await rc.start();
  rc.addUser('alice');
  rc.addUser('erin');
  roomId = rc.addRoom('ops')._id;
  ws = new WebSocket(`${rc.url.replace('http', 'ws')}/websocket`);
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
});
afterEach(() => expect(rc.violations).toEqual([]));
afterAll(async () => {
  ws.close();
  await rc.close();
});

describe('the fake Rocket.Chat realtime frames match recorded Rocket.Chat frames', () => {
  it('the shape check itself finds a missing field, a wrong type and a wrong constant', () => {
    const example: Json = { msg: 'ready', subs: ['1'], result: { tokenExpires: { $date: 1 } } };
    expect(shapeErrors(example, { msg: 'ready', subs: ['a'], result: { tokenExpires: { $date: 2 } }, extra: true })).toEqual([]);
    expect(shapeErrors(example, { msg: 'nosub', subs: [1], result: {} })).toEqual(['/msg: "nosub" where Rocket.Chat sends "ready"', '/subs/0: number where Rocket.Chat sends string', '/result/tokenExpires: missing']);
  });

  it('connect → server_id, connected', async () => {
    const f = fixture('connect');
    send(f.sent!);
    const got = [await next(), await next()];
    expect((f.received as Json[]).flatMap((e, i) => shapeErrors(e, got[i]))).toEqual([]);
  });

  it('login with a bad resume token → the Meteor.Error 403 result, updated', async () => {
    const f = fixture('login-resume');
    send({ ...(f.sent as object), params: [{ resume: 'not-a-token' }] });
    const got = [await next(), await next()];
    expect((f.refused as Json[]).flatMap((e, i) => shapeErrors(e, got[i]))).toEqual([]);
  });

  it('login with a resume token → result {id, token, tokenExpires {$date}, type: resume}, updated', async () => {
    const f = fixture('login-resume');
    const { token } = rc.addUser('aks-bot', { roles: ['bot'] });
    send({ ...(f.sent as object), id: '2', params: [{ resume: token }] });
    const got = [await next(), await next()];
    expect((f.received as Json[]).flatMap((e, i) => shapeErrors(e, got[i]))).toEqual([]);
  });

  it('sub stream-room-messages → ready', async () => {
    const f = fixture('sub-ready');
    send(f.sent!);
    expect(shapeErrors((f.received as Json[])[0]!, await next())).toEqual([]);
  });

  it('a new message, a thread reply, an edit and a reaction arrive as the recorded changed events', async () => {
    const f = fixture('room-message-changed');
    const m = rc.say('alice', roomId, 'aks runs');
    expect(shapeErrors(f.new!, await next())).toEqual([]);
    rc.say('alice', roomId, 'in the thread', { tmid: m._id });
    expect(shapeErrors(f.threadReply!, await next())).toEqual([]);
    const alice = rc.userNamed('alice');
    const res = await fetch(`${rc.url}/api/v1/chat.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': alice._id, 'x-auth-token': [...alice.tokens][0]! },
      body: JSON.stringify({ roomId, msgId: m._id, text: 'aks runs --env prod' }),
    });
    expect(res.status).toBe(200);
    expect(shapeErrors(f.edited!, await next())).toEqual([]);
    const other = rc.say('alice', roomId, 'approve me');
    await next();
    rc.react('erin', other._id, 'white_check_mark');
    const reacted = await next();
    expect(shapeErrors(f.reacted!, reacted)).toEqual([]);
    // a reaction re-emits the whole message, never as an edit
    expect(((reacted.fields as { args: Record<string, unknown>[] }).args[0]!)).not.toHaveProperty('editedAt');
  });

  it("the bot's message parser reads every recorded message", () => {
    const f = fixture('room-message-changed');
    for (const key of ['new', 'threadReply', 'edited', 'reacted']) {
      const raw = ((f[key] as { fields: { args: unknown[] } }).fields.args[0]);
      expect(messageSchema.safeParse(raw).success, key).toBe(true);
    }
  });
});
