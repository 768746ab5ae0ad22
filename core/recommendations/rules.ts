// The recommendation rules: pure functions of what was read (no I/O), so each rule is tested from a table.
import type { AgentPoolDetail, DiskInfo, PublicIpInfo, SnapshotInfo, VmSizeInfo } from '../clients/arm/inventory.js';
import { DISK_USD_PER_GIB_MONTH, PUBLIC_IP_USD_MONTH, SNAPSHOT_USD_PER_GIB_MONTH, standardFor } from './prices.js';
import { recommendationId, type KeptResource, type Recommendation, type RecommendationSet } from './types.js';

export interface RecommendSettings {
  /** A pool whose requests use less than this share of its allocatable CPU and memory is underused. */
  readonly lowRequestRatio: number;
  /** The share of allocatable the suggested node count or VM size aims at. */
  readonly targetRequestRatio: number;
  /** An unattached disk younger than this may be a disk being created or restored right now. */
  readonly orphanDiskMinAgeHours: number;
  readonly snapshotMaxAgeDays: number;
  /** Monitoring (Log Analytics, Container Insights, Azure Monitor) above this share of all cost is flagged. */
  readonly monitoringMaxShare: number;
}

/** Where the lifecycle keeps what must survive, and what the cluster needs. */
export interface Protection {
  readonly durableResourceGroup: string;
  readonly clusterResourceGroup: string;
  /** The Rocket.Chat public host name: a public IP that serves it is never removed. */
  readonly hostname: string | undefined;
}

/** Requests and allocatable of one node (CPU in cores, memory in bytes). */
export interface NodeUsage {
  readonly node: string;
  readonly pool: string | undefined;
  readonly allocatableCpu: number;
  readonly allocatableMemory: number;
  readonly requestedCpu: number;
  readonly requestedMemory: number;
}

export interface ClusterView {
  readonly pools: readonly AgentPoolDetail[];
  readonly nodes: readonly NodeUsage[];
  /** Disk ids (lowercase) that PersistentVolumes use, and the PV names (the CSI driver tags its disks with them). */
  readonly pvDiskIds: ReadonlySet<string>;
  readonly pvNames: ReadonlySet<string>;
}

export interface RecommendInput {
  readonly now: Date;
  readonly settings: RecommendSettings;
  readonly protection: Protection;
  readonly disks: readonly DiskInfo[];
  readonly snapshots: readonly SnapshotInfo[];
  readonly publicIps: readonly PublicIpInfo[];
  /** 'absent': no cluster (torn down); 'unreadable': it exists but its API could not be read (reason in notes). */
  readonly cluster: ClusterView | 'absent' | 'unreadable';
  readonly vmSizes: readonly VmSizeInfo[];
  /** Billed cost per resource id over `costDays` days of the billing period. */
  readonly costByResource: readonly { readonly resourceId: string; readonly cost: number }[];
  readonly costDays: number;
}

/** The CSI driver tags each disk it creates with the PV's name (azuredisk-csi-driver). */
export const CSI_PV_TAG = 'kubernetes.io-created-for-pv-name';
/** A snapshot that is part of a backup set carries this tag with the set's id: it is a restore point. */
export const BACKUP_SET_TAG = 'aks-bot-backup-set';
/** Tags the Azure cloud provider puts on a Service's public IP: the cluster manages it. */
const SERVICE_IP_TAGS = ['k8s-azure-service', 'k8s-azure-cluster-name', 'aks-managed-type'];

const DAY_MS = 86_400_000;
const GIB = 1024 ** 3;
const round2 = (n: number) => Math.round(n * 100) / 100;
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const money = (n: number) => `$${n.toFixed(2)}`;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const sortedTags = (t: Readonly<Record<string, string>>) => Object.entries(t).sort(([a], [b]) => a.localeCompare(b));

