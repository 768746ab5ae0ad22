// What the cluster's pods request of its nodes, and which disks its PersistentVolumes use, read through
// @kubernetes/client-node. The requests/allocatable sums are the library's own `topNodes` (what `kubectl describe
// node` shows under "Allocated resources"), so the bot does not parse quantities itself.
import { CoreV1Api, topNodes, type KubeConfig } from '@kubernetes/client-node';
import type { ClusterView, NodeUsage } from './rules.js';
import { allSettledOrThrow } from '../util/settle.js';

/** AKS labels every node with its agent pool (both spellings exist; the prefixed one is current). */
const POOL_LABELS = ['kubernetes.azure.com/agentpool', 'agentpool'];

const num = (v: number | bigint) => Number(v);

export async function readClusterUsage(kc: KubeConfig): Promise<Pick<ClusterView, 'nodes' | 'pvDiskIds' | 'pvNames'>> {
  const core = kc.makeApiClient(CoreV1Api);
  const [status, pvs] = await allSettledOrThrow([topNodes(core), core.listPersistentVolume()]);
  const nodes: NodeUsage[] = status.map((s) => {
    const labels = s.Node.metadata?.labels ?? {};
    return {
      node: s.Node.metadata?.name ?? '',
      pool: POOL_LABELS.map((l) => labels[l]).find((v) => v !== undefined),
      allocatableCpu: num(s.CPU.Capacity),
      allocatableMemory: num(s.Memory.Capacity),
      requestedCpu: num(s.CPU.RequestTotal),
      requestedMemory: num(s.Memory.RequestTotal),
    };
  });
  const pvDiskIds = new Set<string>();
  const pvNames = new Set<string>();
  for (const pv of pvs.items) {
    if (pv.metadata?.name) pvNames.add(pv.metadata.name);
    const handle = pv.spec?.csi?.driver === 'disk.csi.azure.com' ? pv.spec.csi.volumeHandle : pv.spec?.azureDisk?.diskURI;
    if (handle) pvDiskIds.add(handle.toLowerCase());
  }
  return { nodes, pvDiskIds, pvNames };
}
