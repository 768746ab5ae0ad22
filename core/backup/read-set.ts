import type { ContainerClient } from '@azure/storage-blob';
import { AppError } from '../errors/app-error.js';
import { archiveBlobName, type Manifest, manifestBlobName, parseManifest } from './manifest.js';

const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

/** Reads and validates the manifest of a set; a set without one is incomplete by definition. */
export async function readManifest(container: ContainerClient, prefix: string, id: string): Promise<Manifest> {
  let text: string;
  try {
    text = (await container.getBlockBlobClient(manifestBlobName(prefix, id)).downloadToBuffer()).toString('utf8');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const archive = await container.getBlockBlobClient(archiveBlobName(prefix, id)).exists();
    throw new AppError(archive ? 'AKS_BACKUP_MANIFEST_MISSING' : 'AKS_BACKUP_NOT_FOUND', { backupId: id, environment: prefix });
  }
  const manifest = parseManifest(text, id);
  if (manifest.archive.blob !== archiveBlobName(prefix, id)) {
    throw new AppError('AKS_BACKUP_MANIFEST_INVALID', { backupId: id, reason: `it points at ${manifest.archive.blob}, not at this set's archive` });
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