class Costs {
  private readonly byId = new Map<string, number>();
  readonly total: number;
  constructor(
    rows: RecommendInput['costByResource'],
    readonly days: number,
  ) {
    for (const r of rows) this.byId.set(r.resourceId.toLowerCase(), (this.byId.get(r.resourceId.toLowerCase()) ?? 0) + r.cost);
    this.total = rows.reduce((a, r) => a + r.cost, 0);
  }
  /** Monthly (30-day) cost from the billed days, or undefined without rows. */
  monthly(resourceId: string): number | undefined {
    const c = this.byId.get(resourceId.toLowerCase());
    return c === undefined || this.days <= 0 ? undefined : (c / this.days) * 30;
  }
  /** Monthly cost of every resource whose id matches. */
  monthlyWhere(match: (id: string) => boolean): { usd: number; ids: string[] } | undefined {
    const hits = [...this.byId.entries()].filter(([id]) => match(id));
    if (!hits.length || this.days <= 0) return undefined;
    return { usd: (hits.reduce((a, [, c]) => a + c, 0) / this.days) * 30, ids: hits.map(([id]) => id) };
  }
}

function diskState(d: DiskInfo): unknown[] {
  return [d.state, d.managedBy ?? '', d.sku, d.sizeGb, d.timeCreated?.toISOString() ?? '', sortedTags(d.tags)];
}

/** Orphaned (unattached) managed disks, and Premium disks that could be Standard. */
function diskRules(input: RecommendInput, costs: Costs, kept: KeptResource[]): Recommendation[] {
  const out: Recommendation[] = [];
  const { settings, protection } = input;
  for (const d of input.disks) {
    const unattached = d.state === 'Unattached' && !d.managedBy;
    const ageHours = d.timeCreated ? (input.now.getTime() - d.timeCreated.getTime()) / 3_600_000 : Number.POSITIVE_INFINITY;
    const pvName = d.tags[CSI_PV_TAG];
    const cluster = input.cluster;
    const inUseByPv = typeof cluster === 'object' && (cluster.pvDiskIds.has(d.id.toLowerCase()) || (pvName !== undefined && cluster.pvNames.has(pvName)));
    // Why a disk must not be removed automatically, if there is a reason; the first one wins.
    const hold = inUseByPv
      ? `a PersistentVolume of the cluster uses it${pvName ? ` (${pvName})` : ''}`
      : same(d.resourceGroup, protection.durableResourceGroup)
        ? 'it is in the durable resource group, where the lifecycle keeps data it restores from'
        : same(d.resourceGroup, protection.clusterResourceGroup)
          ? 'it is in the cluster resource group, which the cluster layer (Terraform) owns: remove it there'
          : cluster === 'unreadable' && pvName !== undefined
          ? `the cluster could not be read to check whether PersistentVolume ${pvName} still uses it`
          : cluster === 'absent' && pvName !== undefined && !input.snapshots.some((s) => s.sourceResourceId !== undefined && same(s.sourceResourceId, d.id))
            ? `it held PersistentVolume ${pvName} of a cluster that is gone and no snapshot of it exists`
            : undefined;

    if (unattached && ageHours >= settings.orphanDiskMinAgeHours) {
      if (inUseByPv) {
        kept.push({ resourceId: d.id, reason: `unattached, but ${hold}` });
      } else {
        const billed = costs.monthly(d.id);
        const listed = d.sizeGb * (DISK_USD_PER_GIB_MONTH[d.sku] ?? DISK_USD_PER_GIB_MONTH.Standard_LRS!);
        out.push({
          id: recommendationId('disk-orphaned', d.id, diskState(d)),
          kind: 'disk-orphaned',
          resourceId: d.id,
          resourceName: d.name,
          what: `Delete the unattached disk ${d.name} (${d.sku}, ${d.sizeGb} GiB) in ${d.resourceGroup}.`,
          why: `It is attached to nothing (diskState ${d.state}) and was created ${Number.isFinite(ageHours) ? `${(ageHours / 24).toFixed(1)} days` : 'an unknown time'} ago; no PersistentVolume uses it.`,
          basis: { diskState: d.state, sizeGb: d.sizeGb, sku: d.sku, ageDays: Number.isFinite(ageHours) ? round2(ageHours / 24) : 'unknown' },
          monthlySavingUsd: round2(billed ?? listed),
          savingSource: billed !== undefined ? 'cost-rows' : 'estimated',
          savingNote: billed !== undefined ? `its billed cost over ${costs.days} days, per 30 days` : `no cost rows for it yet: list price of ${d.sku} × ${d.sizeGb} GiB`,
          apply: hold ? { automatic: false, reason: `not deleted automatically: ${hold}` } : { automatic: true, action: 'delete-disk' },
        });
        // A disk to delete needs no cheaper SKU; one that is kept may still be moved to Standard below.
        if (!hold) continue;
      }
    }

    const to = standardFor(d.sku);
    if (to) {
      const ratio = (DISK_USD_PER_GIB_MONTH[to] ?? 0) / (DISK_USD_PER_GIB_MONTH[d.sku] ?? 1);
      const billed = costs.monthly(d.id);
      const listed = d.sizeGb * (DISK_USD_PER_GIB_MONTH[d.sku] ?? 0);
      const saving = (billed ?? listed) * (1 - ratio);
      const canApply = unattached;
      out.push({
        id: recommendationId('disk-premium', d.id, diskState(d)),
        kind: 'disk-premium',
        resourceId: d.id,
        resourceName: d.name,
        what: `Change disk ${d.name} from ${d.sku} to ${to}.`,
        why: `A ${d.sizeGb} GiB ${d.sku} disk costs about ${pct(1 - ratio)} more than ${to}; a Rocket.Chat MongoDB volume of this size stays within Standard SSD's IOPS (the bot reads no IO metrics: check the disk's metrics if the workload is IO-heavy).`,
        basis: { sku: d.sku, sizeGb: d.sizeGb, diskState: d.state, priceRatio: round2(ratio) },
        monthlySavingUsd: round2(saving),
        savingSource: 'estimated',
        savingNote: billed !== undefined ? `its billed cost over ${costs.days} days, per 30 days, × the list-price difference` : `no cost rows for it yet: list prices of ${d.sku} and ${to}`,
        apply: canApply
          ? { automatic: true, action: 'set-disk-sku', toSku: to }
          : { automatic: false, reason: `it is attached${d.managedBy ? ` to ${d.managedBy}` : ''}: Azure changes a disk's SKU only while it is unattached or its VM is deallocated, which for a node means draining it` },
      });
    }
  }
  return out;
}

