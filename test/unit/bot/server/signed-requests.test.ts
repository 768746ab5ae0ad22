import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../../../bot/chat/delivery.js';
import { signBody, signRequest } from '../../../../bot/server/signing.js';
import { buildApp } from '../../../../bot/server/app.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { CHAT_CONFIG_YAML, specsWithTeardown } from '../../../integration/bot/chat/builders.js';

// The signed App routes as an attacker sees them: every way a request can be unsigned, mis-signed, out of its
// time window, replayed (also across a restart) or aimed at another route gets one and the same refusal and
// changes nothing; the window's edges are tested on both sides with an injected clock.

const SECRET = 'app-shared-secret-value';
const WINDOW = 300;
const SKEW = 60;
const T0 = Date.parse('2026-11-26T12:00:00Z');
const ROUTES = ['/rocketchat/command', '/rocketchat/interaction'] as const;
type Route = (typeof ROUTES)[number];

const yaml = (rateLimit: number) => `${CHAT_CONFIG_YAML}
rocketchat:
  url: http://127.0.0.1:1
  userId: botuser
  token: { env: RC_TOKEN }
  rooms: [ops]
  mode: app
  appSecret: { env: RC_APP_SECRET }
  rateLimitPerMinute: ${rateLimit}
`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Sent {
  readonly route: Route;
  readonly body: string;
  readonly headers: Record<string, string>;
}

let nonceSeq = 0;
const freshNonce = () => `nonce-${String(++nonceSeq).padStart(8, '0')}-abcdef`;

/** A request as the App signs it; `o` bends one part of it. */
function signed(route: Route, body: unknown, nowMs: number, o: { ts?: number; nonce?: string; secret?: string; signedPath?: string; signedMethod?: string } = {}): Sent {
  const raw = JSON.stringify(body);
  const timestamp = String(o.ts ?? Math.floor(nowMs / 1000));
  const nonce = o.nonce ?? freshNonce();
  const signature = signRequest(o.secret ?? SECRET, { method: o.signedMethod ?? 'POST', path: o.signedPath ?? route, timestamp, nonce, body: raw });
  return { route, body: raw, headers: { 'content-type': 'application/json', 'x-aks-timestamp': timestamp, 'x-aks-nonce': nonce, 'x-aks-signature': signature } };
}

function setup(opts: { path?: string; rateLimit?: number } = {}) {
  let nowMs = T0;
  const calls: string[] = [];
  const base = testDeps({ config: testConfig(yaml(opts.rateLimit ?? 1_000)) });
  const clock = () => new Date(nowMs);
  const store = opts.path ? openSqliteStore({ path: opts.path, clock }) : base.store;
  const deps = { ...base, store, now: clock, registry: specsWithTeardown(calls) };
  const posts: string[] = [];
  const delivery = {
    post: async (_room: string, text: string) => {
      posts.push(text);
      return { via: 'chat' as const, msgId: 'm1' };
    },
    ensureApprovalPrompt: async (_room: string, runId: number) => {
      const text = `prompt of run ${runId}`;
      posts.push(text);
      return { via: 'chat' as const, msgId: 'm2' };
    },
  } as unknown as Delivery;
  const app = buildApp({ deps, rocketchat: { env: { RC_APP_SECRET: SECRET }, delivery, windowSeconds: WINDOW, skewSeconds: SKEW, ackTimeoutMs: 60_000 } });
  cleanups.push(async () => {
    await app.close();
    await store.close();
    if (store !== base.store) await base.store.close();
  });
  const send = (r: Sent) => app.inject({ method: 'POST', url: r.route, headers: r.headers, payload: r.body });
  const snapshot = async () => ({
    runs: (await store.listRuns()).map((r) => `${r.id}:${r.status}`),
    audit: (await store.listAudit({ limit: 1_000 })).map((a) => `${a.actor}:${a.result}:${a.detail ?? ''}`),
    posts: [...posts],
    calls: [...calls],
  });
  return {
    deps,
    app,
    send,
    snapshot,
    get nowMs() {
      return nowMs;
    },
    setNow(ms: number) {
      nowMs = ms;
    },
  };
}

