import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArmClients, type ArmClients } from '../../../../../core/clients/arm/clients.js';
import { toAzureError } from '../../../../../core/clients/arm/errors.js';
import { createAzureReader } from '../../../../../core/clients/arm/reader.js';
import type { AzureReader } from '../../../../../core/clients/arm/types.js';
import { AppError } from '../../../../../core/errors/app-error.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { SUB, cluster, dailyCosts, vsSubscription } from '../../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../../fakes/arm/server.js';
import { fakeCredential } from '../../../../helpers/errors.js';

/**
 * The ARM client module against the FAKE Azure Resource Manager (no real ARM runs here), through the unmodified
 * SDK clients: subscription, cost query and forecast, managed cluster; retries; malformed answers; a disabled
 * subscription refusing writes.
 */
const credential = fakeCredential();
const NOW = new Date('2026-11-20T12:00:00Z');

let arm: FakeArm;
let clients: ArmClients;
let reader: AzureReader;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
  return 'no error';
}

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  clients = createArmClients({ subscriptionId: SUB, credential, endpoint: arm.url, ca: arm.ca, retry: { retryDelayInMs: 20, maxRetryDelayInMs: 100, maxRetries: 3 } });
  const redactor = new Redactor();
  reader = createAzureReader({ clients, environment: 'prod', log: createLogger({ level: 'silent', redactor }) });
});
afterAll(async () => arm.close());

beforeEach(() => {
  arm.requests.length = 0;
  arm.clearFaults();
  arm.setSubscription(SUB, vsSubscription());
  arm.setCosts(SUB, dailyCosts('2026-11-14', 6, () => 5));
  arm.setForecastDailyUsd(SUB, undefined);
  arm.setCluster(SUB, 'rg-c', 'aks', cluster());
});

describe('subscription and cluster', () => {
  it('reads state, spending limit and quota id', async () => {
    arm.setSubscription(SUB, vsSubscription({ state: 'Warned', spendingLimit: 'CurrentPeriodOff' }));
    const s = await reader.getSubscription();
    expect(s).toMatchObject({ subscriptionId: SUB, state: 'Warned', spendingLimit: 'CurrentPeriodOff', quotaId: 'MSDN_2014-09-01' });
    expect(arm.requests[0]).toMatchObject({ method: 'GET', path: `/subscriptions/${SUB}` });
    expect(arm.requests[0]?.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}/);
  });

  it('reads the cluster with its node pools, and a missing cluster as undefined', async () => {
    const c = await reader.getCluster('rg-c', 'aks');
    expect(c).toMatchObject({ provisioningState: 'Succeeded', powerState: 'Running', kubernetesVersion: '1.32.7' });
    expect(c?.agentPools).toEqual([expect.objectContaining({ name: 'system', count: 2, vmSize: 'Standard_B2s', powerState: 'Running' })]);
    arm.setCluster(SUB, 'rg-c', 'aks', undefined);
    expect(await reader.getCluster('rg-c', 'aks')).toBeUndefined();
  });
});

