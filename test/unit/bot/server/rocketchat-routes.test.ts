import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../../../bot/server/signing.js';
import { buildApp } from '../../../../bot/server/app.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { CHAT_CONFIG_YAML, specsWithTeardown } from '../../../integration/bot/chat/builders.js';

const SECRET = 'app-shared-secret-value';
const RC_YAML = `${CHAT_CONFIG_YAML}
rocketchat:
  url: http://127.0.0.1:1
  userId: botuser
  token: { env: RC_TOKEN }
  rooms: [ops]
  mode: app
  appSecret: { env: RC_APP_SECRET }
  rateLimitPerMinute: 50
`;

function setup(opts: { now?: Date } = {}) {
  const deps = testDeps({ config: testConfig(RC_YAML), ...(opts.now ? { now: opts.now } : {}) });
  const calls: string[] = [];
  const app = buildApp({ deps: { ...deps, registry: specsWithTeardown(calls) }, rocketchat: { env: { RC_APP_SECRET: SECRET } } });
  const send = (path: string, body: unknown, o: { secret?: string; ts?: number; nonce?: string; raw?: string } = {}) => {
    const raw = o.raw ?? JSON.stringify(body);
    const ts = String(o.ts ?? Math.floor(deps.now().getTime() / 1000));
    const nonce = o.nonce ?? randomBytes(12).toString('base64url');
    return app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', 'x-aks-timestamp': ts, 'x-aks-nonce': nonce, 'x-aks-signature': signRequest(o.secret ?? SECRET, { method: 'POST', path, timestamp: ts, nonce, body: raw }) },
      payload: raw,
    });
  };
  const command = (text: string, username = 'bob', o = {}) => send('/rocketchat/command', { text, user: { username }, roomId: 'r1' }, o);
  return { deps, app, send, command, calls };
}

describe('/rocketchat/command and /rocketchat/interaction', () => {
  it('runs a signed command and answers at once', async () => {
    const { command } = setup();
    const res = await command('runs');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });
  });

  it.each([
    ['a forged signature', { secret: 'wrong-secret' }, 401, 'AKS_SIGNATURE_INVALID'],
    ['a stale timestamp', { ts: Math.floor(new Date('2026-11-26T11:54:00Z').getTime() / 1000) }, 401, 'AKS_SIGNATURE_INVALID'],
    ['a timestamp from the future', { ts: Math.floor(new Date('2026-11-26T12:06:00Z').getTime() / 1000) }, 401, 'AKS_SIGNATURE_INVALID'],
    ['a malformed nonce', { nonce: 'short' }, 401, 'AKS_SIGNATURE_INVALID'],
    ['a body that is not JSON', { raw: '{"text": ' }, 400, 'AKS_BAD_REQUEST'],
  ])('refuses %s and changes nothing', async (_name, o, status, code) => {
    const { command, deps } = setup();
    const res = await command('teardown --env prod', 'alice', o);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ ok: false, code });
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
    expect(await deps.store.listRuns()).toEqual([]);
  });

  it('refuses a replayed request', async () => {
    const { command } = setup();
    const nonce = randomBytes(12).toString('base64url');
    expect((await command('runs', 'bob', { nonce })).statusCode).toBe(200);
    const again = await command('runs', 'bob', { nonce });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'AKS_SIGNATURE_INVALID' });
  });

  it('refuses a body with unknown or missing fields', async () => {
    const { send } = setup();
    const res = await send('/rocketchat/command', { text: 'runs', user: { username: 'bob' }, roomId: 'r1', admin: true });
    expect(res.json()).toMatchObject({ ok: false, code: 'AKS_BAD_REQUEST' });
  });

  it('answers an unknown command with usage help and an unauthorised user with the role needed', async () => {
    const { command } = setup();
    expect((await command('frobnicate')).json()).toMatchObject({ ok: false, code: 'AKS_UNKNOWN_COMMAND', text: expect.stringContaining('Commands:') });
    expect((await command('teardown --env prod', 'bob')).json()).toMatchObject({ ok: false, code: 'AKS_FORBIDDEN', text: expect.stringContaining('admin role') });
  });

  it('queues a destructive command as a run awaiting approval; approval by another admin via the interaction endpoint', async () => {
    const { command, send, deps } = setup();
    const res = (await command('teardown --env prod', 'alice')).json() as { runId: number; text: string };
    expect(res.text).toBe(`Queued as run ${res.runId}: it waits for an approval; the prompt with the plan is in the room.`);
    const interact = (username: string, action: 'approve' | 'deny') => send('/rocketchat/interaction', { kind: 'button', action, runId: res.runId, user: { username } });
    expect((await interact('alice', 'approve')).json()).toMatchObject({ ok: false, code: 'AKS_APPROVAL_SELF' });
    expect((await interact('bob', 'approve')).json()).toMatchObject({ ok: false, code: 'AKS_APPROVER_FORBIDDEN' });
    expect((await interact('erin', 'approve')).json()).toMatchObject({ ok: true, status: 'queued' });
    expect((await interact('erin', 'deny')).json()).toMatchObject({ ok: false, code: 'AKS_APPROVAL_NOT_FOUND' });
    expect((await deps.store.listAudit({ limit: 20 })).find((a) => a.detail?.startsWith('approved'))).toMatchObject({ actor: 'erin', source: 'rocketchat-app' });
  });

  it('is rate limited', async () => {
    const { command } = setup();
    const codes: number[] = [];
    for (let i = 0; i < 52; i++) codes.push((await command('help')).statusCode);
    expect(codes.slice(0, 50).every((c) => c === 200)).toBe(true);
    expect(codes.slice(50)).toEqual([429, 429]);
  });

  it('says the App routes are not available when no secret is configured', async () => {
    const deps = testDeps({ config: testConfig(CHAT_CONFIG_YAML) });
    const app = buildApp({ deps });
    const res = await app.inject({ method: 'POST', url: '/rocketchat/command', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'AKS_NOT_AVAILABLE' });
  });
});