const command = (username = 'alice', text = 'teardown --env prod') => ({ text, user: { username }, roomId: 'r1' });
const approve = (runId = 1, username = 'erin') => ({ kind: 'button', action: 'approve', runId, user: { username } });
const bodyFor = (route: Route) => (route === '/rocketchat/command' ? command() : approve());
const otherRoute = (route: Route): Route => (route === '/rocketchat/command' ? '/rocketchat/interaction' : '/rocketchat/command');

const REFUSED = { ok: false, code: 'AKS_SIGNATURE_INVALID', text: expect.stringContaining('[AKS_SIGNATURE_INVALID]') };

/** The refusal every bad request must get, byte for byte: the one for a request with no signature at all. */
async function reference(t: ReturnType<typeof setup>, route: Route): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(bodyFor(route)) });
  expect(res.statusCode).toBe(401);
  expect(res.json()).toEqual(REFUSED);
  return res.body;
}

describe('the acceptance window, both sides of each edge', () => {
  it.each([
    ['now', 0, true],
    ['now - window', -WINDOW, true],
    ['now - window - 1', -WINDOW - 1, false],
    ['now + skew', SKEW, true],
    ['now + skew + 1', SKEW + 1, false],
  ])('a request timestamped %s is accepted=%s, and never twice', async (_name, offset, accepted) => {
    const t = setup();
    const expected = await reference(t, '/rocketchat/command');
    const r = signed('/rocketchat/command', command('bob', 'help'), t.nowMs, { ts: T0 / 1000 + offset });
    const first = await t.send(r);
    if (accepted) {
      expect(first.statusCode).toBe(200);
    } else {
      expect(first.statusCode).toBe(401);
      expect(first.body).toBe(expected);
    }
    const again = await t.send(r);
    expect(again.statusCode).toBe(401);
    expect(again.body).toBe(expected);
  });

  it('keeps a nonce for as long as its timestamp is acceptable: a replay at the last instant is refused', async () => {
    const t = setup();
    const expected = await reference(t, '/rocketchat/command');
    const ts = T0 / 1000;
    const r = signed('/rocketchat/command', command('bob', 'help'), t.nowMs, { ts });
    expect((await t.send(r)).statusCode).toBe(200);
    t.setNow((ts + WINDOW) * 1000); // the last millisecond at which this timestamp is still acceptable
    expect((await t.send(signed('/rocketchat/command', command('bob', 'help'), t.nowMs, { ts }))).statusCode).toBe(200);
    const replay = await t.send(r);
    expect(replay.statusCode).toBe(401);
    expect(replay.body).toBe(expected);
    t.setNow((ts + WINDOW) * 1000 + 1); // one millisecond later the timestamp itself is refused
    const late = await t.send(signed('/rocketchat/command', command('bob', 'help'), t.nowMs, { ts }));
    expect(late.statusCode).toBe(401);
    expect(late.body).toBe(expected);
  });
});

describe('replay across a restart', () => {
  it('refuses, after a new store handle and a new app on the same file, a request accepted before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aks-signed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'bot.db');
    const before = setup({ path });
    const r = signed('/rocketchat/command', command(), before.nowMs);
    expect((await before.send(r)).json()).toMatchObject({ ok: true, runId: 1 });
    await before.app.close();
    await before.deps.store.close();

    const after = setup({ path });
    after.setNow(T0 + 1_000);
    const expected = await reference(after, '/rocketchat/command');
    const replay = await after.send(r);
    expect(replay.statusCode).toBe(401);
    expect(replay.body).toBe(expected);
    expect((await after.deps.store.listRuns()).map((x) => x.id)).toEqual([1]);
    expect((await after.send(signed('/rocketchat/command', command('bob', 'help'), after.nowMs))).statusCode).toBe(200);
  });

  it('holds only the nonces of one window: a flood shrinks back once the window has passed', async () => {
    const t = setup();
    for (let i = 0; i < 40; i++) expect((await t.send(signed('/rocketchat/command', command(`user${i}`, 'help'), t.nowMs))).statusCode).toBe(200);
    expect(await t.deps.store.countNonces()).toBe(40);
    t.setNow(T0 + (WINDOW + 1) * 1000);
    expect((await t.send(signed('/rocketchat/command', command('bob', 'help'), t.nowMs))).statusCode).toBe(200);
    expect(await t.deps.store.countNonces()).toBe(1);
  });
});

