import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { isNodeResourceGroup, type EnvironmentConfig } from '../config/schema.js';

// The tags every snapshot carries, so that a restore finds a backup set's snapshots and gives the chart its claims
// back by the exact names, and retention knows what it may delete. Azure tag names may not contain / < > % & \ ?,
// hence the dashes. The backup-set tag is the one `cost recommend` also reads to keep restore points.

export const TAG = {
  environment: 'aks-bot-environment',
  cluster: 'aks-bot-cluster',
  namespace: 'aks-bot-namespace',
  claim: 'aks-bot-pvc',
  pv: 'aks-bot-pv',
  backupSet: 'aks-bot-backup-set',
  createdAt: 'aks-bot-created-at',
  capacity: 'aks-bot-capacity',
  storageClass: 'aks-bot-storage-class',
  accessModes: 'aks-bot-access-modes',
  diskSku: 'aks-bot-disk-sku',
  restoredFrom: 'aks-bot-restored-from',
} as const;

const short = (parts: readonly string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12);

/**
 * A name that is the same for the same claim in the same set (so a repeated step finds what it made), unique across
 * sets and environments, and within Azure's rules for disks and snapshots (1-80 letters, digits, _ . -; starting
 * with a letter or digit, ending with a letter, digit or _).
 */
export function resourceName(kind: 'snap' | 'disk', environment: string, backupSet: string, namespace: string, claim: string): string {
  const readable = claim.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 50);
  return `${readable}-${kind}-${short([kind, environment, backupSet, namespace, claim])}`;
}

/** The group snapshots and restored disks go to: snapshots.resourceGroup, else the durable resource group; never MC_*. */
export function snapshotGroup(environment: string, env: EnvironmentConfig): string {
  const group = env.snapshots.resourceGroup ?? env.azure.durableResourceGroup;
  // the configuration refuses it at start too; this holds for a configuration built any other way
  if (isNodeResourceGroup(group)) throw new AppError('AKS_SNAPSHOT_GROUP_REFUSED', { environment, resourceGroup: group });
  return group;
}

/** The name at the end of an ARM id, for messages. */
export const lastSegment = (id: string): string => id.split('/').filter(Boolean).at(-1) ?? id;
