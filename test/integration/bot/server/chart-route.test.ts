import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bot/server/app.js';
import { chartUrlSigner, signChartUrl } from '../../../../bot/server/chart-links.js';
import type { TokenCredential } from '../../../../core/clients/arm/clients.js';
import { readerFactory } from '../../../../core/clients/arm/for-environment.js';
import { CHART_COLORS } from '../../../../core/cost/chart.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { SUB, dailyCosts, vsSubscription, fakeArmEnvironmentsYaml } from '../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';

/** GET /charts/cost/<env>.png through buildApp, the ARM client module and the FAKE ARM (unmodified SDKs). */
const TOKEN = 'fake-arm-token-s3cr3t';
const credential: TokenCredential = { getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };
const NOW = new Date('2026-11-26T12:00:00Z');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHART_KEY = 'chart-link-key-0123456789';
const PUBLIC = 'https://bot.example.org';
/** The path and query of a signed chart URL, as a chat client or mail reader would request it. */
const signed = (environment: string, opts: { now?: Date; ttlHours?: number; secret?: string } = {}) =>
  signChartUrl({ publicUrl: PUBLIC, environment, secret: opts.secret ?? CHART_KEY, now: opts.now ?? NOW, ttlHours: opts.ttlHours ?? 72 }).slice(PUBLIC.length);

let arm: FakeArm;
let dir: string;
let configYaml: string;

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  dir = mkdtempSync(join(tmpdir(), 'cost-chart-'));
  writeFileSync(join(dir, 'ca.pem'), arm.ca);
  configYaml = `
bot: { defaultEnvironment: prod, publicUrl: "${PUBLIC}" }
costChart: { linkSecret: { env: CHART_LINK_KEY }, linkTtlHours: 72 }
access:
  roles: { admin: [alice] }
email:
  smtp: { host: 127.0.0.1, port: 2525 }
  from: bot@example.org
  to: [ops@example.org]
${fakeArmEnvironmentsYaml(arm.url, join(dir, 'ca.pem'))}`;
});
afterAll(async () => {
  await arm.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  arm.clearFaults();
  arm.setSubscription(SUB, vsSubscription());
  arm.setCosts(SUB, dailyCosts('2026-11-14', 12, () => 10)); // $120 of $150 by 2026-11-26
  arm.setForecastDailyUsd(SUB, 10);
});

function appWith(opts: { cacheMs?: number; now?: () => Date; yaml?: string } = {}) {
  const base = testDeps({ config: testConfig(opts.yaml ?? configYaml), now: NOW });
  const deps = opts.now ? { ...base, now: opts.now } : base;
  const app = buildApp({ deps, costChart: { readerFor: readerFactory(credential), env: { CHART_LINK_KEY: CHART_KEY }, ...(opts.cacheMs !== undefined ? { cacheMs: opts.cacheMs } : {}) } });
  return { app, deps };
}