describe.each(ROUTES)('%s refuses every bad signature the same way and changes nothing', (route) => {
  const cases: [string, (nowMs: number) => Sent][] = [
    ['no signature headers', (now) => ({ ...signed(route, bodyFor(route), now), headers: { 'content-type': 'application/json' } })],
    ['no signature header', (now) => { const r = signed(route, bodyFor(route), now); const { 'x-aks-signature': _gone, ...headers } = r.headers; return { ...r, headers }; }],
    ['a malformed signature', (now) => { const r = signed(route, bodyFor(route), now); return { ...r, headers: { ...r.headers, 'x-aks-signature': 'v2=not-hex' } }; }],
    ['a malformed timestamp', (now) => { const r = signed(route, bodyFor(route), now); return { ...r, headers: { ...r.headers, 'x-aks-timestamp': '12e9' } }; }],
    ['a malformed nonce', (now) => signed(route, bodyFor(route), now, { nonce: 'short' })],
    ['a signature made with another key', (now) => signed(route, bodyFor(route), now, { secret: 'wrong-secret-value' })],
    ['the old scheme without method and path (v1)', (now) => { const r = signed(route, bodyFor(route), now); const ts = r.headers['x-aks-timestamp']!; const n = r.headers['x-aks-nonce']!; return { ...r, headers: { ...r.headers, 'x-aks-signature': signBody(SECRET, ts, n, r.body) } }; }],
    ['a stale timestamp', (now) => signed(route, bodyFor(route), now, { ts: Math.floor(now / 1000) - WINDOW - 1 })],
    ['a future timestamp', (now) => signed(route, bodyFor(route), now, { ts: Math.floor(now / 1000) + SKEW + 1 })],
    ['a signature for the other route', (now) => ({ ...signed(otherRoute(route), bodyFor(route), now), route })],
    ['a signature for another method', (now) => signed(route, bodyFor(route), now, { signedMethod: 'PUT' })],
    ['a body changed after signing', (now) => { const r = signed(route, bodyFor(route), now); return { ...r, body: r.body.replace(/"(alice|erin)"/, '"mallory"') }; }],
  ];

  /** For the interaction route: a teardown by alice awaiting approval, which an accepted approval would change. */
  async function prepared() {
    const t = setup();
    const expected = await reference(t, route);
    if (route === '/rocketchat/interaction') expect((await t.send(signed('/rocketchat/command', command(), t.nowMs))).json()).toMatchObject({ ok: true, runId: 1 });
    return { t, expected };
  }

  it.each(cases)('%s', async (_name, make) => {
    const { t, expected } = await prepared();
    const before = await t.snapshot();
    const res = await t.send(make(t.nowMs));
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(expected);
    expect(await t.snapshot()).toEqual(before);
  });

  it('a replay', async () => {
    const { t, expected } = await prepared();
    const r = signed(route, bodyFor(route), t.nowMs);
    expect((await t.send(r)).json()).toMatchObject({ ok: true });
    const before = await t.snapshot();
    expect(before.audit.some((a) => a.includes(':ok:'))).toBe(true);
    const res = await t.send(r);
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(expected);
    expect(await t.snapshot()).toEqual(before);
  });
});

describe('rate limit', () => {
  it('counts a verified request against its user, so one user over the limit does not stop another from the same address', async () => {
    const t = setup({ rateLimit: 5 });
    const as = (user: string) => t.send(signed('/rocketchat/command', command(user, 'help'), t.nowMs));
    for (let i = 0; i < 5; i++) expect((await as('bob')).statusCode).toBe(200);
    const limited = await as('bob');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ ok: false, code: 'AKS_RATE_LIMITED' });
    expect((await as('carol')).statusCode).toBe(200);
    expect((await t.send(signed('/rocketchat/interaction', approve(99, 'erin'), t.nowMs))).statusCode).toBe(200);
  });

  it('counts a request that fails verification against its address, without touching the users\' buckets', async () => {
    const t = setup({ rateLimit: 5 });
    const forged = () => t.send(signed('/rocketchat/command', command('bob', 'help'), t.nowMs, { secret: 'wrong-secret-value' }));
    for (let i = 0; i < 5; i++) expect((await forged()).statusCode).toBe(401);
    expect((await forged()).statusCode).toBe(429);
    expect((await t.send(signed('/rocketchat/command', command('bob', 'help'), t.nowMs))).statusCode).toBe(200);
  });
});
