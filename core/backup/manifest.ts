import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');
const isoTime = z.iso.datetime();
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Version 1 (before the archive was parsed in-stream): SHA-256 over sorted canonical Extended JSON. Read only. */
const collectionStatV1Schema = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  sha256,
});

export const collectionStatSchema = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().nonnegative(),
  /** Order-independent digest of the documents, per `mongo.hashScheme` (see mongo/archive.ts MultisetDigest). */
  digest: z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits'),
  /**
   * The dump's oplog changes this collection: after a restore with --oplogReplay it is newer than the archive's
   * documents, so count and digest describe the archive, not the restored collection (a drill, which restores
   * without replay, still compares them exactly).
   */
  changedDuringDump: z.literal(true).optional(),
});
export type CollectionStat = z.infer<typeof collectionStatSchema>;

const archiveSchema = z.strictObject({
  blob: z.string().min(1),
  format: z.literal('AKSB/1'),
  chunkSize: z.number().int().positive(),
  plaintext: z.strictObject({ bytes: z.number().int().nonnegative(), sha256 }),
  ciphertext: z.strictObject({ bytes: z.number().int().nonnegative(), sha256 }),
});
const keySchema = z.strictObject({ keyId: z.string().min(1), algorithm: z.string().min(1) });
const versionsSchema = z.strictObject({
  mongodump: z.string(),
  bot: z.string(),
  chart: z.string().optional(),
  app: z.string().optional(),
});
const common = {
  id: z.string().regex(BACKUP_ID_PATTERN),
  environment: z.string().min(1),
  startedAt: isoTime,
  finishedAt: isoTime,
  archive: archiveSchema,
  key: keySchema,
  versions: versionsSchema,
};

/**
 * What a complete backup set is. Written LAST, after the archive blob is committed, so "has a manifest" and
 * "is complete" are the same thing. Blob layout: `<prefix>/<id>/mongo.archive.enc` and `<prefix>/<id>/manifest.json`.
 *
 * Version 2: counts and digests come from the archive stream itself (mongo/archive.ts), named by `hashScheme`.
 */
export const manifestSchema = z.strictObject({
  manifestVersion: z.literal(2),
  ...common,
  mongo: z.strictObject({
    database: z.string().min(1),
    /** A point-in-time dump (replica set). Without it, consistency came from the before/after count check. */
    oplog: z.boolean(),
    /**
     * oplog: point in time by --oplog. counts-unchanged: no oplog; per-collection counts were equal before the
     * dump, in the archive and after it (see backup.ts for what that does not catch). unchecked: no oplog and the
     * inspector cannot count cheaply (the in-pod executor without a driver connection).
     */
    consistency: z.enum(['oplog', 'counts-unchanged', 'unchecked']),
    serverVersion: z.string(),
    hashScheme: z.literal('sum256-sha256-bson/1'),
    collections: z.array(collectionStatSchema),
    /**
     * What a restore that replays the dump's oplog may create beyond `collections`: the collections the oplog
     * writes to that the archive has no documents for (created during the dump), or '*' when the oplog carries a
     * database command or a transaction, whose collections are not unpacked. Absent: nothing.
     */
    createdDuringDump: z.union([z.array(z.string().min(1)), z.literal('*')]).optional(),
  }),
});
export type ManifestV2 = z.infer<typeof manifestSchema>;

/**
 * Version 1 manifests (hashes over _id-sorted Extended JSON, read through the driver) are still read: their
 * archives verify and restore as before. Their hashes are not recomputed any more (that was the two extra full
 * reads version 2 removed), so a restore compares only their counts and a drill refuses them
 * (AKS_BACKUP_MANIFEST_OLD): a set is "verified" only by a drill that compared content.
 */
const manifestV1Schema = z.strictObject({
  manifestVersion: z.literal(1),
  ...common,
  mongo: z.strictObject({
    database: z.string().min(1),
    oplog: z.boolean(),
    consistency: z.enum(['oplog', 'unchanged-during-dump']),
    serverVersion: z.string(),
    collections: z.array(collectionStatV1Schema),
  }),
});
export type ManifestV1 = z.infer<typeof manifestV1Schema>;

/** Any manifest this bot can read; new backups always write version 2. */
export type Manifest = ManifestV1 | ManifestV2;
const anyManifestSchema = z.discriminatedUnion('manifestVersion', [manifestV1Schema, manifestSchema]);

export function parseManifest(text: string, expectedId: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('AKS_BACKUP_MANIFEST_INVALID', { backupId: expectedId, reason: 'it is not JSON' });
  }
  const r = anyManifestSchema.safeParse(json);
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

/** What compareCollections needs of a stat: version 1 stats carry `sha256`, version 2 `digest`. */
export interface ComparableStat {
  readonly name: string;
  readonly count: number;
  readonly digest?: string;
  readonly sha256?: string;
  readonly changedDuringDump?: true;
}

export interface CompareOptions {
  /** Compare counts only (a version 1 manifest, whose hashes are not recomputed). */
  readonly countsOnly?: boolean;
  /** The restore replayed the dump's oplog: collections marked changedDuringDump are newer than the manifest. */
  readonly oplogReplayed?: boolean;
  /** With oplogReplayed: the manifest's createdDuringDump — collections the replay may have added. */
  readonly createdDuringDump?: readonly string[] | '*';
}

/** Per-collection differences between two stat lists, as short readable lines (empty when equal). */
export function compareCollections(expected: readonly ComparableStat[], actual: readonly ComparableStat[], opts: CompareOptions = {}): string[] {
  const out: string[] = [];
  const got = new Map(actual.map((c) => [c.name, c]));
  for (const e of expected) {
    const a = got.get(e.name);
    got.delete(e.name);
    if (opts.oplogReplayed && e.changedDuringDump) continue;
    if (!a) out.push(`${e.name}: missing`);
    else if (a.count !== e.count) out.push(`${e.name}: ${a.count} documents, expected ${e.count}`);
    else if (!opts.countsOnly && (a.digest ?? a.sha256) !== (e.digest ?? e.sha256)) out.push(`${e.name}: same count (${e.count}) but different content`);
  }
  const created = opts.oplogReplayed ? opts.createdDuringDump : undefined;
  for (const name of got.keys()) {
    if (created === '*' || created?.includes(name)) continue; // created by the replayed oplog, after the archive's documents
    out.push(`${name}: not in the backup`);
  }
  return out;
}