describe('Kubernetes versions', () => {
  it('lists the minors AKS offers in a region with their patches', async () => {
    const v = await reader.kubernetesVersions('westeurope');
    expect(v.map((x) => x.minor)).toEqual(['1.31', '1.32', '1.33', '1.34']);
    expect(v[1]).toEqual({ minor: '1.32', isPreview: false, supportPlans: ['KubernetesOfficial'], patches: ['1.32.6', '1.32.7'] });
    expect(arm.requests.at(-1)?.path).toBe(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/kubernetesVersions`);
  });
});

describe('cost query and forecast', () => {
  const range = { from: new Date('2026-11-14T00:00:00Z'), to: new Date('2026-11-20T12:00:00Z') };

  it('returns daily rows grouped by resource group and service', async () => {
    const rows = await reader.dailyCost(range);
    expect(rows).toHaveLength(12);
    expect(rows.filter((r) => r.date === '2026-11-15')).toEqual(
      expect.arrayContaining([
        { date: '2026-11-15', cost: 4, currency: 'USD', resourceGroup: 'rg-c', service: 'Virtual Machines' },
        { date: '2026-11-15', cost: 1, currency: 'USD', resourceGroup: 'rg-d', service: 'Storage' },
      ]),
    );
    const sent = arm.requests.at(-1)?.body as { timeframe: string; dataset: { granularity: string; grouping: { name: string }[] } };
    expect(sent.timeframe).toBe('Custom');
    expect(sent.dataset.granularity).toBe('Daily');
    expect(sent.dataset.grouping.map((g) => g.name)).toEqual(['ResourceGroupName', 'ServiceName']);
  });

  it('returns cost by resource id', async () => {
    const rows = await reader.costByResource(range);
    expect(rows.map((r) => r.cost).sort((a, b) => a - b)).toEqual([6, 24]);
  });

  it('marks billed days Actual and the rest Forecast', async () => {
    arm.setForecastDailyUsd(SUB, 7);
    const days = await reader.forecast({ from: new Date('2026-11-14T00:00:00Z'), to: new Date('2026-12-13T00:00:00Z') });
    expect(days.filter((d) => d.status === 'Actual').map((d) => d.date)).toEqual(['2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19']);
    const f = days.filter((d) => d.status === 'Forecast');
    expect(f[0]).toEqual({ date: '2026-11-20', cost: 7, currency: 'USD', status: 'Forecast' });
    expect(f.at(-1)?.date).toBe('2026-12-13');
  });
});

describe('retries and bad answers', () => {
  it.each([
    { status: 429, retryAfterSeconds: 1 },
    { status: 503, retryAfterSeconds: undefined },
    { status: 500, retryAfterSeconds: undefined },
  ])('survives $status twice through the SDK retry policy', async ({ status, retryAfterSeconds }) => {
    arm.inject({ path: /\/subscriptions\/[^/]+$/, status, times: 2, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    const s = await reader.getSubscription();
    expect(s.state).toBe('Enabled');
    expect(arm.requests.map((r) => r.status)).toEqual([status, status, 200]);
  });

  it('gives a coded error when 5xx persists past the retries', async () => {
    arm.inject({ path: /costmanagement\/query$/i, status: 500, times: 10 });
    const err = await reader.dailyCost({ from: new Date('2026-11-14'), to: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('AKS_AZURE_REQUEST_FAILED');
    expect((err as AppError).message).toContain('HTTP 500');
    expect(arm.requests.length).toBe(4);
  });

  it.each([
    { what: 'a body that is not JSON', rawBody: '<html>gateway</html>', path: /\/subscriptions\/[^/]+$/, call: () => reader.getSubscription() },
    { what: 'an unknown subscription state', rawBody: JSON.stringify({ subscriptionId: SUB, state: 'Sleeping' }), path: /\/subscriptions\/[^/]+$/, call: () => reader.getSubscription() },
    {
      what: 'a cost table without rows',
      rawBody: JSON.stringify({ properties: { columns: [{ name: 'Cost', type: 'Number' }] } }),
      path: /costmanagement\/query$/i,
      call: () => reader.dailyCost({ from: new Date('2026-11-14'), to: NOW }),
    },
    {
      what: 'a forecast row with a text cost',
      rawBody: JSON.stringify({
        properties: {
          columns: [{ name: 'Cost' }, { name: 'UsageDate' }, { name: 'CostStatus' }, { name: 'Currency' }],
          rows: [['12', 20261120, 'Forecast', 'USD']],
        },
      }),
      path: /costmanagement\/forecast$/i,
      call: () => reader.forecast({ from: new Date('2026-11-14'), to: NOW }),
    },
  ])('refuses $what with AKS_AZURE_RESPONSE_INVALID', async ({ rawBody, path, call }) => {
    arm.inject({ path, status: 200, rawBody, times: 1 });
    expect(await codeOf(call())).toBe('AKS_AZURE_RESPONSE_INVALID');
  });
});

describe('a disabled subscription', () => {
  it('still answers reads but refuses writes with 409 ReadOnlyDisabledSubscription', async () => {
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed' }));
    expect((await reader.getSubscription()).state).toBe('Disabled');
    expect((await reader.getCluster('rg-c', 'aks'))?.provisioningState).toBe('Failed');
    expect(await reader.dailyCost({ from: new Date('2026-11-14'), to: NOW })).not.toHaveLength(0);

    const put = clients.aks.managedClusters.createOrUpdate('rg-c', 'aks', { location: 'westeurope', kubernetesVersion: '1.32.7' });
    const err = await Promise.resolve(put).catch((e: unknown) => toAzureError(e, 'PUT managed cluster', 'prod'));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('AKS_AZURE_SUBSCRIPTION_DISABLED');
    expect(arm.requests.at(-1)).toMatchObject({ method: 'PUT', status: 409 });
  });
});