/** Snapshots older than the retention, except restore points: the newest per source disk and backup-set members. */
function snapshotRules(input: RecommendInput, costs: Costs, kept: KeptResource[]): Recommendation[] {
  const out: Recommendation[] = [];
  const newest = new Map<string, SnapshotInfo>();
  for (const s of input.snapshots) {
    const src = s.sourceResourceId?.toLowerCase();
    if (!src) continue;
    const cur = newest.get(src);
    if (!cur || (s.timeCreated?.getTime() ?? 0) > (cur.timeCreated?.getTime() ?? 0)) newest.set(src, s);
  }
  for (const s of input.snapshots) {
    if (!s.timeCreated) continue;
    const ageDays = (input.now.getTime() - s.timeCreated.getTime()) / DAY_MS;
    if (ageDays <= input.settings.snapshotMaxAgeDays) continue;
    const set = s.tags[BACKUP_SET_TAG];
    if (set !== undefined) {
      kept.push({ resourceId: s.id, reason: `older than ${input.settings.snapshotMaxAgeDays} days, but it is a restore point of backup set ${set}` });
      continue;
    }
    const src = s.sourceResourceId?.toLowerCase();
    if (src && newest.get(src) === s) {
      kept.push({ resourceId: s.id, reason: `older than ${input.settings.snapshotMaxAgeDays} days, but it is the newest snapshot of ${s.sourceResourceId}` });
      continue;
    }
    const billed = costs.monthly(s.id);
    const listed = s.sizeGb * (SNAPSHOT_USD_PER_GIB_MONTH[s.sku ?? 'Standard_LRS'] ?? SNAPSHOT_USD_PER_GIB_MONTH.Standard_LRS!);
    out.push({
      id: recommendationId('snapshot-old', s.id, [s.sizeGb, s.timeCreated.toISOString(), s.sourceResourceId ?? '', sortedTags(s.tags)]),
      kind: 'snapshot-old',
      resourceId: s.id,
      resourceName: s.name,
      what: `Delete the snapshot ${s.name} (${s.sizeGb} GiB${s.incremental ? ', incremental' : ''}) in ${s.resourceGroup}.`,
      why: `It is ${ageDays.toFixed(0)} days old (retention ${input.settings.snapshotMaxAgeDays} days), is not part of a backup set, and a newer snapshot of the same disk exists${s.sourceResourceId ? '' : ' or it has no source disk'}.`,
      basis: { ageDays: round2(ageDays), retentionDays: input.settings.snapshotMaxAgeDays, sizeGb: s.sizeGb },
      monthlySavingUsd: round2(billed ?? listed),
      savingSource: billed !== undefined ? 'cost-rows' : 'estimated',
      savingNote: billed !== undefined
        ? `its billed cost over ${costs.days} days, per 30 days`
        : `no cost rows for it: list price × its full ${s.sizeGb} GiB${s.incremental ? ' (an upper bound: incremental snapshots bill only their changes)' : ''}`,
      apply: { automatic: true, action: 'delete-snapshot' },
    });
  }
  return out;
}

