import { describe, expect, it } from 'vitest';
import {
  ACTION_APPROVE,
  answerText,
  handleButton,
  handleReaction,
  handleSlashCommand,
  planButton,
  planCommand,
  planReaction,
  rolesAllowed,
  sign,
  type AppSettings,
  type HttpPoster,
  type SettingsReader,
} from '../../../../bot/rocketchat-app/src/logic.js';
import { signRequest } from '../../../../bot/server/signing.js';
import { buildApp } from '../../../../bot/server/app.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { CHAT_CONFIG_YAML, specsWithTeardown } from '../../../integration/bot/chat/builders.js';

// The App's decisions (pure functions) and its thin handlers, with small typed fakes of the accessors; and the
// proof that what the App signs, the bot accepts.

const settings: AppSettings = { botUrl: 'http://bot.test/', secret: 'shared-secret-1234', allowedRoles: 'admin, aks-operator', opsRoom: 'ops' };
const now = new Date('2026-11-26T12:00:00Z');

function fakeSettings(values: Record<string, string>): SettingsReader {
  return { getValueById: async (id) => values[id] };
}
const configured = fakeSettings({ aks_bot_url: settings.botUrl, aks_shared_secret: settings.secret, aks_allowed_roles: settings.allowedRoles, aks_ops_room: 'ops' });

