import { describe, expect, it } from 'vitest';
import type { DiskInfo, PublicIpInfo, SnapshotInfo, VmSizeInfo } from '../../../../core/clients/arm/inventory.js';
import { BACKUP_SET_TAG, CSI_PV_TAG, recommend, type ClusterView, type NodeUsage, type RecommendInput } from '../../../../core/recommendations/rules.js';
import { parseRecommendationId, RECOMMENDATION_ID_PATTERN } from '../../../../core/recommendations/types.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const SUB = '/subscriptions/11111111-2222-3333-4444-555555555555';
const GIB = 1024 ** 3;
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

const disk = (over: Partial<DiskInfo> = {}): DiskInfo => {
  const name = over.name ?? 'pvc-1';
  const rg = over.resourceGroup ?? 'MC_rg-c_aks_westeurope';
  return { id: `${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${name}`, name, resourceGroup: rg, location: 'westeurope', sku: 'StandardSSD_LRS', sizeGb: 8, state: 'Unattached', managedBy: undefined, timeCreated: daysAgo(10), tags: {}, ...over };
};
const snap = (over: Partial<SnapshotInfo> = {}): SnapshotInfo => {
  const name = over.name ?? 'snap-1';
  return { id: `${SUB}/resourceGroups/rg-d/providers/Microsoft.Compute/snapshots/${name}`, name, resourceGroup: 'rg-d', location: 'westeurope', sku: 'Standard_LRS', sizeGb: 8, timeCreated: daysAgo(40), sourceResourceId: `${SUB}/resourceGroups/rg-x/providers/Microsoft.Compute/disks/data`, incremental: true, tags: {}, ...over };
};
const ip = (over: Partial<PublicIpInfo> = {}): PublicIpInfo => {
  const name = over.name ?? 'pip-1';
  const rg = over.resourceGroup ?? 'rg-other';
  return { id: `${SUB}/resourceGroups/${rg}/providers/Microsoft.Network/publicIPAddresses/${name}`, name, resourceGroup: rg, location: 'westeurope', sku: 'Standard', allocation: 'Static', ipAddress: '20.1.2.3', associatedWith: undefined, fqdn: undefined, tags: {}, ...over };
};
const node = (name: string, pool: string, cpuReq: number, memReqGiB: number): NodeUsage => ({
  node: name,
  pool,
  allocatableCpu: 3.86,
  allocatableMemory: 12.5 * GIB,
  requestedCpu: cpuReq,
  requestedMemory: memReqGiB * GIB,
});
const SIZES: VmSizeInfo[] = [
  { name: 'Standard_D2s_v5', family: 'standardDSv5Family', vCpus: 2, memoryGb: 8, restricted: false },
  { name: 'Standard_D4s_v5', family: 'standardDSv5Family', vCpus: 4, memoryGb: 16, restricted: false },
  { name: 'Standard_B2s', family: 'standardBSFamily', vCpus: 2, memoryGb: 4, restricted: false },
];
const cluster = (nodes: NodeUsage[], over: Partial<ClusterView> = {}): ClusterView => ({
  pools: [{ name: 'user', count: nodes.length, vmSize: 'Standard_D4s_v5', mode: 'User', enableAutoScaling: false, minCount: undefined, maxCount: undefined }],
  nodes,
  pvDiskIds: new Set(),
  pvNames: new Set(),
  ...over,
});

function input(over: Partial<RecommendInput> = {}): RecommendInput {
  return {
    now: NOW,
    settings: { lowRequestRatio: 0.5, targetRequestRatio: 0.75, orphanDiskMinAgeHours: 24, snapshotMaxAgeDays: 30, monitoringMaxShare: 0.1 },
    protection: { durableResourceGroup: 'rg-d', clusterResourceGroup: 'rg-c', hostname: 'chat.example.org' },
    disks: [],
    snapshots: [],
    publicIps: [],
    cluster: 'absent',
    vmSizes: SIZES,
    costByResource: [],
    costDays: 10,
    ...over,
  };
}

const kinds = (i: RecommendInput) => recommend(i).recommendations.map((r) => `${r.kind}:${r.resourceName}:${r.apply.automatic ? 'auto' : 'advice'}`);