/** Public IPs attached to nothing, except the durable ingress IP and those the cluster's cloud provider manages. */
function ipRules(input: RecommendInput, costs: Costs, kept: KeptResource[]): Recommendation[] {
  const out: Recommendation[] = [];
  const host = input.protection.hostname?.toLowerCase();
  for (const p of input.publicIps) {
    if (p.associatedWith) continue;
    const tagValues = Object.values(p.tags).map((v) => v.toLowerCase());
    const reason = same(p.resourceGroup, input.protection.durableResourceGroup)
      ? 'it is in the durable resource group: the ingress keeps its static IP across teardown, unassociated while torn down'
      : same(p.resourceGroup, input.protection.clusterResourceGroup)
        ? 'it is in the cluster resource group, which the cluster layer (Terraform) owns'
        : host && (p.fqdn?.toLowerCase() === host || tagValues.includes(host))
        ? `it serves the Rocket.Chat host name ${input.protection.hostname}`
        : SERVICE_IP_TAGS.some((t) => t in p.tags)
          ? 'the cluster manages it (Service or AKS tags)'
          : undefined;
    if (reason) {
      kept.push({ resourceId: p.id, reason: `unassociated, but ${reason}` });
      continue;
    }
    const billed = costs.monthly(p.id);
    const listed = PUBLIC_IP_USD_MONTH[p.sku ?? 'Standard'] ?? PUBLIC_IP_USD_MONTH.Standard!;
    out.push({
      id: recommendationId('ip-unassociated', p.id, [p.associatedWith ?? '', p.ipAddress ?? '', p.fqdn ?? '', p.sku ?? '', sortedTags(p.tags)]),
      kind: 'ip-unassociated',
      resourceId: p.id,
      resourceName: p.name,
      what: `Delete the unassociated public IP ${p.name}${p.ipAddress ? ` (${p.ipAddress})` : ''} in ${p.resourceGroup}.`,
      why: `No network interface, load balancer or NAT gateway uses it, and it is neither the durable ingress IP nor the Rocket.Chat host's.`,
      basis: { sku: p.sku ?? 'unknown', allocation: p.allocation ?? 'unknown' },
      monthlySavingUsd: round2(billed ?? listed),
      savingSource: billed !== undefined ? 'cost-rows' : 'estimated',
      savingNote: billed !== undefined ? `its billed cost over ${costs.days} days, per 30 days` : `no cost rows for it: list price of a ${p.sku ?? 'Standard'} static IP`,
      apply: { automatic: true, action: 'delete-public-ip' },
    });
  }
  return out;
}

const ADVICE = 'the bot does not resize the cluster: change the node pool in the cluster layer (Terraform) so the next recreate keeps it, or with az aks nodepool';