function fakeHttp(answer: { statusCode: number; content?: string } | Error) {
  const posts: { url: string; headers: Record<string, string>; content: string; timeout?: number }[] = [];
  const http: HttpPoster = {
    post: async (url, o) => {
      posts.push({ url, ...o });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { http, posts };
}

const log = { error: () => undefined };

describe('App pure functions', () => {
  it.each([
    [['admin'], 'admin,aks-operator', true],
    [['user', 'aks-operator'], 'admin, aks-operator', true],
    [['user'], 'admin', false],
    [['user'], '', true],
  ])('roles %j against %j → %s', (roles, allowed, ok) => {
    expect(rolesAllowed(roles, allowed)).toBe(ok);
  });

  it('refuses at once when not configured or the role is not allowed', () => {
    expect(planCommand(undefined, { args: ['help'], username: 'a', roles: [], roomId: 'r' }, now)).toMatchObject({ kind: 'refuse', text: expect.stringContaining('not configured') });
    expect(planCommand(settings, { args: ['help'], username: 'a', roles: ['user'], roomId: 'r' }, now)).toMatchObject({ kind: 'refuse', text: expect.stringContaining('allowed: admin, aks-operator') });
  });

  it('relays only ✅/❌ on the bot\'s own prompts, by someone else', () => {
    const base = { reaction: ':white_check_mark:', isReacted: true, messageText: ':warning: Approval needed for run 42: teardown on prod\n…', messageAuthor: 'aks-bot', reactor: 'erin', botUsername: 'aks-bot' };
    expect(JSON.parse(planReaction(settings, base, now)!.content)).toEqual({ kind: 'reaction', action: 'approve', runId: 42, user: { username: 'erin' } });
    expect(JSON.parse(planReaction(settings, { ...base, reaction: ':x:' }, now)!.content)).toMatchObject({ action: 'deny' });
    for (const change of [{ isReacted: false }, { reaction: ':tada:' }, { messageAuthor: 'mallory' }, { reactor: 'aks-bot' }, { messageText: 'hello' }]) {
      expect(planReaction(settings, { ...base, ...change }, now)).toBeUndefined();
    }
  });

  it.each([
    [ACTION_APPROVE, '42', true],
    ['aks-deny', '7', true],
    ['other', '7', false],
    [ACTION_APPROVE, 'x', false],
    [ACTION_APPROVE, '-1', false],
  ])('button %s value %s relayed=%s', (actionId, value, relayed) => {
    expect(planButton(settings, { actionId, value, username: 'erin' }, now) !== undefined).toBe(relayed);
  });

  it.each([
    [200, '{"ok":true,"text":"Queued as run 4"}', 'Queued as run 4'],
    [401, '{"ok":false,"code":"AKS_SIGNATURE_INVALID","text":"The request signature is missing"}', 'The request signature is missing'],
    [502, '<html>bad gateway</html>', 'The bot answered with HTTP 502; the bot log has the details.'],
    [0, undefined, 'The bot did not answer in time; it may still be working — watch the ops room.'],
  ])('answer %i → text', (status, content, text) => {
    expect(answerText(status, content)).toBe(text);
  });
});

describe('App handlers with fake accessors', () => {
  it('/aks forwards a signed request and shows the bot\'s answer to the sender only', async () => {
    const { http, posts } = fakeHttp({ statusCode: 200, content: '{"ok":true,"text":"Queued as run 4: it waits for an approval"}' });
    const shown: string[] = [];
    await handleSlashCommand(
      { args: ['teardown', '--env', 'prod'], sender: { username: 'alice', roles: ['admin'] }, roomId: 'r1', threadId: 't1' },
      { settings: configured, http, notifier: { notify: async (t) => void shown.push(t) }, log, now: () => now },
    );
    expect(posts).toHaveLength(1);
    expect(posts[0]!.url).toBe('http://bot.test/rocketchat/command');
    expect(posts[0]!.timeout).toBeLessThan(10_000);
    expect(JSON.parse(posts[0]!.content)).toEqual({ text: 'teardown --env prod', user: { username: 'alice', roles: ['admin'] }, roomId: 'r1', threadId: 't1' });
    expect(posts[0]!.headers['x-aks-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
    expect(shown).toEqual(['Queued as run 4: it waits for an approval']);
  });

  it('a bot that does not answer gives the sender a plain message, not an exception', async () => {
    const { http } = fakeHttp(new Error('ECONNREFUSED'));
    const shown: string[] = [];
    await handleSlashCommand({ args: ['help'], sender: { username: 'alice', roles: ['admin'] }, roomId: 'r1' }, { settings: configured, http, notifier: { notify: async (t) => void shown.push(t) }, log, now: () => now });
    expect(shown[0]).toContain('did not answer');
  });

  it('an unconfigured App never calls out', async () => {
    const { http, posts } = fakeHttp({ statusCode: 200 });
    const shown: string[] = [];
    await handleSlashCommand({ args: ['help'], sender: { username: 'alice', roles: ['admin'] }, roomId: 'r1' }, { settings: fakeSettings({}), http, notifier: { notify: async (t) => void shown.push(t) }, log, now: () => now });
    expect(posts).toEqual([]);
    expect(await handleReaction({ reaction: ':x:', isReacted: true, message: { text: ':warning: Approval needed for run 1: x', sender: { username: 'aks-bot' } }, user: { username: 'erin' } }, 'aks-bot', { settings: fakeSettings({}), http, log, now: () => now })).toBe(false);
  });

  it('reactions and buttons are relayed to /rocketchat/interaction', async () => {
    const { http, posts } = fakeHttp({ statusCode: 200, content: '{"ok":true,"text":"Run 42 approved by @erin."}' });
    const shown: string[] = [];
    expect(await handleReaction({ reaction: ':white_check_mark:', isReacted: true, message: { text: ':warning: Approval needed for run 42: teardown on prod', sender: { username: 'aks-bot' } }, user: { username: 'erin' } }, 'aks-bot', { settings: configured, http, log, now: () => now })).toBe(true);
    expect(await handleButton({ actionId: ACTION_APPROVE, value: '42', username: 'erin' }, { settings: configured, http, notifier: { notify: async (t) => void shown.push(t) }, log, now: () => now })).toBe(true);
    expect(posts.map((p) => p.url)).toEqual(['http://bot.test/rocketchat/interaction', 'http://bot.test/rocketchat/interaction']);
    expect(shown).toEqual(['Run 42 approved by @erin.']);
  });
});

describe('App → bot', () => {
  it('the bot accepts what the App signs, and refuses it replayed', async () => {
    const deps = testDeps({ config: testConfig(CHAT_CONFIG_YAML), now });
    const app = buildApp({ deps: { ...deps, registry: specsWithTeardown([]) }, rocketchat: { secret: settings.secret } });
    const plan = planCommand(settings, { args: ['teardown', '--env', 'prod'], username: 'alice', roles: ['admin'], roomId: 'r1' }, now);
    if (plan.kind !== 'forward') throw new Error('expected a request');
    const inject = () => app.inject({ method: 'POST', url: new URL(plan.request.url).pathname, headers: plan.request.headers, payload: plan.request.content });
    const res = await inject();
    expect(res.statusCode).toBe(200);
    expect(answerText(res.statusCode, res.body)).toMatch(/^Queued as run 1: it waits for an approval/);
    const replayed = await inject();
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json()).toMatchObject({ ok: false, code: 'AKS_SIGNATURE_INVALID' });
    const reaction = planReaction(settings, { reaction: ':white_check_mark:', isReacted: true, messageText: ':warning: Approval needed for run 1: teardown on prod', messageAuthor: 'aks-bot', reactor: 'erin', botUsername: 'aks-bot' }, now)!;
    const decided = await app.inject({ method: 'POST', url: '/rocketchat/interaction', headers: reaction.headers, payload: reaction.content });
    expect(decided.json()).toMatchObject({ ok: true, status: 'queued' });
  });

  it('signs method, path, timestamp, nonce and body exactly as the bot checks them', () => {
    const r = { method: 'POST', path: '/rocketchat/interaction', timestamp: '1795694400', nonce: 'abcdefghijklmnop', body: '{"a":1}' };
    expect(sign(settings.secret, r.method, r.path, r.timestamp, r.nonce, r.body)).toBe(signRequest(settings.secret, r));
    expect(sign(settings.secret, r.method, '/rocketchat/command', r.timestamp, r.nonce, r.body)).not.toBe(signRequest(settings.secret, r));
  });

  it('a request the App signed for one route is refused on the other, and nothing is decided', async () => {
    const deps = testDeps({ config: testConfig(CHAT_CONFIG_YAML), now });
    const app = buildApp({ deps: { ...deps, registry: specsWithTeardown([]) }, rocketchat: { secret: settings.secret } });
    const plan = planCommand(settings, { args: ['teardown', '--env', 'prod'], username: 'alice', roles: ['admin'], roomId: 'r1' }, now);
    if (plan.kind !== 'forward') throw new Error('expected a request');
    await app.inject({ method: 'POST', url: '/rocketchat/command', headers: plan.request.headers, payload: plan.request.content });
    const click = planButton(settings, { actionId: ACTION_APPROVE, value: '1', username: 'erin' }, now)!;
    const moved = await app.inject({ method: 'POST', url: '/rocketchat/command', headers: click.headers, payload: click.content });
    expect(moved.statusCode).toBe(401);
    expect(moved.json()).toMatchObject({ ok: false, code: 'AKS_SIGNATURE_INVALID' });
    expect((await deps.store.getRun(1))?.status).toBe('awaiting-approval');
  });
});
