import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { makeCostHandler } from '../../../../core/commands/handlers/cost.js';
import { makeStatusHandler } from '../../../../core/commands/handlers/status.js';
import type { CommandSpec, Invocation } from '../../../../core/commands/types.js';
import { readerFactory } from '../../../../core/clients/arm/for-environment.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { fakeCredential } from '../../../helpers/errors.js';
import { SUB, agentPool, cluster, dailyCosts, vsSubscription, fakeArmEnvironmentsYaml } from '../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';

const commandSpecs = createRegistry();

/** `cost` and `status` through the command registry, the ARM client module and the FAKE ARM (unmodified SDKs). */
const credential = fakeCredential();
const NOW = new Date('2026-11-26T12:00:00Z');
const cli: Invocation = { actor: 'carol', source: 'cli' };

let arm: FakeArm;
let dir: string;
let specs: CommandSpec[];
let configYaml: string;

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  dir = mkdtempSync(join(tmpdir(), 'cost-cmd-'));
  writeFileSync(join(dir, 'ca.pem'), arm.ca);
  configYaml = `
bot: { defaultEnvironment: prod }
access:
  roles: { admin: [alice], operator: [bob], viewer: [carol] }
email:
  smtp: { host: 127.0.0.1, port: 2525 }
  from: bot@example.org
  to: [ops@example.org]
${fakeArmEnvironmentsYaml(arm.url, join(dir, 'ca.pem'))}`;
  const factory = readerFactory(credential);
  specs = commandSpecs.map((s) => {
    if (s.name === 'cost') return { ...s, handler: makeCostHandler(factory) };
    if (s.name === 'status') return { ...s, handler: makeStatusHandler(factory) };
    return s;
  });
});
afterAll(async () => {
  await arm.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  arm.clearFaults();
  arm.setSubscription(SUB, vsSubscription());
  // period 2026-11-14 → 2026-12-14; 12 days billed at $10 = $120 (80 %)
  arm.setCosts(SUB, dailyCosts('2026-11-14', 12, () => 10));
  arm.setForecastDailyUsd(SUB, 10);
  arm.setCluster(SUB, 'rg-c', 'aks', cluster({ agentPools: [agentPool(), agentPool({ name: 'user', mode: 'User', count: 1, vmSize: 'Standard_D4s_v5' })] }));
});

describe('cost', () => {
  it('reports cost against the credit, the projection, and fires the due alerts once', async () => {
    const deps = testDeps({ config: testConfig(configYaml), now: NOW });
    const reply = await execute('cost --env prod', cli, { ...deps, registry: specs });
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain('$120.00 of the $150.00 credit used (80.0 %) in the billing period 2026-11-14 → 2026-12-14');
    expect(reply.text).toContain('Remaining: $20.00 after a $10.00 safety margin');
    expect(reply.text).toContain('Recent burn: $10.00/day');
    expect(reply.text).toMatch(/Projected exhaustion: 2026-11-2[78] /);
    expect(reply.text).toContain('By resource group: rg-c $96.00, rg-d $24.00');
    expect(reply.text).toContain('(running $10.00/day, torn down $2.00/day');
    expect(reply.text).toContain('Plan: tear down now. Even then the credit will not last the period');
    if (process.env.SHOW_OUTPUT) console.log(reply.text);
    const data = reply.data as { alerts: { fired: string[] }; exhaustion: { method: string } };
    expect(data.alerts.fired).toEqual([
      'cost:prod:2026-11-14:threshold:50',
      'cost:prod:2026-11-14:threshold:75',
      'cost:prod:2026-11-14:lead:5',
      'cost:prod:2026-11-14:lead:3',
    ]);
    const again = await execute('cost --env prod', cli, { ...deps, registry: specs });
    expect((again.data as { alerts: { fired: string[] } }).alerts.fired).toEqual([]);
    const queued = await deps.store.claimDueNotifications(NOW, 50);
    expect(queued).toHaveLength(4);
    expect(queued.every((n) => n.channel === 'email' && n.recipient === 'ops@example.org')).toBe(true);
  });

  it('says plainly when the environment has no Azure access configured', async () => {
    const deps = testDeps({ config: testConfig(configYaml), now: NOW });
    const before = arm.requests.length;
    const reply = await execute('cost --env local', cli, { ...deps, registry: commandSpecs });
    expect(reply.ok).toBe(false);
    expect(reply.code).toBe('AKS_AZURE_NOT_CONFIGURED');
    expect(reply.text).toContain('has no Azure access configured');
    expect(arm.requests.length).toBe(before);
  });

  it('turns an Azure outage into a coded error after the retries', async () => {
    arm.inject({ path: /costmanagement/i, status: 500, times: 100 });
    const deps = testDeps({ config: testConfig(configYaml), now: NOW });
    const reply = await execute('cost --env prod', cli, { ...deps, registry: specs });
    expect(reply.code).toBe('AKS_AZURE_REQUEST_FAILED');
    expect(reply.text).not.toMatch(/at .*\.js:\d+/); // no stack trace in chat
    // the answer came after every read settled: no query is still retrying behind it
    const settled = arm.requests.length;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(arm.requests.length).toBe(settled);
  }, 60_000);
});