describe('disk rules', () => {
  it.each<[string, Partial<RecommendInput>, string[]]>([
    ['an old unattached disk is orphaned and deletable', { disks: [disk()] }, ['disk-orphaned:pvc-1:auto']],
    ['an attached disk is not orphaned', { disks: [disk({ state: 'Attached', managedBy: '/subscriptions/x/vm' })] }, []],
    ['a disk created an hour ago may be a restore in progress', { disks: [disk({ timeCreated: new Date(NOW.getTime() - 3_600_000) })] }, []],
    ['a disk in the durable group is advice only', { disks: [disk({ resourceGroup: 'RG-D' })] }, ['disk-orphaned:pvc-1:advice']],
    ['a disk in the cluster resource group is advice only', { disks: [disk({ resourceGroup: 'rg-c' })] }, ['disk-orphaned:pvc-1:advice']],
    [
      'a disk a PersistentVolume uses is kept',
      { disks: [disk({ tags: { [CSI_PV_TAG]: 'pvc-abc' } })], cluster: cluster([], { pvNames: new Set(['pvc-abc']) }) },
      [],
    ],
    ['a CSI disk while the cluster cannot be read is advice only', { disks: [disk({ tags: { [CSI_PV_TAG]: 'pvc-abc' } })], cluster: 'unreadable' }, ['disk-orphaned:pvc-1:advice']],
    ['a CSI disk of a torn-down cluster without a snapshot is advice only', { disks: [disk({ tags: { [CSI_PV_TAG]: 'pvc-abc' } })] }, ['disk-orphaned:pvc-1:advice']],
    [
      'a CSI disk of a torn-down cluster with a snapshot of it can go',
      { disks: [disk({ tags: { [CSI_PV_TAG]: 'pvc-abc' } })], snapshots: [snap({ sourceResourceId: disk().id.toUpperCase(), timeCreated: daysAgo(1) })] },
      ['disk-orphaned:pvc-1:auto'],
    ],
    ['an attached Premium disk: Standard is advice only', { disks: [disk({ sku: 'Premium_LRS', state: 'Attached', managedBy: '/subscriptions/x/vm' })] }, ['disk-premium:pvc-1:advice']],
    [
      'an unattached Premium disk in the durable group: keep it, but Standard is applicable',
      { disks: [disk({ sku: 'Premium_LRS', resourceGroup: 'rg-d' })] },
      ['disk-orphaned:pvc-1:advice', 'disk-premium:pvc-1:auto'],
    ],
    ['an orphaned Premium disk is only deleted, not re-SKUed', { disks: [disk({ sku: 'Premium_LRS' })] }, ['disk-orphaned:pvc-1:auto']],
  ])('%s', (_name, over, expected) => {
    expect(kinds(input(over)).sort()).toEqual(expected.sort());
  });

  it('takes the saving from the disk\'s cost rows when there are some, else from list prices', () => {
    const d = disk({ sku: 'Premium_LRS', sizeGb: 128 });
    const [billed] = recommend(input({ disks: [d], costByResource: [{ resourceId: d.id.toUpperCase(), cost: 6 }], costDays: 10 })).recommendations;
    expect(billed).toMatchObject({ monthlySavingUsd: 18, savingSource: 'cost-rows' });
    const [listed] = recommend(input({ disks: [d] })).recommendations;
    expect(listed).toMatchObject({ monthlySavingUsd: 19.71, savingSource: 'estimated' });
    expect(listed!.savingNote).toMatch(/list price/);
  });

  it('gives a stable id that changes when the disk does', () => {
    const a = recommend(input({ disks: [disk()] })).recommendations[0]!.id;
    expect(recommend(input({ disks: [disk()] })).recommendations[0]!.id).toBe(a);
    expect(a).toMatch(RECOMMENDATION_ID_PATTERN);
    const resized = recommend(input({ disks: [disk({ sizeGb: 16 })] })).recommendations[0]!.id;
    expect(resized).not.toBe(a);
    expect(parseRecommendationId(resized)!.resourceHash).toBe(parseRecommendationId(a)!.resourceHash);
  });
});

describe('snapshot rules', () => {
  const src = (n: string) => `${SUB}/resourceGroups/rg-x/providers/Microsoft.Compute/disks/${n}`;
  it.each<[string, SnapshotInfo[], string[]]>([
    ['a young snapshot stays', [snap({ timeCreated: daysAgo(5) })], []],
    ['the only (newest) snapshot of a disk is its restore point', [snap()], []],
    ['an old one with a newer one of the same disk goes', [snap({ name: 'old' }), snap({ name: 'new', timeCreated: daysAgo(1) })], ['snapshot-old:old:auto']],
    ['a backup-set member stays however old', [snap({ name: 'old', tags: { [BACKUP_SET_TAG]: '20261001T020000Z-abc' } }), snap({ name: 'new', timeCreated: daysAgo(1) })], []],
    ['newest is per source disk', [snap({ name: 'a', sourceResourceId: src('a') }), snap({ name: 'b', sourceResourceId: src('b'), timeCreated: daysAgo(60) })], []],
  ])('%s', (_name, snapshots, expected) => {
    expect(kinds(input({ snapshots }))).toEqual(expected);
  });

  it('says why a restore point is kept', () => {
    const kept = recommend(input({ snapshots: [snap()] })).kept;
    expect(kept[0]?.reason).toMatch(/newest snapshot/);
  });
});

