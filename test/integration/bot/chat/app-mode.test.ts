import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planButton, planCommand, type AppSettings } from '../../../../bot/rocketchat-app/src/logic.js';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { buildApp } from '../../../../bot/server/app.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { CHAT_CONFIG_YAML, specsWithTeardown, until } from './builders.js';

// App mode end to end: what the App sends (signed by its own code) → the bot's routes → the prompt with
// Approve/Deny buttons in the fake Rocket.Chat (chat.sendMessage with blocks, contract-checked) → a button click
// relayed by the App → the run starts and reports progress in chat.

const APP_ID = '8502982e-c118-465e-9172-1a057ca9eec2';
const settings: AppSettings = { botUrl: 'http://bot.test', secret: 'app-secret-for-tests', allowedRoles: '', opsRoom: 'ops' };

describe('App mode', () => {
  let rc: FakeRocketChat;
  let chat: ChatWiring;
  beforeAll(async () => {
    rc = new FakeRocketChat();
    await rc.start();
  });
  afterAll(async () => {
    chat?.adapter.stop();
    await rc.close();
  });

  it('slash command → prompt with buttons → button approval → run with progress in chat', async () => {
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    const room = rc.addRoom('ops');
    const yaml = `${CHAT_CONFIG_YAML}
rocketchat: { url: "${rc.url}", userId: ${bot.user._id}, token: { env: RC_TOKEN }, rooms: [ops], mode: app, appId: ${APP_ID} }
`;
    const deps = { ...testDeps({ config: testConfig(yaml) }), now: () => new Date() };
    const calls: string[] = [];
    const specs = specsWithTeardown(calls);
    chat = wireChat({ ...deps, registry: specs }, { url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 20 });
    await chat.adapter.resolveRooms();
    const app = buildApp({ deps: { ...deps, registry: specs }, rocketchat: { secret: settings.secret, delivery: chat.delivery, launcher: chat.launcher } });
    const send = (req: { url: string; headers: Record<string, string>; content: string }) => app.inject({ method: 'POST', url: new URL(req.url).pathname, headers: req.headers, payload: req.content });

    const plan = planCommand(settings, { args: ['teardown', '--env', 'prod'], username: 'alice', roles: ['admin'], roomId: room._id }, new Date());
    if (plan.kind !== 'forward') throw new Error('expected a forwarded command');
    const ack = await send(plan.request);
    expect(ack.json()).toMatchObject({ ok: true, runId: 1, text: expect.stringContaining('Queued as run 1') });

    await until(() => rc.inRoom(room._id).some((m) => m.msg.includes('Approval needed for run 1')));
    const prompt = rc.inRoom(room._id).find((m) => m.msg.includes('Approval needed for run 1'))!;
    expect(prompt.blocks).toEqual([
      expect.objectContaining({ type: 'actions', appId: APP_ID, elements: [expect.objectContaining({ actionId: 'aks-approve', value: '1' }), expect.objectContaining({ actionId: 'aks-deny', value: '1' })] }),
    ]);

    const click = (username: string) => send(planButton(settings, { actionId: 'aks-approve', value: '1', username }, new Date())!);
    expect((await click('alice')).json()).toMatchObject({ ok: false, code: 'AKS_APPROVAL_SELF' });
    const erinClick = planButton(settings, { actionId: 'aks-approve', value: '1', username: 'erin' }, new Date())!;
    expect((await send(erinClick)).json()).toMatchObject({ ok: true, status: 'queued' });
    // the same signed click again (a replay): refused as unauthenticated, not answered as a decision
    const replayed = await send(erinClick);
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json()).toMatchObject({ ok: false, code: 'AKS_SIGNATURE_INVALID' });
    await until(async () => (await deps.store.getRun(1))?.status === 'succeeded');
    await chat.launcher.idle();
    expect(calls).toEqual(['teardown prod by alice']);
    expect(rc.inRoom(room._id).some((m) => m.msg.startsWith('Run 1:') && m.msg.includes('succeeded'))).toBe(true);
    expect(rc.violations).toEqual([]);
  });
});