/** Rows where the credit colour spans the plot at a quarter, half and three quarters of its width. */
async function creditRows(png: Buffer): Promise<number[]> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const at = (x: number, y: number) => {
    const i = (y * img.width + x) * 4;
    return `#${[data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  };
  const xs = [0.25, 0.5, 0.75].map((f) => Math.round(64 + f * (img.width - 24 - 64)));
  const rows: number[] = [];
  for (let y = 0; y < img.height; y++) if (xs.every((x) => at(x, y) === CHART_COLORS.credit)) rows.push(y);
  return rows;
}

describe('GET /charts/cost/:environment.png', () => {
  it('serves an 800×450 PNG drawn from the live cost data, with the credit line, and fires no alerts', async () => {
    const { app, deps } = appWith();
    const before = arm.requests.length;
    const res = await app.inject({ method: 'GET', url: signed('prod') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    const png = res.rawPayload;
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // IHDR: width and height as big-endian 32-bit integers at bytes 16 and 20.
    expect(png.readUInt32BE(16)).toBe(800);
    expect(png.readUInt32BE(20)).toBe(450);
    expect(png.length).toBeGreaterThan(5_000);
    // It asked Azure (cost query and forecast), through the SDK.
    expect(arm.requests.slice(before).filter((r) => /costmanagement/i.test(r.path)).length).toBeGreaterThanOrEqual(2);
    // The credit line: a full-width row of its colour, above the cumulative line's end (the chart scales to the forecast).
    const rows = await creditRows(png);
    expect(rows.length).toBeGreaterThan(0);
    // Read-only: a chart request never enqueues cost alerts (80 % used would fire 50 and 75 %).
    expect(await deps.store.claimDueNotifications(NOW, 50)).toHaveLength(0);
    if (process.env.SHOW_OUTPUT) writeFileSync('/tmp/cost-chart-route.png', png);
    await app.close();
  });

  it('serves the same chart from its cache within cacheMs, and asks Azure again after it', async () => {
    let now = NOW;
    const { app } = appWith({ cacheMs: 60_000, now: () => now });
    const count = () => arm.requests.filter((r) => /costmanagement/i.test(r.path)).length;
    const a = await app.inject({ method: 'GET', url: signed('prod') });
    const afterFirst = count();
    const b = await app.inject({ method: 'GET', url: signed('prod') });
    expect(b.statusCode).toBe(200);
    expect(b.rawPayload.equals(a.rawPayload)).toBe(true);
    expect(count()).toBe(afterFirst);
    now = new Date(NOW.getTime() + 61_000);
    const c = await app.inject({ method: 'GET', url: signed('prod') });
    expect(c.statusCode).toBe(200);
    expect(count()).toBeGreaterThan(afterFirst);
    await app.close();
  });

  it.each([
    ['an unknown environment', 'staging'],
    ['a prototype key', 'constructor'],
    ['a bad name', '../prod'],
  ])('answers 404 AKS_UNKNOWN_ENVIRONMENT for %s, without asking Azure', async (_what, environment) => {
    const { app } = appWith();
    const before = arm.requests.length;
    const res = await app.inject({ method: 'GET', url: signed(environment) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'AKS_UNKNOWN_ENVIRONMENT' });
    expect(arm.requests.length).toBe(before);
    await app.close();
  });

  it('answers 503 AKS_AZURE_NOT_CONFIGURED, with no stack, when the environment has no Azure access', async () => {
    const { app } = appWith();
    const before = arm.requests.length;
    const res = await app.inject({ method: 'GET', url: signed('local') });
    expect(res.statusCode).toBe(503);
    const body = res.json<{ code: string; message: string; fix: string }>();
    expect(body.code).toBe('AKS_AZURE_NOT_CONFIGURED');
    expect(body.message).toContain('local has no Azure access configured');
    expect(res.body).not.toMatch(/at .*\.[jt]s:\d+|stack/i);
    expect(arm.requests.length).toBe(before);
    await app.close();
  });

  it('turns an Azure outage into 502 AKS_AZURE_REQUEST_FAILED without a stack or the token, and does not cache it', async () => {
    arm.inject({ path: /costmanagement/i, status: 500, times: 100 });
    const { app } = appWith();
    const res = await app.inject({ method: 'GET', url: signed('prod') });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'AKS_AZURE_REQUEST_FAILED' });
    expect(res.body).not.toMatch(/at .*\.[jt]s:\d+/);
    expect(res.body).not.toContain(TOKEN);
    arm.clearFaults();
    const again = await app.inject({ method: 'GET', url: signed('prod') });
    expect(again.statusCode).toBe(200);
    await app.close();
  }, 60_000);

  describe('authentication: a signed, expiring link', () => {
    const exp = (hours: number) => Math.floor(NOW.getTime() / 1000 + hours * 3600);
    it.each([
      ['no signature', '/charts/cost/prod.png', /not signed/],
      ['a malformed one', `/charts/cost/prod.png?exp=abc&sig=${'0'.repeat(64)}`, /not signed/],
      ['a wrong signature', `/charts/cost/prod.png?exp=${exp(1)}&sig=${'0'.repeat(64)}`, /signature does not match/],
      ['another key', () => signed('prod', { secret: 'another-key' }), /signature does not match/],
      ['another environment\'s signature', () => signed('local').replace('/local.png', '/prod.png'), /signature does not match/],
      ['an expiry changed after signing', () => signed('prod').replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 3600}`), /signature does not match/],
      ['an expired link', () => signed('prod', { now: new Date(NOW.getTime() - 73 * 3_600_000) }), /expired/],
      ['a longer life than linkTtlHours', () => signed('prod', { ttlHours: 24 * 30 }), /later than costChart.linkTtlHours/],
    ])('answers 401 AKS_CHART_LINK_INVALID to %s, before asking Azure or naming environments', async (_what, url, reason) => {
      const { app } = appWith();
      const before = arm.requests.length;
      const res = await app.inject({ method: 'GET', url: typeof url === 'function' ? url() : url });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'AKS_CHART_LINK_INVALID', message: expect.stringMatching(reason) });
      expect(res.body).not.toContain('local'); // unauthenticated callers learn nothing about the configuration
      expect(arm.requests.length).toBe(before);
      await app.close();
    });

    it('an unsigned request for an unknown environment is a 401 too, not a 404 listing the environments', async () => {
      const { app } = appWith();
      const res = await app.inject({ method: 'GET', url: '/charts/cost/staging.png' });
      expect(res.statusCode).toBe(401);
      await app.close();
    });

    it('answers 503 without asking Azure while the link key cannot be resolved, and recovers when it can', async () => {
      const deps = testDeps({ config: testConfig(configYaml), now: NOW });
      const env: NodeJS.ProcessEnv = {};
      const app = buildApp({ deps, costChart: { readerFor: readerFactory(credential), env } });
      const before = arm.requests.length;
      const res = await app.inject({ method: 'GET', url: signed('prod') });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'AKS_SECRET_UNRESOLVED' });
      expect(arm.requests.length).toBe(before);
      env.CHART_LINK_KEY = CHART_KEY;
      expect((await app.inject({ method: 'GET', url: signed('prod') })).statusCode).toBe(200);
      await app.close();
    });

    it('the route does not exist without costChart configured', async () => {
      const { app } = appWith({ yaml: configYaml.replace(/costChart:.*\n/, '') });
      const res = await app.inject({ method: 'GET', url: signed('prod') });
      expect(res.statusCode).toBe(404);
      expect(res.json()).not.toMatchObject({ code: 'AKS_UNKNOWN_ENVIRONMENT' });
      await app.close();
    });

    it('chartUrlSigner makes the links other code puts in messages, from the configuration', async () => {
      const deps = testDeps({ config: testConfig(configYaml), now: NOW });
      const sign = chartUrlSigner(deps, { env: { CHART_LINK_KEY: CHART_KEY } });
      const url = await sign('prod');
      expect(url).toMatch(new RegExp(`^${PUBLIC}/charts/cost/prod\\.png\\?exp=${exp(72)}&sig=[0-9a-f]{64}$`));
      expect(await sign('staging')).toBeUndefined();
      expect(deps.redactor.text(`key ${CHART_KEY}`)).not.toContain(CHART_KEY); // the key is registered for redaction
      const { app } = appWith();
      const res = await app.inject({ method: 'GET', url: url!.slice(PUBLIC.length) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      await app.close();
    });
  });
});