describe('cost plan', () => {
  it('shows the latest safe teardown, the recreate time, the days up and the three policies, and fires nothing', async () => {
    // $7/day for 12 days = $84 (56 %) of the $140 usable; running $7/day, torn down $1.40/day (rg-d's 20 %).
    // Left $56 over 17.5 days: x = (56 − 1.4·17.5) / (7 − 1.4) = 5.625 days → 2026-12-02 03:00 UTC.
    arm.setCosts(SUB, dailyCosts('2026-11-14', 12, () => 7));
    arm.setForecastDailyUsd(SUB, 7);
    const deps = testDeps({ config: testConfig(configYaml), now: NOW });
    const reply = await execute('cost plan --env prod', cli, { ...deps, registry: specs });
    expect(reply.ok).toBe(true);
    if (process.env.SHOW_OUTPUT) console.log(reply.text);
    expect(reply.text).toContain('prod: credit planner for the billing period 2026-11-14 → 2026-12-14');
    expect(reply.text).toContain('Burn: running $7.00/day; torn down $1.40/day');
    expect(reply.text).toMatch(/Latest safe teardown: 2026-12-02 0[23]:\d\d UTC\./);
    expect(reply.text).toMatch(/Planned teardown: 2026-11-30 0[23]:\d\d UTC/);
    expect(reply.text).toContain('Recreate: 2026-12-14 00:00 UTC, when the next billing period starts');
    expect(reply.text).toMatch(/Days up this period: about 16\.[01] of 30\./);
    expect(reply.text).toContain('fixed days (recreate day 2, teardown day 12):');
    expect(reply.text).toContain('budget-driven teardown');
    expect(reply.text).toContain('nights off + budget-driven teardown');
    const data = reply.data as { plan: { latestSafeTeardown: string; recreateAt: string; uptimeDaysThisPeriod: number; policies: unknown[] } };
    expect(Date.parse(data.plan.latestSafeTeardown)).toBeCloseTo(NOW.getTime() + ((56 - 1.4 * 17.5) / 5.6) * 86_400_000, -6);
    expect(data.plan.recreateAt).toBe('2026-12-14T00:00:00.000Z');
    expect(data.plan.policies).toHaveLength(3);
    // Read-only: 56 % used would fire the 50 % alert under plain `cost`.
    expect(await deps.store.claimDueNotifications(NOW, 50)).toHaveLength(0);
    const report = await execute('cost --env prod', cli, { ...deps, registry: specs });
    expect((report.data as { alerts: { fired: string[] } }).alerts.fired).toContain('cost:prod:2026-11-14:threshold:50');
  });

  it('rejects a view that is neither report nor plan, asking Azure nothing', async () => {
    const before = arm.requests.length;
    const reply = await execute('cost forecast --env prod', cli, { ...testDeps({ config: testConfig(configYaml), now: NOW }), registry: specs });
    expect(reply.code).toBe('AKS_INVALID_ARGUMENTS');
    expect(reply.text).toContain('report, plan');
    expect(arm.requests.length).toBe(before);
  });
});

describe('status', () => {
  it('shows subscription and cluster state', async () => {
    const reply = await execute('status --env prod', cli, { ...testDeps({ config: testConfig(configYaml), now: NOW }), registry: specs });
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain('Subscription Visual Studio Enterprise: Enabled, spending limit On, offer MSDN_2014-09-01.');
    expect(reply.text).toContain('Cluster aks: Succeeded, power Running, Kubernetes 1.32.7.');
    expect(reply.text).toContain('pool user (User): 1 × Standard_D4s_v5');
    expect(reply.text).toContain('Kubernetes 1.32.7 is supported in westeurope (supported minors 1.31–1.33).');
  });

  it('explains a disabled subscription with a Failed cluster', async () => {
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed', powerState: 'Stopped' }));
    const reply = await execute('status --env prod', cli, { ...testDeps({ config: testConfig(configYaml), now: NOW }), registry: specs });
    expect(reply.text).toContain('Disabled');
    expect(reply.text).toContain('re-enables when the next billing period starts (2026-12-14)');
    expect(reply.text).toContain('nothing can be done until the subscription is enabled again');
    const deps = testDeps({ config: testConfig(configYaml), now: NOW });
    const first = await execute('status --env prod', cli, { ...deps, registry: specs });
    expect((first.data as { environments: { alerts: { fired: string[] } }[] }).environments[0]?.alerts.fired).toEqual([
      'health:prod:2026-11-14:subscription:Disabled',
      'health:prod:2026-11-14:cluster:Failed',
    ]);
    const second = await execute('status --env prod', cli, { ...deps, registry: specs }); // the scheduler runs it again
    expect((second.data as { environments: { alerts: { fired: string[] } }[] }).environments[0]?.alerts.fired).toEqual([]);
    const mails = await deps.store.claimDueNotifications(NOW, 10);
    expect(mails.map((m) => m.subject)).toEqual(['[aks-bot] prod: the Azure subscription is Disabled', '[aks-bot] prod: the AKS cluster is Failed']);
  });

  it('says when the cluster is gone, and keeps the subscription line when the cluster read fails', async () => {
    arm.setCluster(SUB, 'rg-c', 'aks', undefined);
    let reply = await execute('status --env prod', cli, { ...testDeps({ config: testConfig(configYaml), now: NOW }), registry: specs });
    expect(reply.text).toContain('Cluster aks: not present (torn down or never created).');
    arm.inject({ path: /managedclusters/i, status: 200, rawBody: '{"name": 5}', times: 1 });
    reply = await execute('status --env prod', cli, { ...testDeps({ config: testConfig(configYaml), now: NOW }), registry: specs });
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain('Subscription Visual Studio Enterprise: Enabled');
    expect(reply.text).toContain('Cluster: could not be read — AKS_AZURE_RESPONSE_INVALID');
  });

  it('lists every environment without --env, saying which have no Azure access', async () => {
    const cfg = testConfig(configYaml.replace('bot: { defaultEnvironment: prod }', 'bot: {}'));
    const reply = await execute('status', cli, { ...testDeps({ config: cfg, now: NOW }), registry: specs });
    expect(reply.text).toContain('prod:');
    expect(reply.text).toContain('local: The environment local has no Azure access configured');
  });
});