/** Node pools whose pods request little of what their nodes offer, and VM sizes larger than the pods ask for. */
function poolRules(input: RecommendInput, cluster: ClusterView, costs: Costs): Recommendation[] {
  const out: Recommendation[] = [];
  const { settings } = input;
  for (const pool of cluster.pools) {
    const nodes = cluster.nodes.filter((n) => n.pool === pool.name);
    if (!nodes.length || pool.count === 0) continue;
    const sum = (f: (n: NodeUsage) => number) => nodes.reduce((a, n) => a + f(n), 0);
    const cpuRatio = sum((n) => n.requestedCpu) / sum((n) => n.allocatableCpu);
    const memRatio = sum((n) => n.requestedMemory) / sum((n) => n.allocatableMemory);
    const used = Math.max(cpuRatio, memRatio);
    // The VMSS of a pool is named aks-<pool>-<hash>-vmss in the node resource group.
    const poolCost = costs.monthlyWhere((id) => id.includes(`/virtualmachinescalesets/aks-${pool.name.toLowerCase()}-`));
    const basis = { nodes: pool.count, vmSize: pool.vmSize, cpuRequestRatio: round2(cpuRatio), memoryRequestRatio: round2(memRatio) };
    const minNodes = pool.enableAutoScaling ? Math.max(1, pool.minCount ?? 1) : 1;
    const needed = Math.max(1, Math.ceil((pool.count * used) / settings.targetRequestRatio));
    if (used < settings.lowRequestRatio && needed < pool.count) {
      const saving = poolCost ? (poolCost.usd * (pool.count - needed)) / pool.count : 0;
      out.push({
        id: recommendationId('pool-underused', `${pool.name}`, []),
        kind: 'pool-underused',
        resourceId: pool.name,
        resourceName: pool.name,
        what: pool.enableAutoScaling && minNodes > needed
          ? `Lower the autoscaler minimum of node pool ${pool.name} from ${minNodes} to ${needed}.`
          : `Scale node pool ${pool.name} from ${pool.count} to ${needed} node${needed === 1 ? '' : 's'}.`,
        why: `Its pods request ${pct(cpuRatio)} of the allocatable CPU and ${pct(memRatio)} of the memory on ${nodes.length} node${nodes.length === 1 ? '' : 's'} (below ${pct(settings.lowRequestRatio)}); ${needed} node${needed === 1 ? '' : 's'} would run at about ${pct((used * pool.count) / needed)} (target ${pct(settings.targetRequestRatio)}).`,
        basis,
        monthlySavingUsd: round2(saving),
        savingSource: poolCost ? 'cost-rows' : 'estimated',
        savingNote: poolCost ? `the pool's scale set cost over ${costs.days} days, per 30 days, × ${pool.count - needed}/${pool.count} nodes` : 'no cost rows for the pool\'s scale set: saving unknown (shown as 0)',
        apply: { automatic: false, reason: ADVICE },
      });
    }

    const size = input.vmSizes.find((s) => same(s.name, pool.vmSize));
    if (!size) continue;
    // AKS reserves part of each VM for the kubelet and the OS: keep the same reserved share on a smaller size.
    const allocCpuShare = Math.min(1, nodes[0]!.allocatableCpu / size.vCpus);
    const allocMemShare = Math.min(1, nodes[0]!.allocatableMemory / (size.memoryGb * GIB));
    const needCpu = Math.max(...nodes.map((n) => n.requestedCpu)) / settings.targetRequestRatio;
    const needMem = Math.max(...nodes.map((n) => n.requestedMemory)) / settings.targetRequestRatio;
    const smaller = input.vmSizes
      .filter((s) => !s.restricted && s.family === size.family && s.vCpus <= size.vCpus && s.memoryGb <= size.memoryGb && (s.vCpus < size.vCpus || s.memoryGb < size.memoryGb))
      .filter((s) => s.vCpus * allocCpuShare >= needCpu && s.memoryGb * GIB * allocMemShare >= needMem)
      .sort((a, b) => a.vCpus - b.vCpus || a.memoryGb - b.memoryGb)[0];
    if (!smaller) continue;
    const ratio = smaller.vCpus / size.vCpus;
    const saving = poolCost ? poolCost.usd * (1 - ratio) : 0;
    out.push({
      id: recommendationId('vm-oversized', `${pool.name}/${pool.vmSize}`, []),
      kind: 'vm-oversized',
      resourceId: pool.name,
      resourceName: pool.name,
      what: `Use ${smaller.name} (${smaller.vCpus} vCPU, ${smaller.memoryGb} GiB) instead of ${size.name} (${size.vCpus} vCPU, ${size.memoryGb} GiB) for node pool ${pool.name}.`,
      why: `The busiest node's pods request ${Math.max(...nodes.map((n) => n.requestedCpu)).toFixed(2)} CPU and ${(Math.max(...nodes.map((n) => n.requestedMemory)) / GIB).toFixed(2)} GiB; ${smaller.name} still leaves them at or below ${pct(settings.targetRequestRatio)} of its allocatable.`,
      basis: { ...basis, suggestedSize: smaller.name, maxNodeCpuRequest: round2(Math.max(...nodes.map((n) => n.requestedCpu))), maxNodeMemoryGiBRequest: round2(Math.max(...nodes.map((n) => n.requestedMemory)) / GIB) },
      monthlySavingUsd: round2(saving),
      savingSource: 'estimated',
      savingNote: poolCost
        ? `the pool's scale set cost over ${costs.days} days, per 30 days, × (1 − ${smaller.vCpus}/${size.vCpus} vCPUs): prices within a family scale about with vCPUs`
        : 'no cost rows for the pool\'s scale set: saving unknown (shown as 0)',
      apply: { automatic: false, reason: `${ADVICE}; a new VM size means a new node pool and moving the workloads` },
    });
  }
  return out;
}

