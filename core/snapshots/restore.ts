import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, type V1PersistentVolume, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { DiskSnapshot, DiskSnapshots } from '../clients/arm/compute.js';
import type { Action, ActionStep } from '../engine/action.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { TAG, resourceName } from './tags.js';
import { AZURE_DISK_CSI_DRIVER } from './volumes.js';

// `restore volumes`: for each snapshot of a backup set, a managed disk copied from it (in the nodes' zone, or ZRS
// when the nodes span zones), then a static PersistentVolume on that disk and the claim with the exact name the
// chart uses, bound to each other before the chart is installed: the StatefulSet then adopts the claim instead of
// provisioning an empty one (docs/snapshots.md). Everything is checked before anything is made.

export interface RestoreVolumesInput {
  readonly environment: string;
  readonly resourceGroup: string;
  readonly backupSet: string;
  readonly compute: DiskSnapshots;
  readonly kube: KubeConfig;
  readonly log: Logger;
  /** How long the last step waits for every claim to be Bound. */
  readonly bindTimeoutMs?: number;
}

interface Planned {
  readonly snapshot: DiskSnapshot;
  readonly namespace: string;
  readonly claim: string;
  readonly diskName: string;
  readonly pvName: string;
  readonly capacity: string;
  readonly accessModes: string[];
  readonly storageClass: string | undefined;
}

/** Zonal disks need the zone of the nodes that will mount them; nodes in several zones get a ZRS disk. */
export interface Placement {
  readonly zone: string | undefined;
  readonly zoneLabel: string | undefined;
  readonly zrs: boolean;
}

async function placement(core: CoreV1Api): Promise<Placement> {
  const zones = new Set<string>();
  for (const n of (await core.listNode()).items) {
    const z = n.metadata?.labels?.['topology.kubernetes.io/zone'];
    // AKS labels nodes of a region without zones with zone "0"
    if (z && /-\d+$/.test(z)) zones.add(z);
  }
  if (zones.size === 1) {
    const label = [...zones][0]!;
    return { zone: label.slice(label.lastIndexOf('-') + 1), zoneLabel: label, zrs: false };
  }
  return { zone: undefined, zoneLabel: undefined, zrs: zones.size > 1 };
}

/** The restored disk's SKU: the source disk's, as ZRS when the nodes span zones (Standard HDD has no ZRS). */
export function restoredSku(source: string | undefined, zrs: boolean): string {
  const sku = source ?? 'StandardSSD_LRS';
  if (!zrs) return sku;
  if (sku === 'Premium_LRS') return 'Premium_ZRS';
  if (sku.endsWith('_ZRS')) return sku;
  return 'StandardSSD_ZRS';
}

