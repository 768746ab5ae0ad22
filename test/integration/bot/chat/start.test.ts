import { afterEach, describe, expect, it } from 'vitest';
import { startChat, type ChatService } from '../../../../bot/chat/start.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { CHAT_CONFIG_YAML, until } from './builders.js';

// startChat from the configuration, as bot/main.ts would call it: token resolved from the environment, bot mode
// connected, commands answered; Rocket.Chat down at start is retried, not fatal.

let rc: FakeRocketChat | undefined;
let svc: ChatService | undefined;
afterEach(async () => {
  await svc?.stop();
  await rc?.close();
  svc = undefined;
  rc = undefined;
});

const yaml = (url: string, userId: string) => `${CHAT_CONFIG_YAML}
rocketchat: { url: "${url}", userId: ${userId}, token: { env: RC_TOKEN }, rooms: [ops], approvalGraceSeconds: 0 }
`;

describe('startChat', () => {
  it('connects in bot mode from the configuration and answers a command', async () => {
    rc = new FakeRocketChat();
    await rc.start();
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    rc.addUser('bob');
    const room = rc.addRoom('ops');
    const deps = testDeps({ config: testConfig(yaml(rc.url, bot.user._id)) });
    svc = await startChat(deps, { env: { RC_TOKEN: bot.token } });
    await svc.wiring!.ddp.ready();
    rc.say('bob', room._id, 'aks help runs');
    await until(() => rc!.inRoom(room._id).some((m) => m.u.username === 'aks-bot' && m.msg.startsWith('runs — ')));
    expect(deps.logs.text).not.toContain(bot.token);
    expect(rc.violations).toEqual([]);
  });

  it('starts while Rocket.Chat is unreachable', async () => {
    const deps = testDeps({ config: testConfig(yaml('http://127.0.0.1:9', 'someone')) });
    svc = await startChat(deps, { env: { RC_TOKEN: 'tok-1234' } });
    expect(deps.logs.text).toContain('Rocket.Chat unreachable at start');
  });

  it('refuses to start without the token, with a coded error', async () => {
    const deps = testDeps({ config: testConfig(yaml('http://127.0.0.1:9', 'someone')) });
    await expect(startChat(deps, { env: {} })).rejects.toMatchObject({ code: 'AKS_SECRET_UNRESOLVED' });
  });
});
