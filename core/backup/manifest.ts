import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');
const isoTime = z.iso.datetime();
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const collectionStatSchema = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  /** SHA-256 over the canonical Extended JSON of every document, ordered by _id (see mongo/content.ts). */
  sha256,
});
export type CollectionStat = z.infer<typeof collectionStatSchema>;

/**
 * What a complete backup set is. Written LAST, after the archive blob is committed, so "has a manifest" and
 * "is complete" are the same thing. Blob layout: `<prefix>/<id>/mongo.archive.enc` and `<prefix>/<id>/manifest.json`.
 */
export const manifestSchema = z.strictObject({
  manifestVersion: z.literal(1),
  id: z.string().regex(BACKUP_ID_PATTERN),
  environment: z.string().min(1),
  startedAt: isoTime,
  finishedAt: isoTime,
  mongo: z.strictObject({
    database: z.string().min(1),
    /** A point-in-time dump (replica set). Without it, consistency came from the before/after content check. */
    oplog: z.boolean(),
    consistency: z.enum(['oplog', 'unchanged-during-dump']),
    serverVersion: z.string(),
    collections: z.array(collectionStatSchema),
  }),
  archive: z.strictObject({
    blob: z.string().min(1),
    format: z.literal('AKSB/1'),
    chunkSize: z.number().int().positive(),
    plaintext: z.strictObject({ bytes: z.number().int().nonnegative(), sha256 }),
    ciphertext: z.strictObject({ bytes: z.number().int().nonnegative(), sha256 }),
  }),
  key: z.strictObject({ keyId: z.string().min(1), algorithm: z.string().min(1) }),
  versions: z.strictObject({
    mongodump: z.string(),
    bot: z.string(),
    chart: z.string().optional(),
    app: z.string().optional(),
  }),
});
export type Manifest = z.infer<typeof manifestSchema>;

export function parseManifest(text: string, expectedId: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('AKS_BACKUP_MANIFEST_INVALID', { backupId: expectedId, reason: 'it is not JSON' });
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const reason = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('AKS_BACKUP_MANIFEST_INVALID', { backupId: expectedId, reason });
  }
  if (r.data.id !== expectedId) throw new AppError('AKS_BACKUP_ID_MISMATCH', { what: 'manifest', found: r.data.id, expected: expectedId });
  return r.data;
}

export const archiveBlobName = (prefix: string, id: string) => `${prefix}/${id}/mongo.archive.enc`;
export const manifestBlobName = (prefix: string, id: string) => `${prefix}/${id}/manifest.json`;

/** Sortable, readable ids: 20261126T020000Z-3fa9c1 (UTC time of the start plus randomness against collisions). */
export function newBackupId(now: Date, random: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${random}`;
}

/** Per-collection differences between two stat lists, as short readable lines (empty when equal). */
export function compareCollections(expected: readonly CollectionStat[], actual: readonly CollectionStat[]): string[] {
  const out: string[] = [];
  const got = new Map(actual.map((c) => [c.name, c]));
  for (const e of expected) {
    const a = got.get(e.name);
    if (!a) out.push(`${e.name}: missing`);
    else if (a.count !== e.count) out.push(`${e.name}: ${a.count} documents, expected ${e.count}`);
    else if (a.sha256 !== e.sha256) out.push(`${e.name}: same count (${e.count}) but different content`);
    got.delete(e.name);
  }
  for (const name of got.keys()) out.push(`${name}: not in the backup`);
  return out;
}