const MONITORING = ['/microsoft.operationalinsights/', '/microsoft.insights/', '/microsoft.alertsmanagement/', '/microsoft.monitor/', '/microsoft.dashboard/'];

/** Monitoring that costs more than its share of the bill. */
function monitoringRule(input: RecommendInput, costs: Costs): Recommendation[] {
  if (costs.total <= 0) return [];
  const m = costs.monthlyWhere((id) => MONITORING.some((p) => id.includes(p)));
  if (!m) return [];
  const totalMonthly = (costs.total / costs.days) * 30;
  const share = m.usd / totalMonthly;
  if (share <= input.settings.monitoringMaxShare) return [];
  const ids = [...m.ids].sort();
  return [
    {
      id: recommendationId('monitoring-share', ids.join(','), []),
      kind: 'monitoring-share',
      resourceId: ids[0]!,
      resourceName: ids.map((i) => i.split('/').pop()).join(', '),
      what: 'Cut monitoring cost: a daily cap and 30-day retention on the Log Analytics workspace, Basic logs for ContainerLogV2, or Container Insights only while the budget allows.',
      why: `Monitoring costs ${money(m.usd)} of ${money(totalMonthly)} per 30 days (${pct(share)}), above its ${pct(input.settings.monitoringMaxShare)} share.`,
      basis: { monitoringUsdPer30Days: round2(m.usd), totalUsdPer30Days: round2(totalMonthly), share: round2(share), maxShare: input.settings.monitoringMaxShare },
      monthlySavingUsd: round2(m.usd - input.settings.monitoringMaxShare * totalMonthly),
      savingSource: 'cost-rows',
      savingNote: `what it costs above its share, from the cost rows of ${costs.days} days`,
      apply: { automatic: false, reason: 'monitoring settings live in the cluster layer and the Log Analytics workspace: change them there (the bot does not edit them)' },
    },
  ];
}

export function recommend(input: RecommendInput): RecommendationSet {
  const costs = new Costs(input.costByResource, input.costDays);
  const kept: KeptResource[] = [];
  const notes: string[] = [];
  const recs: Recommendation[] = [...diskRules(input, costs, kept), ...snapshotRules(input, costs, kept), ...ipRules(input, costs, kept)];
  if (typeof input.cluster === 'object') recs.push(...poolRules(input, input.cluster, costs));
  else if (input.cluster === 'absent') notes.push('The cluster does not exist (torn down?): no node pool or VM size advice.');
  recs.push(...monitoringRule(input, costs));
  if (input.costByResource.length === 0) notes.push('No cost rows for this billing period yet: savings are list-price estimates.');
  recs.sort((a, b) => b.monthlySavingUsd - a.monthlySavingUsd || a.id.localeCompare(b.id));
  return { recommendations: recs, kept, notes };
}
