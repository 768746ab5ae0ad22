import type { KubeConfig } from '@kubernetes/client-node';
import type { DiskSnapshots } from '../clients/arm/compute.js';
import type { Action, ActionStep } from '../engine/action.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { TAG, lastSegment, resourceName } from './tags.js';
import { listDiskVolumes, type DiskVolume } from './volumes.js';

// `snapshot`: an incremental snapshot of every disk volume into the durable resource group, one step per volume,
// then retention. The plan reads the cluster and Azure and refuses before anything is made: a volume that is not
// an Azure managed disk, or whose disk is gone. Each snapshot step records its Azure operation before it waits, so
// a resumed run polls it instead of sending a second PUT; a snapshot of that name that exists is not made again.

export interface SnapshotInput {
  readonly environment: string;
  readonly cluster: string;
  /** Where the snapshots go (tags.ts snapshotGroup: never MC_*). */
  readonly resourceGroup: string;
  /** The backup set the snapshots belong to, or `run-<id>` when the command runs on its own. */
  readonly backupSet: string;
  readonly namespaces: readonly string[] | undefined;
  readonly retentionDays: number;
  readonly compute: DiskSnapshots;
  readonly kube: KubeConfig;
  readonly store: Pick<Store, 'listBackupSets'>;
  readonly now: () => Date;
  readonly log: Logger;
}

const DAY_MS = 86_400_000;

async function plannedVolumes(input: SnapshotInput): Promise<{ volume: DiskVolume; location: string; sku: string | undefined; name: string }[]> {
  const volumes = await listDiskVolumes(input.kube, input.namespaces, input.environment);
  const out = [];
  for (const volume of volumes) {
    const disk = await input.compute.getDisk(volume.diskId);
    if (!disk) throw new AppError('AKS_SNAPSHOT_DISK_MISSING', { disk: volume.diskId, pv: volume.pv, claim: `${volume.namespace}/${volume.claim}` });
    out.push({ volume, location: disk.location, sku: disk.sku, name: resourceName('snap', input.environment, input.backupSet, volume.namespace, volume.claim) });
  }
  return out;
}

/** The snapshots retention may delete: this environment's, older than the limit, not of the newest verified set. */
async function expired(input: SnapshotInput) {
  const newestVerified = (await input.store.listBackupSets(input.environment)).find((s) => s.verifiedAt !== null && s.deletedAt === null)?.id;
  const cutoff = input.now().getTime() - input.retentionDays * DAY_MS;
  const all = await input.compute.listSnapshots(input.resourceGroup);
  return {
    newestVerified,
    remove: all.filter((s) => {
      if (s.tags[TAG.environment] !== input.environment) return false; // not made by this bot for this environment
      const set = s.tags[TAG.backupSet];
      if (set === input.backupSet || (newestVerified !== undefined && set === newestVerified)) return false;
      const created = s.timeCreated?.getTime() ?? Date.parse(s.tags[TAG.createdAt] ?? '');
      return Number.isFinite(created) && created < cutoff;
    }),
  };
}

export const snapshotAction: Action<SnapshotInput> = {
  name: 'snapshot',
  version: 1,
  async plan(input) {
    const volumes = await plannedVolumes(input);
    const steps: ActionStep<SnapshotInput>[] = volumes.map(({ volume, location, sku, name }) => ({
      name: `snapshot ${volume.namespace}/${volume.claim}`,
      touches: [`Azure: incremental snapshot ${input.resourceGroup}/${name} of disk ${lastSegment(volume.diskId)} (create)`],
      run: async (ctx) => {
        const tags = {
          [TAG.environment]: input.environment,
          [TAG.cluster]: input.cluster,
          [TAG.namespace]: volume.namespace,
          [TAG.claim]: volume.claim,
          [TAG.pv]: volume.pv,
          [TAG.backupSet]: input.backupSet,
          [TAG.createdAt]: input.now().toISOString(),
          [TAG.capacity]: volume.capacity,
          [TAG.accessModes]: volume.accessModes.join(','),
          ...(volume.storageClass ? { [TAG.storageClass]: volume.storageClass } : {}),
          ...(sku ? { [TAG.diskSku]: sku } : {}),
        };
        ctx.progress(`snapshotting ${volume.namespace}/${volume.claim}`);
        try {
          const s = await input.compute.ensureSnapshot(input.resourceGroup, name, { sourceDiskId: volume.diskId, location, tags }, ctx.operation, { signal: ctx.signal });
          return { snapshotId: s.id, name: s.name, namespace: volume.namespace, claim: volume.claim, disk: volume.diskId };
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const reason = isAppError(err) ? `${err.code}: ${err.message.replace(/\.+$/, '')}` : 'an unexpected error; see the bot log';
          throw new AppError('AKS_SNAPSHOT_FAILED', { disk: volume.diskId, claim: `${volume.namespace}/${volume.claim}`, reason }, { cause: err });
        }
      },
    }));
    steps.push({
      name: 'delete expired snapshots',
      touches: [`Azure: snapshots of ${input.environment} in ${input.resourceGroup} older than ${input.retentionDays} days (delete), except the newest verified backup set's`],
      run: async (ctx) => {
        const { remove, newestVerified } = await expired(input);
        for (const s of remove) {
          ctx.signal.throwIfAborted();
          await input.compute.deleteSnapshot(s.resourceGroup, s.name, { signal: ctx.signal });
        }
        return { deleted: remove.map((s) => s.name), kept: newestVerified ?? null };
      },
    });
    return steps;
  },
};