describe('public IP rules', () => {
  it.each<[string, PublicIpInfo, string[]]>([
    ['an unassociated IP goes', ip(), ['ip-unassociated:pip-1:auto']],
    ['an associated IP stays', ip({ associatedWith: '/subscriptions/x/nic/ipconfig1' }), []],
    ['the durable ingress IP stays, unassociated while torn down', ip({ resourceGroup: 'rg-d' }), []],
    ['an IP of the cluster layer stays', ip({ resourceGroup: 'RG-C' }), []],
    ['the IP serving the Rocket.Chat host name stays', ip({ fqdn: 'CHAT.example.org' }), []],
    ['an IP the cloud provider manages stays', ip({ tags: { 'k8s-azure-service': 'ingress/nginx' } }), []],
  ])('%s', (_name, p, expected) => {
    expect(kinds(input({ publicIps: [p] }))).toEqual(expected);
  });
});

describe('node pool and VM size rules', () => {
  it.each<[string, NodeUsage[], string[]]>([
    ['busy pool: nothing', [node('n1', 'user', 3, 10), node('n2', 'user', 3, 10)], []],
    ['3 nodes at 20 %: scale to 1 and a smaller size', [node('n1', 'user', 0.8, 2), node('n2', 'user', 0.8, 2), node('n3', 'user', 0.7, 2)], ['pool-underused:user:advice', 'vm-oversized:user:advice']],
    ['low CPU but memory-heavy: not underused, no smaller size', [node('n1', 'user', 0.2, 11), node('n2', 'user', 0.2, 11)], []],
  ])('%s', (_name, nodes, expected) => {
    expect(kinds(input({ cluster: cluster(nodes) })).sort()).toEqual(expected.sort());
  });

  it('computes the node count, the smaller size and the saving from the pool\'s scale set cost', () => {
    const nodes = [node('n1', 'user', 0.8, 2), node('n2', 'user', 0.8, 2), node('n3', 'user', 0.7, 2)];
    const vmss = `${SUB}/resourcegroups/mc_rg-c_aks_westeurope/providers/microsoft.compute/virtualmachinescalesets/aks-user-12345678-vmss`;
    const recs = recommend(input({ cluster: cluster(nodes), costByResource: [{ resourceId: vmss, cost: 30 }], costDays: 10 })).recommendations;
    const pool = recs.find((r) => r.kind === 'pool-underused')!;
    expect(pool.what).toBe('Scale node pool user from 3 to 1 node.');
    expect(pool.basis).toMatchObject({ cpuRequestRatio: 0.2, nodes: 3 });
    expect(pool).toMatchObject({ monthlySavingUsd: 60, savingSource: 'cost-rows' });
    const vm = recs.find((r) => r.kind === 'vm-oversized')!;
    expect(vm.basis.suggestedSize).toBe('Standard_D2s_v5');
    expect(vm).toMatchObject({ monthlySavingUsd: 45, savingSource: 'estimated' });
    expect(pool.apply).toMatchObject({ automatic: false });
  });

  it('notes a torn-down cluster instead of advising on pools', () => {
    expect(recommend(input()).notes.join(' ')).toMatch(/does not exist/);
  });
});

describe('monitoring rule', () => {
  const law = `${SUB}/resourceGroups/rg-c/providers/Microsoft.OperationalInsights/workspaces/law`;
  const vm = `${SUB}/resourceGroups/mc/providers/Microsoft.Compute/virtualMachineScaleSets/aks-system-1-vmss`;
  it.each<[string, number, number, number | undefined]>([
    ['under its share', 1, 20, undefined],
    ['30 % of the bill', 6, 14, 12],
  ])('%s', (_name, monitoring, rest, saving) => {
    const recs = recommend(input({ costByResource: [{ resourceId: law, cost: monitoring }, { resourceId: vm, cost: rest }], costDays: 10 })).recommendations;
    const m = recs.find((r) => r.kind === 'monitoring-share');
    if (saving === undefined) expect(m).toBeUndefined();
    else expect(m).toMatchObject({ monthlySavingUsd: saving, savingSource: 'cost-rows', apply: { automatic: false } });
  });
});
