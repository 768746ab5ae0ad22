import type { ContainerClient } from '@azure/storage-blob';
import { AppError } from '../errors/app-error.js';
import { archiveBlobName, type Manifest, manifestBlobName, parseManifest } from './manifest.js';
import { checkManifestSignature, manifestSignatureBlobName } from './signature.js';
import type { BackupDeps } from './types.js';

const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

/**
 * Reads and validates the manifest of a set; a set without one is incomplete by definition. NOT its signature: for
 * listings and records only. Anything that reads the archive or restores goes through readSignedManifest.
 */
export async function readManifest(container: ContainerClient, prefix: string, id: string): Promise<Manifest> {
  return (await fetchManifest(container, prefix, id)).manifest;
}

async function fetchManifest(container: ContainerClient, prefix: string, id: string): Promise<{ bytes: Buffer; manifest: Manifest }> {
  let bytes: Buffer;
  try {
    bytes = await container.getBlockBlobClient(manifestBlobName(prefix, id)).downloadToBuffer();
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const archive = await container.getBlockBlobClient(archiveBlobName(prefix, id)).exists();
    throw new AppError(archive ? 'AKS_BACKUP_MANIFEST_MISSING' : 'AKS_BACKUP_NOT_FOUND', { backupId: id, environment: prefix });
  }
  const manifest = parseManifest(bytes.toString('utf8'), id);
  if (manifest.archive.blob !== archiveBlobName(prefix, id)) {
    throw new AppError('AKS_BACKUP_MANIFEST_INVALID', { backupId: id, reason: `it points at ${manifest.archive.blob}, not at this set's archive` });
  }
  return { bytes, manifest };
}

/**
 * The manifest of a set, trusted: its signature (manifest.json.sig) verified by Key Vault with the configured
 * signing key, and the wrapping key it names is the configured one. Reads only those two small blobs, so an unsigned,
 * wrongly signed or re-pointed set is refused before any of its data is read (docs/backup-format.md).
 */
export async function readSignedManifest(deps: Pick<BackupDeps, 'container' | 'prefix' | 'keys' | 'signer'>, id: string): Promise<Manifest> {
  const { bytes, manifest } = await fetchManifest(deps.container, deps.prefix, id);
  let signature: string | undefined;
  try {
    signature = (await deps.container.getBlockBlobClient(manifestSignatureBlobName(deps.prefix, id)).downloadToBuffer()).toString('utf8');
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await checkManifestSignature(deps.signer, id, bytes, signature);
  if (!deps.keys.accepts(manifest.key.keyId)) {
    throw new AppError('AKS_BACKUP_KEY_NOT_PINNED', { backupId: id, what: 'manifest', keyId: manifest.key.keyId, expected: deps.keys.pinned });
  }
  return manifest;
}

export interface SetListing {
  readonly id: string;
  readonly hasManifest: boolean;
  readonly hasArchive: boolean;
  readonly lastModified: Date;
}

/** Every set folder under the prefix, complete or not (retention also removes leftovers of failed runs). */
export async function listSets(container: ContainerClient, prefix: string): Promise<SetListing[]> {
  const sets = new Map<string, { hasManifest: boolean; hasArchive: boolean; lastModified: Date }>();
  for await (const b of container.listBlobsFlat({ prefix: `${prefix}/` })) {
    const [id, file] = b.name.slice(prefix.length + 1).split('/');
    if (!id || !file) continue;
    const s = sets.get(id) ?? { hasManifest: false, hasArchive: false, lastModified: b.properties.lastModified };
    if (file === 'manifest.json') s.hasManifest = true;
    if (file === 'mongo.archive.enc') s.hasArchive = true;
    if (b.properties.lastModified > s.lastModified) s.lastModified = b.properties.lastModified;
    sets.set(id, s);
  }
  return [...sets].map(([id, s]) => ({ id, ...s })).sort((a, b) => a.id.localeCompare(b.id));
}
