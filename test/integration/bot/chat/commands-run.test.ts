import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { buildApp } from '../../../../bot/server/app.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { CHAT_CONFIG_YAML, specsWithTeardown, until } from './builders.js';

// User → Rocket.Chat → bot → reply, end to end: a person runs /aks through commands.run (as Rocket.Chat's own
// tests drive app commands), the fake does what the installed App does (its own code: role check, signed POST to
// the bot's /rocketchat/command), the bot answers, and the answer is shown to the sender. The fake's new
// endpoints (commands.run, rooms.media, rooms.mediaConfirm) are checked against the OpenAPI files, multipart too.

const SECRET = 'app-secret-for-commands-run';

describe('commands.run through the fake Rocket.Chat', () => {
  const rc = new FakeRocketChat();
  let chat: ChatWiring | undefined;
  let app: ReturnType<typeof buildApp> | undefined;
  beforeAll(() => rc.start());
  afterEach(() => {
    expect(rc.violations).toEqual([]);
  });
  afterAll(async () => {
    chat?.adapter.stop();
    await app?.close();
    await rc.close();
  });

  const call = (user: { user: { _id: string }; token: string }, path: string, init: { body: string | FormData; json?: boolean }) =>
    fetch(`${rc.url}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'X-User-Id': user.user._id, 'X-Auth-Token': user.token, ...(init.json === false ? {} : { 'content-type': 'application/json' }) },
      body: init.body,
    });

  it('runs /aks: the App forwards it signed to the bot, the sender sees the answer, a destructive command posts its prompt', async () => {
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    const alice = rc.addUser('alice', { roles: ['admin'] });
    const room = rc.addRoom('ops');
    const yaml = `${CHAT_CONFIG_YAML}
rocketchat: { url: "${rc.url}", userId: ${bot.user._id}, token: { env: RC_TOKEN }, rooms: [ops], mode: app, appId: 8502982e-c118-465e-9172-1a057ca9eec2 }
`;
    const deps = { ...testDeps({ config: testConfig(yaml) }), now: () => new Date() };
    const specs = specsWithTeardown([]);
    chat = wireChat({ ...deps, registry: specs }, { url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 20 });
    await chat.adapter.resolveRooms();
    app = buildApp({ deps: { ...deps, registry: specs }, rocketchat: { secret: SECRET, delivery: chat.delivery, launcher: chat.launcher } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    rc.installAksApp({ botUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, secret: SECRET });

    const res = await call(alice, 'commands.run', { body: JSON.stringify({ command: 'aks', roomId: room._id, params: 'help runs' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(rc.ephemeral).toEqual([{ username: 'alice', rid: room._id, text: expect.stringMatching(/^runs — /) }]);
    expect(await deps.store.listAudit({ limit: 5 })).toEqual([expect.objectContaining({ actor: 'alice', source: 'rocketchat-app', command: 'help --command="runs"' })]);

    await call(alice, 'commands.run', { body: JSON.stringify({ command: 'aks', roomId: room._id, params: 'teardown --env prod' }) });
    expect(rc.ephemeral.at(-1)?.text).toContain('Queued as run 1');
    await until(() => rc.inRoom(room._id).some((m) => m.msg.startsWith(':warning: Approval needed for run 1:')));
    expect(await deps.store.getApprovalPrompt(1)).toMatchObject({ via: 'chat', messageId: expect.any(String) });
  });

  it.each([
    ['an unknown command', { command: 'nope', roomId: 'x' }, 400],
    ['no roomId (the contract requires it)', { command: 'aks' }, 400],
  ])('refuses %s', async (_name, body, status) => {
    const user = rc.addUser(`u${Date.now()}${Math.random()}`);
    const room = rc.addRoom(`r${Date.now()}${Math.random()}`);
    const sent = 'roomId' in body ? { ...body, roomId: room._id } : body;
    const before = rc.violations.length;
    const res = await call(user, 'commands.run', { body: JSON.stringify(sent) });
    expect(res.status).toBe(status);
    expect((await res.json()) as object).toMatchObject({ success: false });
    // The request that breaks the contract is recorded as a violation (then cleared for afterEach).
    if (!('roomId' in body)) expect(rc.violations.splice(before)).toEqual([expect.stringContaining('request body: / must have required property \'roomId\'')]);
  });

  it('rooms.media takes multipart only, with its file; rooms.mediaConfirm once, by the uploader, in the same room', async () => {
    const user = rc.addUser('uploader');
    const other = rc.addUser('someone-else');
    const room = rc.addRoom('files');
    const form = () => {
      const f = new FormData();
      f.append('file', new Blob([Buffer.from('hello')], { type: 'text/plain' }), 'hello.txt');
      return f;
    };

    const json = await call(user, `rooms.media/${room._id}`, { body: JSON.stringify({ file: 'x' }) });
    expect(json.status).toBe(400);
    expect(rc.violations.splice(0)).toEqual([expect.stringContaining('request content type "application/json" is not documented')]);
    const noFile = new FormData();
    noFile.append('content', '{}');
    expect((await call(user, `rooms.media/${room._id}`, { body: noFile, json: false })).status).toBe(400);
    expect(rc.violations.splice(0)).toEqual([expect.stringContaining("must have required property 'file'")]);

    const up = (await (await call(user, `rooms.media/${room._id}`, { body: form(), json: false })).json()) as { file: { _id: string } };
    const confirm = (who: typeof user) => call(who, `rooms.mediaConfirm/${room._id}/${up.file._id}`, { body: JSON.stringify({ msg: 'see file' }) });
    expect((await confirm(other)).status).toBe(400);
    expect(rc.inRoom(room._id)).toHaveLength(0);
    const ok = await confirm(user);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { message: { msg: string } }).message.msg).toBe('see file');
    expect(((await (await confirm(user)).json()) as { errorType: string }).errorType).toBe('invalid-file');
    expect(rc.inRoom(room._id).map((m) => [m.msg, m.file?.name, m.file?.content.toString()])).toEqual([['see file', 'hello.txt', 'hello']]);
  });
});