const pvNameOf = (environment: string, backupSet: string, namespace: string, claim: string) => `restored-${resourceName('disk', environment, backupSet, namespace, claim).toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 253);

async function readOrUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

async function plannedClaims(input: RestoreVolumesInput, core: CoreV1Api): Promise<Planned[]> {
  const snaps = (await input.compute.listSnapshots(input.resourceGroup)).filter(
    (s) => s.tags[TAG.environment] === input.environment && s.tags[TAG.backupSet] === input.backupSet,
  );
  if (!snaps.length) throw new AppError('AKS_RESTORE_VOLUMES_NOT_FOUND', { backupId: input.backupSet, environment: input.environment, resourceGroup: input.resourceGroup });
  const out: Planned[] = [];
  for (const snapshot of snaps.sort((a, b) => a.name.localeCompare(b.name))) {
    const namespace = snapshot.tags[TAG.namespace];
    const claim = snapshot.tags[TAG.claim];
    const conflict = (reason: string) => new AppError('AKS_RESTORE_VOLUME_CONFLICT', { claim: `${namespace ?? '?'}/${claim ?? '?'}`, reason });
    if (!namespace || !claim) throw conflict(`snapshot ${snapshot.name} has no ${TAG.namespace}/${TAG.claim} tags, so the claim it belongs to is unknown`);
    if (snapshot.provisioningState && snapshot.provisioningState.toLowerCase() !== 'succeeded') throw conflict(`its snapshot ${snapshot.name} is ${snapshot.provisioningState}`);
    const pvName = pvNameOf(input.environment, input.backupSet, namespace, claim);
    const existing = await readOrUndefined(() => core.readNamespacedPersistentVolumeClaim({ name: claim, namespace }));
    if (existing && existing.spec?.volumeName !== pvName) {
      throw conflict(existing.spec?.volumeName ? `it exists and is bound to volume ${existing.spec.volumeName}` : 'it exists already (the chart may be installed)');
    }
    out.push({
      snapshot,
      namespace,
      claim,
      diskName: resourceName('disk', input.environment, input.backupSet, namespace, claim),
      pvName,
      capacity: snapshot.tags[TAG.capacity] || `${snapshot.sizeGb ?? 1}Gi`,
      accessModes: (snapshot.tags[TAG.accessModes] || 'ReadWriteOnce').split(','),
      storageClass: snapshot.tags[TAG.storageClass] || undefined,
    });
  }
  return out;
}

function staticVolume(p: Planned, diskId: string, where: Placement): V1PersistentVolume {
  return {
    metadata: { name: p.pvName, labels: { 'app.kubernetes.io/managed-by': 'aks-lifecycle-bot' }, annotations: { [TAG.restoredFrom]: p.snapshot.id } },
    spec: {
      capacity: { storage: p.capacity },
      accessModes: p.accessModes,
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: 'Filesystem',
      ...(p.storageClass ? { storageClassName: p.storageClass } : {}),
      csi: { driver: AZURE_DISK_CSI_DRIVER, volumeHandle: diskId, fsType: 'ext4' },
      // pre-bound to the claim, so nothing else can take the volume
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: p.namespace, name: p.claim },
      ...(where.zoneLabel
        ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.disk.csi.azure.com/zone', operator: 'In', values: [where.zoneLabel] }] }] } } }
        : {}),
    },
  };
}

function claimFor(p: Planned): V1PersistentVolumeClaim {
  return {
    metadata: { name: p.claim, namespace: p.namespace, annotations: { [TAG.restoredFrom]: p.snapshot.id } },
    spec: {
      accessModes: p.accessModes,
      resources: { requests: { storage: p.capacity } },
      // an empty class keeps a default StorageClass from being filled in, which would stop the binding
      storageClassName: p.storageClass ?? '',
      volumeMode: 'Filesystem',
      volumeName: p.pvName,
    },
  };
}

/** Creates the object, or accepts the one already there when `same` says it is ours. */
async function ensureObject<T>(what: string, create: () => Promise<T>, read: () => Promise<T>, same: (t: T) => boolean, claim: string): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    if (!same(await read())) throw new AppError('AKS_RESTORE_VOLUME_CONFLICT', { claim, reason: `${what} exists already and is not the one this restore makes` });
  }
}

export const restoreVolumesAction: Action<RestoreVolumesInput> = {
  name: 'restore-volumes',
  version: 1,
  async plan(input) {
    const core = input.kube.makeApiClient(CoreV1Api);
    const claims = await plannedClaims(input, core);
    const where = await placement(core);
    const steps: ActionStep<RestoreVolumesInput>[] = [];
    for (const p of claims) {
      const label = `${p.namespace}/${p.claim}`;
      const sku = restoredSku(p.snapshot.tags[TAG.diskSku], where.zrs);
      const fail = (err: unknown, signal: AbortSignal) => {
        if (signal.aborted || (isAppError(err) && err.code === 'AKS_RESTORE_VOLUME_CONFLICT')) return err;
        const reason = isAppError(err) ? `${err.code}: ${err.message.replace(/\.+$/, '')}` : `the Kubernetes API answered ${(err as { code?: number }).code ?? 'with an error'}`;
        return new AppError('AKS_RESTORE_VOLUME_FAILED', { claim: label, snapshot: p.snapshot.name, reason }, { cause: err });
      };
      steps.push({
        name: `disk for ${label}`,
        touches: [`Azure: managed disk ${input.resourceGroup}/${p.diskName} (${sku}${where.zone ? `, zone ${where.zone}` : ''}) from snapshot ${p.snapshot.name} (create)`],
        run: async (ctx) => {
          ctx.progress(`restoring the disk of ${label}`);
          try {
            const tags = { [TAG.environment]: input.environment, [TAG.backupSet]: input.backupSet, [TAG.namespace]: p.namespace, [TAG.claim]: p.claim, [TAG.restoredFrom]: p.snapshot.name };
            const disk = await input.compute.ensureDiskFromSnapshot(input.resourceGroup, p.diskName, { snapshotId: p.snapshot.id, location: p.snapshot.location, zone: where.zone, sku, tags }, ctx.operation, { signal: ctx.signal });
            return { diskId: disk.id };
          } catch (err) {
            throw fail(err, ctx.signal);
          }
        },
      });
      steps.push({
        name: `volume and claim ${label}`,
        touches: [`Kubernetes: PersistentVolume ${p.pvName} (csi ${AZURE_DISK_CSI_DRIVER}, ext4, Retain) and PersistentVolumeClaim ${label} bound to it (create)`],
        run: async (ctx) => {
          const diskId = String(ctx.outputs(`disk for ${label}`).diskId);
          try {
            await ensureObject('namespace', () => core.createNamespace({ body: { metadata: { name: p.namespace } } }), () => core.readNamespace({ name: p.namespace }), () => true, label);
            await ensureObject(
              `volume ${p.pvName}`,
              () => core.createPersistentVolume({ body: staticVolume(p, diskId, where) }),
              () => core.readPersistentVolume({ name: p.pvName }),
              (pv) => pv.spec?.csi?.volumeHandle?.toLowerCase() === diskId.toLowerCase(),
              label,
            );
            await ensureObject(
              `claim ${label}`,
              () => core.createNamespacedPersistentVolumeClaim({ namespace: p.namespace, body: claimFor(p) }),
              () => core.readNamespacedPersistentVolumeClaim({ name: p.claim, namespace: p.namespace }),
              (c) => c.spec?.volumeName === p.pvName,
              label,
            );
            return { pv: p.pvName, claim: label, diskId };
          } catch (err) {
            throw fail(err, ctx.signal);
          }
        },
      });
    }
    steps.push({
      name: 'wait until every claim is bound',
      touches: claims.map((p) => `Kubernetes: PersistentVolumeClaim ${p.namespace}/${p.claim} (read)`),
      run: async (ctx) => {
        const deadline = Date.now() + (input.bindTimeoutMs ?? 120_000);
        for (const p of claims) {
          for (;;) {
            const c = await core.readNamespacedPersistentVolumeClaim({ name: p.claim, namespace: p.namespace });
            if (c.status?.phase === 'Bound' && c.spec?.volumeName === p.pvName) break;
            if (Date.now() > deadline) {
              throw new AppError('AKS_RESTORE_VOLUME_FAILED', { claim: `${p.namespace}/${p.claim}`, snapshot: p.snapshot.name, reason: `the claim is ${c.status?.phase ?? 'not bound'} after the wait, not Bound to ${p.pvName}` });
            }
            await sleep(250, undefined, { signal: ctx.signal });
          }
        }
        return { bound: claims.map((p) => `${p.namespace}/${p.claim}`) };
      },
    });
    return steps;
  },
};
