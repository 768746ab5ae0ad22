import type { FakeAgentPool, FakeCluster, FakeCostEntry, FakeSubscription } from './server.js';

export const SUB = '11111111-2222-3333-4444-555555555555';

export function vsSubscription(over: Partial<FakeSubscription> = {}): FakeSubscription {
  return { state: 'Enabled', spendingLimit: 'On', quotaId: 'MSDN_2014-09-01', displayName: 'Visual Studio Enterprise', ...over };
}

export function agentPool(over: Partial<FakeAgentPool> = {}): FakeAgentPool {
  return { name: 'system', count: 2, vmSize: 'Standard_B2s', mode: 'System', provisioningState: 'Succeeded', powerState: 'Running', orchestratorVersion: '1.32.7', ...over };
}

export function cluster(over: Partial<FakeCluster> = {}): FakeCluster {
  return { provisioningState: 'Succeeded', powerState: 'Running', kubernetesVersion: '1.32.7', location: 'westeurope', agentPools: [agentPool()], ...over };
}

/** Daily entries from `from` (YYYY-MM-DD) for `days` days, split between the cluster and the durable group. */
export function dailyCosts(from: string, days: number, perDay: (i: number) => number): FakeCostEntry[] {
  const out: FakeCostEntry[] = [];
  const start = Date.parse(`${from}T00:00:00Z`);
  for (let i = 0; i < days; i++) {
    const date = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    const total = perDay(i);
    out.push({ date, cost: total * 0.8, resourceGroup: 'rg-c', service: 'Virtual Machines', resourceId: '/subscriptions/x/resourcegroups/mc_rg-c/providers/microsoft.compute/virtualmachinescalesets/aks-system' });
    out.push({ date, cost: total * 0.2, resourceGroup: 'rg-d', service: 'Storage', resourceId: '/subscriptions/x/resourcegroups/rg-d/providers/microsoft.storage/storageaccounts/st' });
  }
  return out;
}

/**
 * The `environments:` block of a test configuration: `prod` on the fake ARM (its CA written to caFile) and `local`
 * without Azure access, so a test covers both "reads Azure" and "says Azure is not configured".
 */
export function fakeArmEnvironmentsYaml(armUrl: string, caFile: string, prodCredit = '{ monthlyUsd: 150, safetyMarginUsd: 10, billingPeriodStartDay: 14 }'): string {
  return `environments:
  prod:
    azure: { subscriptionId: ${SUB}, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks, armEndpoint: "${armUrl}", armCaFile: "${caFile}" }
    credit: ${prodCredit}
  local:
    azure: { subscriptionId: 00000000-0000-0000-0000-000000000000, location: local, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks, credential: none }
    credit: { monthlyUsd: 50 }
`;
}
