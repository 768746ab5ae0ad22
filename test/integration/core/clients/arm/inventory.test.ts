import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAzureInventory, createInventoryClients, type AzureInventory } from '../../../../../core/clients/arm/inventory.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { SUB, agentPool, cluster, vsSubscription } from '../../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../../fakes/arm/server.js';
import { codeOf, fakeCredential } from '../../../../helpers/errors.js';

/**
 * The inventory module against the FAKE Azure Resource Manager (no real ARM runs here), through the unmodified
 * @azure/arm-compute, @azure/arm-network and @azure/arm-containerservice clients: paged lists, resource SKUs,
 * long-running DELETE and PATCH with Azure-AsyncOperation polling, retries, refusals and malformed answers.
 */
const NOW = new Date('2026-11-26T12:00:00Z');
const rid = (rg: string, type: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/${type}/${name}`;
let arm: FakeArm;
let inv: AzureInventory;

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  const clients = createInventoryClients({ subscriptionId: SUB, credential: fakeCredential(), endpoint: arm.url, ca: arm.ca, retry: { retryDelayInMs: 20, maxRetryDelayInMs: 100, maxRetries: 3 } });
  inv = createAzureInventory({ clients, environment: 'prod', log: createLogger({ level: 'silent', redactor: new Redactor() }), pollIntervalMs: 10 });
});
afterAll(async () => arm.close());

beforeEach(() => {
  arm.requests.length = 0;
  arm.clearFaults();
  arm.inventory.reset();
  arm.setSubscription(SUB, vsSubscription());
  arm.setCluster(SUB, 'rg-c', 'aks', cluster({ agentPools: [agentPool(), agentPool({ name: 'user', mode: 'User', count: 3, vmSize: 'Standard_D4s_v5' })] }));
  for (let i = 0; i < 5; i++) {
    arm.inventory.setDisk(SUB, { name: `d${i}`, resourceGroup: 'rg-x', location: 'westeurope', sku: i === 0 ? 'Premium_LRS' : 'StandardSSD_LRS', sizeGb: 8 * (i + 1), state: 'Unattached', timeCreated: '2026-11-01T00:00:00Z', tags: { n: String(i) } });
  }
  arm.inventory.setDisk(SUB, { name: 'os', resourceGroup: 'rg-x', location: 'westeurope', sku: 'Premium_LRS', sizeGb: 128, state: 'Attached', managedBy: '/subscriptions/x/vm/1', timeCreated: '2026-11-01T00:00:00Z' });
  arm.inventory.setSnapshot(SUB, { name: 's1', resourceGroup: 'rg-d', location: 'westeurope', sku: 'Standard_LRS', sizeGb: 8, timeCreated: '2026-10-01T00:00:00Z', sourceResourceId: rid('rg-x', 'Microsoft.Compute/disks', 'd1'), incremental: true });
  arm.inventory.setPublicIp(SUB, { name: 'pip-free', resourceGroup: 'rg-x', location: 'westeurope', sku: 'Standard', allocation: 'Static', ipAddress: '20.0.0.1' });
  arm.inventory.setPublicIp(SUB, { name: 'pip-used', resourceGroup: 'rg-x', location: 'westeurope', sku: 'Standard', allocation: 'Static', ipAddress: '20.0.0.2', ipConfigurationId: '/subscriptions/x/lb/frontend', fqdn: 'x.westeurope.cloudapp.azure.com' });
});

describe('reads', () => {
  it('lists every disk across pages, with state, SKU, size and owner', async () => {
    arm.inventory.setListPageSize(2);
    const disks = await inv.listDisks();
    expect(disks.map((d) => d.name).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'os']);
    expect(disks.find((d) => d.name === 'os')).toMatchObject({ sku: 'Premium_LRS', sizeGb: 128, state: 'Attached', managedBy: '/subscriptions/x/vm/1', resourceGroup: 'rg-x' });
    expect(disks.find((d) => d.name === 'd0')?.timeCreated?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    const lists = arm.requests.filter((r) => r.path === `/subscriptions/${SUB}/providers/Microsoft.Compute/disks`);
    expect(lists).toHaveLength(3);
    expect(lists[0]?.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('reads snapshots, public IPs (associated or not), agent pools and VM sizes', async () => {
    const [snaps, ips, pools, sizes] = await Promise.all([inv.listSnapshots(), inv.listPublicIps(), inv.listAgentPools('rg-c', 'aks'), inv.listVmSizes('westeurope')]);
    expect(snaps[0]).toMatchObject({ name: 's1', incremental: true, sizeGb: 8, sourceResourceId: rid('rg-x', 'Microsoft.Compute/disks', 'd1') });
    expect(ips.find((p) => p.name === 'pip-free')).toMatchObject({ associatedWith: undefined, ipAddress: '20.0.0.1', sku: 'Standard' });
    expect(ips.find((p) => p.name === 'pip-used')).toMatchObject({ associatedWith: '/subscriptions/x/lb/frontend', fqdn: 'x.westeurope.cloudapp.azure.com' });
    expect(pools?.map((p) => [p.name, p.count, p.vmSize])).toEqual([['system', 2, 'Standard_B2s'], ['user', 3, 'Standard_D4s_v5']]);
    expect(sizes.find((s) => s.name === 'Standard_D4s_v5')).toEqual({ name: 'Standard_D4s_v5', family: 'standardDSv5Family', vCpus: 4, memoryGb: 16, restricted: false });
    expect(sizes.find((s) => s.name === 'Standard_D16s_v5')?.restricted).toBe(true);
    expect(sizes.every((s) => s.name.startsWith('Standard_'))).toBe(true); // the disk SKUs in the answer are skipped
    const skuCall = arm.requests.find((r) => r.path.endsWith('/providers/Microsoft.Compute/skus'));
    expect(skuCall?.apiVersion).toBe('2021-07-01');
  });

  it('gives undefined for a missing disk and for the agent pools of a torn-down cluster', async () => {
    expect(await inv.getDisk(rid('rg-x', 'Microsoft.Compute/disks', 'nope'))).toBeUndefined();
    arm.setCluster(SUB, 'rg-c', 'aks', undefined);
    expect(await inv.listAgentPools('rg-c', 'aks')).toBeUndefined();
  });

  it('survives 429 with Retry-After and 503 through the SDK retry policy', async () => {
    arm.inject({ path: /Microsoft\.Compute\/disks$/, status: 429, retryAfterSeconds: 1, times: 1 });
    arm.inject({ path: /publicIPAddresses$/, status: 503, times: 2 });
    const [disks, ips] = await Promise.all([inv.listDisks(), inv.listPublicIps()]);
    expect(disks).toHaveLength(6);
    expect(ips).toHaveLength(2);
    expect(arm.requests.filter((r) => r.status === 429 || r.status === 503)).toHaveLength(3);
  });

  it('gives up after the retries with a coded error', async () => {
    arm.inject({ path: /Microsoft\.Compute\/snapshots$/, status: 500, times: 10 });
    expect(await codeOf(inv.listSnapshots())).toBe('AKS_AZURE_REQUEST_FAILED');
  });

  it.each([
    { what: 'a body that is not JSON', path: /Microsoft\.Compute\/disks$/, rawBody: '<html>gateway</html>', call: () => inv.listDisks() },
    { what: 'a list that is not a list', path: /Microsoft\.Compute\/disks$/, rawBody: JSON.stringify({ value: 5 }), call: () => inv.listDisks() },
    {
      what: 'a disk without its state',
      path: /Microsoft\.Compute\/disks$/,
      rawBody: JSON.stringify({ value: [{ id: rid('rg-x', 'Microsoft.Compute/disks', 'x'), name: 'x', location: 'westeurope', sku: { name: 'Premium_LRS' }, properties: { diskSizeGB: 8 } }] }),
      call: () => inv.listDisks(),
    },
    {
      what: 'a VM size without numbers',
      path: /Microsoft\.Compute\/skus$/,
      rawBody: JSON.stringify({ value: [{ resourceType: 'virtualMachines', name: 'Standard_X', capabilities: [{ name: 'vCPUs', value: 'many' }] }] }),
      call: () => inv.listVmSizes('westeurope'),
    },
    { what: 'an IP list of strings', path: /publicIPAddresses$/, rawBody: JSON.stringify({ value: ['a', 'b'] }), call: () => inv.listPublicIps() },
  ])('refuses $what with AKS_AZURE_RESPONSE_INVALID', async ({ path, rawBody, call }) => {
    arm.inject({ path, status: 200, rawBody, times: 1 });
    expect(await codeOf(call())).toBe('AKS_AZURE_RESPONSE_INVALID');
  });
});

describe('long-running changes', () => {
  it('deletes a disk: 202, polls Azure-AsyncOperation until Succeeded, and the disk is gone only then', async () => {
    arm.inventory.setLroPolls(2);
    await inv.deleteDisk(rid('rg-x', 'Microsoft.Compute/disks', 'd1'));
    expect(arm.inventory.disk(SUB, 'rg-x', 'd1')).toBeUndefined();
    const seq = arm.requests.map((r) => `${r.method} ${r.status} ${r.path.replace(/DiskOperations\/[0-9a-f-]{36}$/, 'DiskOperations/{op}')}`);
    expect(seq).toEqual([
      `DELETE 202 /subscriptions/${SUB}/resourceGroups/rg-x/providers/Microsoft.Compute/disks/d1`,
      `GET 200 /subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/DiskOperations/{op}`,
      `GET 200 /subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/DiskOperations/{op}`,
      `GET 200 /subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/DiskOperations/{op}`,
    ]);
  });

  it('changes an unattached disk to Standard SSD with a PATCH and returns the disk as Azure has it after', async () => {
    const d = await inv.setDiskSku(rid('rg-x', 'Microsoft.Compute/disks', 'd0'), 'StandardSSD_LRS');
    expect(d).toMatchObject({ name: 'd0', sku: 'StandardSSD_LRS' });
    expect(arm.inventory.disk(SUB, 'rg-x', 'd0')?.sku).toBe('StandardSSD_LRS');
    expect(arm.requests[0]).toMatchObject({ method: 'PATCH', status: 202, body: { sku: { name: 'StandardSSD_LRS' } } });
  });

  it('deletes an unassociated public IP through the network operations endpoint', async () => {
    await inv.deletePublicIp(rid('rg-x', 'Microsoft.Network/publicIPAddresses', 'pip-free'));
    expect(arm.inventory.publicIp(SUB, 'rg-x', 'pip-free')).toBeUndefined();
    expect(arm.requests.some((r) => /Microsoft\.Network\/locations\/westeurope\/operations\//.test(r.path))).toBe(true);
  });

  it.each([
    { what: 'an attached disk', call: () => inv.deleteDisk(rid('rg-x', 'Microsoft.Compute/disks', 'os')), status: 409 },
    { what: 'the SKU of an attached disk', call: () => inv.setDiskSku(rid('rg-x', 'Microsoft.Compute/disks', 'os'), 'StandardSSD_LRS'), status: 409 },
    { what: 'an associated public IP', call: () => inv.deletePublicIp(rid('rg-x', 'Microsoft.Network/publicIPAddresses', 'pip-used')), status: 400 },
  ])('Azure refuses to change $what, and the refusal is a coded error', async ({ call, status }) => {
    expect(await codeOf(call())).toBe('AKS_AZURE_REQUEST_FAILED');
    expect(arm.requests[0]?.status).toBe(status);
    expect(arm.inventory.disk(SUB, 'rg-x', 'os')?.sku).toBe('Premium_LRS');
    expect(arm.inventory.publicIp(SUB, 'rg-x', 'pip-used')).toBeDefined();
  });

  it('a disabled subscription refuses the SKU change (409) but still allows deletes, as Azure does', async () => {
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    expect(await codeOf(inv.setDiskSku(rid('rg-x', 'Microsoft.Compute/disks', 'd0'), 'StandardSSD_LRS'))).toBe('AKS_AZURE_SUBSCRIPTION_DISABLED');
    expect(arm.inventory.disk(SUB, 'rg-x', 'd0')?.sku).toBe('Premium_LRS');
    await inv.deleteDisk(rid('rg-x', 'Microsoft.Compute/disks', 'd0'));
    expect(arm.inventory.disk(SUB, 'rg-x', 'd0')).toBeUndefined();
  });

  it('refuses an id of another subscription or type before sending anything', async () => {
    expect(await codeOf(inv.deleteDisk('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/r/providers/Microsoft.Compute/disks/x'))).toBe('AKS_AZURE_RESPONSE_INVALID');
    expect(await codeOf(inv.deleteDisk(rid('rg-x', 'Microsoft.Compute/snapshots', 's1')))).toBe('AKS_AZURE_RESPONSE_INVALID');
    expect(arm.requests).toHaveLength(0);
  });
});
