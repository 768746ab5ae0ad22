import { CoreV1Api, type KubeConfig, type V1PersistentVolume } from '@kubernetes/client-node';
import { AppError } from '../errors/app-error.js';

// Which PersistentVolumes are snapshotted: every claimed volume backed by an Azure managed disk, read from the
// cluster's Kubernetes API. The CSI driver (disk.csi.azure.com) keeps the disk's ARM id as the volumeHandle; the
// older in-tree azureDisk volume keeps it as diskURI (kind Managed). Anything else cannot be snapshotted by Azure
// and is refused before anything is made, naming the volume (docs/snapshots.md).

export const AZURE_DISK_CSI_DRIVER = 'disk.csi.azure.com';

/** One volume to snapshot, with what a restore needs to give the chart the same claim again. */
export interface DiskVolume {
  readonly pv: string;
  readonly namespace: string;
  readonly claim: string;
  /** The managed disk's ARM id. */
  readonly diskId: string;
  /** The PV's capacity as Kubernetes writes it ("8Gi"). */
  readonly capacity: string;
  readonly storageClass: string | undefined;
  readonly accessModes: readonly string[];
}

const DISK_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/disks\/[^/]+$/i;

function classify(pv: V1PersistentVolume, namespace: string, claim: string, environment: string): DiskVolume {
  const name = pv.metadata?.name ?? '(unnamed)';
  const refuse = (reason: string) => new AppError('AKS_SNAPSHOT_VOLUME_UNSUPPORTED', { pv: name, claim: `${namespace}/${claim}`, reason, environment });
  const spec = pv.spec ?? {};
  let diskId: string | undefined;
  if (spec.csi) {
    if (spec.csi.driver !== AZURE_DISK_CSI_DRIVER) throw refuse(`its CSI driver is ${spec.csi.driver}, not ${AZURE_DISK_CSI_DRIVER}`);
    diskId = spec.csi.volumeHandle;
  } else if (spec.azureDisk) {
    if (spec.azureDisk.kind && spec.azureDisk.kind !== 'Managed') throw refuse(`it is an azureDisk of kind ${spec.azureDisk.kind}, not a managed disk`);
    diskId = spec.azureDisk.diskURI;
  } else {
    const kind = Object.keys(spec).find((k) => !['accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'volumeAttributesClassName'].includes(k));
    throw refuse(`it is a ${kind ?? 'volume of no known kind'}, not an Azure managed disk`);
  }
  if (!diskId || !DISK_ID.test(diskId)) throw refuse(`its disk reference ${diskId ?? '(none)'} is not the ARM id of a managed disk`);
  return {
    pv: name,
    namespace,
    claim,
    diskId,
    capacity: spec.capacity?.storage ?? '',
    storageClass: spec.storageClassName || undefined,
    accessModes: spec.accessModes?.length ? spec.accessModes : ['ReadWriteOnce'],
  };
}

/**
 * The claimed disk volumes of the cluster (or of `namespaces`), sorted by namespace and claim so that a resumed run
 * plans the same steps in the same order. An unclaimed volume holds nothing a chart would mount again: skipped.
 */
export async function listDiskVolumes(kc: KubeConfig, namespaces: readonly string[] | undefined, environment: string): Promise<DiskVolume[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const pvs = (await core.listPersistentVolume()).items;
  const out: DiskVolume[] = [];
  for (const pv of pvs) {
    const ref = pv.spec?.claimRef;
    if (!ref?.name || !ref.namespace) continue;
    if (namespaces && !namespaces.includes(ref.namespace)) continue;
    out.push(classify(pv, ref.namespace, ref.name, environment));
  }
  return out.sort((a, b) => `${a.namespace}/${a.claim}`.localeCompare(`${b.namespace}/${b.claim}`));
}
