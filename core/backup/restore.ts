import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, isAppError } from '../errors/app-error.js';
import { createDecryptor } from './crypto/decrypt.js';
import { hashTap } from './crypto/hash-tap.js';
import { unwrapOnce } from './crypto/key-wrapper.js';
import { compareCollections, type CollectionStat, type Manifest } from './manifest.js';
import { RESTORE_INCOMPLETE_MARKER } from './mongo/content.js';
import type { RestoreOptions } from '../clients/mongo-tools/tools.js';
import { progressReporter } from './progress.js';
import { readSignedManifest } from './read-set.js';
import { openSpool, type Spool } from './spool.js';
import type { BackupDeps } from './types.js';

export interface VerifyResult {
  readonly manifest: Manifest;
  /** The archive version that was authenticated; a restore downloads exactly this version. */
  readonly etag: string;
  readonly chunks: number;
}

/**
 * `backup verify`: manifest present, valid and signed by the configured key (nothing else is read before that holds),
 * archive present, its size and SHA-256 as recorded, every chunk
 * authenticates, the plaintext hashes as recorded. Reads the whole archive once and keeps nothing, unless a restore
 * passes a spool to keep the ciphertext it read.
 */
export async function verifyBackup(deps: BackupDeps, id: string, known?: Manifest, spool?: Spool, opts: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
  const { manifest, blob, etag } = await openArchive(deps, id, known);
  // sizes and digests are compared after the stream: authenticating first names the damage precisely
  // (truncated, tampered, reordered, from another backup) instead of just "size differs"
  const progress = progressReporter('verify', deps.onProgress);
  const cipher = hashTap((n) => progress.bytes(n));
  const decrypt = createDecryptor({ expectedBackupId: id, keys: deps.keys });
  const plain = hashTap();
  const download = await blob.download(0, undefined, { conditions: { ifMatch: etag }, abortSignal: opts.signal });
  await pipeline(download.readableStreamBody as NodeJS.ReadableStream, spool?.tap() ?? new PassThrough(), cipher, decrypt, plain, discard(), signalOption(opts.signal));
  progress.done();
  checkDigests(id, manifest, cipher.digest(), plain.digest());
  return { manifest, etag, chunks: decrypt.progress().chunks };
}

/**
 * The manifest and the archive blob's current version (its ETag pins the reads that follow). `known` is a manifest
 * the caller already read through readSignedManifest.
 */
async function openArchive(deps: BackupDeps, id: string, known?: Manifest) {
  const manifest = known ?? (await readSignedManifest(deps, id));
  const blob = deps.container.getBlockBlobClient(manifest.archive.blob);
  const props = await blob.getProperties().catch((err: unknown) => {
    if ((err as { statusCode?: number }).statusCode === 404) throw new AppError('AKS_BACKUP_NOT_FOUND', { backupId: id, environment: deps.environment });
    throw err;
  });
  return { manifest, blob, etag: props.etag! };
}

export interface RestoreTarget {
  /** The database restored into; the manifest's database unless renamed. */
  readonly database: string;
  /** Drop collections before restoring: what a real restore does, and harmless for a fresh scratch database. */
  readonly drop: boolean;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly database: string;
  readonly collections: CollectionStat[];
}

/**
 * Restore into a database that holds data: first the full verify pass (nothing is dropped before every chunk
 * authenticated), then the verified ciphertext again through decryption into `mongorestore --archive --gzip --drop`.
 * The second read comes from a local spool of the ciphertext the verify pass kept, when the spool directory has the
 * room; otherwise from the same blob version again (If-Match the verified ETag). Either way every chunk is
 * authenticated again on its way to mongorestore.
 *
 * Into an empty database (a recreated cluster, a drill's scratch database), where there is nothing to drop, one
 * pass: every chunk is still authenticated before its plaintext reaches mongorestore, which runs without --drop;
 * if the archive fails part-way (truncated, tampered, another backup's), the collections it restored are dropped
 * again — only those, and only if nothing else appeared in the database meanwhile (undoRestore) — so the database is
 * left empty as it was, or marked. This reads the archive once instead of twice.
 *
 * Either way the restored database is then compared with the manifest's counts and hashes. Any mismatch fails
 * loudly. `signal` is the run's: aborting it stops the reads and mongorestore (docs/child-processes.md); a one-pass
 * restore then drops what it restored, as after any failure.
 */
export async function restoreBackup(deps: BackupDeps, id: string, target?: Partial<RestoreTarget>, opts: { requireDigests?: boolean; signal?: AbortSignal } = {}): Promise<RestoreResult> {
  const listed = await readSignedManifest(deps, id);
  const database = target?.database ?? listed.mongo.database;
  const emptyTarget = deps.inspector.isEmpty ? await deps.inspector.isEmpty(database) : false;
  const spool = emptyTarget ? undefined : await openSpool(deps.settings.restoreSpool, listed.archive.ciphertext.bytes, deps.log);
  const keys = unwrapOnce(deps.keys);
  try {
    return await restoreFrom({ ...deps, keys }, id, listed, { database, emptyTarget, spool, drop: target?.drop ?? true, requireDigests: opts.requireDigests ?? false, signal: opts.signal });
  } finally {
    keys.clear();
    await spool?.remove();
  }
}

async function restoreFrom(
  deps: BackupDeps,
  id: string,
  listed: Manifest,
  o: { database: string; emptyTarget: boolean; spool: Spool | undefined; drop: boolean; requireDigests: boolean; signal?: AbortSignal | undefined },
): Promise<RestoreResult> {
  const { database, emptyTarget, spool } = o;
  const source = listed.mongo.database;
  const started = Date.now();
  const { manifest, etag } = emptyTarget ? await openArchive(deps, id, listed) : await verifyBackup(deps, id, listed, spool, { signal: o.signal });
  const fromSpool = spool?.complete() ?? false;
  // a version 1 manifest's hashes (sorted Extended JSON) are no longer computed: counts only, or no drill at all
  const countsOnly = manifest.manifestVersion === 1;
  if (countsOnly && o.requireDigests) throw new AppError('AKS_BACKUP_MANIFEST_OLD', { backupId: id, version: manifest.manifestVersion });
  const options = restoreOptions({ oplogBackup: manifest.mongo.oplog, source, target: database, emptyTarget, drop: o.drop, indexes: deps.settings.restoreIndexes });
  const oplogReplay = options.oplogReplay === true;
  deps.log.info(
    { backupId: id, database, readsArchiveOnce: emptyTarget, ...(emptyTarget ? {} : { verifyMs: Date.now() - started, secondReadFrom: fromSpool ? 'local spool' : 'blob' }) },
    emptyTarget ? 'restore into an empty database: authenticating as it restores' : 'restore over existing data: verified first',
  );
  const progress = progressReporter('restore', deps.onProgress);
  const proc = await deps.tools.restore({
    ...options,
    onLine: progress.line,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const plain = hashTap((n) => progress.bytes(n));
  const cipher = hashTap();
  // back to the empty database it was, after a one-pass restore whose archive did not hold up: only what this restore
  // created is dropped, and only while nothing else has appeared in the database (never the database as a whole)
  const undo = async (why: unknown): Promise<void> => {
    if (!emptyTarget) return;
    const code = isAppError(why) ? why.code : undefined;
    deps.log.warn({ backupId: id, database, code }, 'restore into an empty database failed: dropping what it restored');
    await undoRestore(deps, id, database, restorableNames(manifest, oplogReplay), code);
  };
  try {
    const input = fromSpool ? spool!.read() : ((await deps.container.getBlockBlobClient(manifest.archive.blob).download(0, undefined, { conditions: { ifMatch: etag }, abortSignal: o.signal })).readableStreamBody as NodeJS.ReadableStream);
    await pipeline(input, cipher, createDecryptor({ expectedBackupId: id, keys: deps.keys }), plain, proc.stdin!, signalOption(o.signal));
    await proc.done;
  } catch (err) {
    proc.kill('SIGKILL');
    // mongorestore exiting early shows up as EPIPE on its stdin; its own exit status says why
    const toolError = await proc.done.then(() => undefined, (e: unknown) => e);
    const shown = !isAppError(err) && isAppError(toolError) ? toolError : err;
    await undo(shown);
    throw shown;
  }
  progress.done();
  const restoredMs = Date.now() - started;
  try {
    checkDigests(id, manifest, cipher.digest(), plain.digest());
  } catch (err) {
    await undo(err);
    throw err;
  }
  const collections = await deps.inspector.stats(database);
  const created = manifest.manifestVersion === 2 ? manifest.mongo.createdDuringDump : undefined;
  const differences = compareCollections(manifest.mongo.collections, collections, { countsOnly, oplogReplayed: oplogReplay, ...(created ? { createdDuringDump: created } : {}) });
  if (differences.length > 0) {
    throw new AppError('AKS_BACKUP_CONTENT_MISMATCH', { backupId: id, database, differences: differences.slice(0, 5).join('; ') });
  }
  // say what was NOT compared, so a "matched" is never read as more than it is
  const newer = oplogReplay ? manifest.mongo.collections.filter((c) => 'changedDuringDump' in c && c.changedDuringDump).map((c) => c.name) : [];
  if (countsOnly) deps.log.warn({ backupId: id }, 'version 1 manifest: document counts compared, content hashes not');
  if (newer.length > 0) deps.log.warn({ backupId: id, collections: newer }, 'changed by the replayed oplog, so newer than the archive: not compared');
  if (oplogReplay && created) deps.log.warn({ backupId: id, created }, 'collections the replayed oplog may have created are not compared');
  deps.log.info({ backupId: id, database, collections: collections.length, restoredMs, comparedMs: Date.now() - started - restoredMs }, 'restore matched the manifest');
  return { manifest, database, collections };
}

/**
 * What mongorestore is asked to do, from the backup's kind, the target and the settings (exported so the argv can
 * be given to the real mongorestore in a test).
 *
 * - A backup with an oplog (a full dump of a replica set) restored into its own database replays the oplog, so the
 *   data is consistent as of the dump's end. mongorestore replays only a restore of the whole archive: no
 *   --nsInclude, --nsExclude or rename may accompany --oplogReplay. So the whole dump is restored, the `admin`
 *   database (users and roles) included: the recreated chart must keep the Secret that holds those users'
 *   passwords (docs/backup-format.md).
 * - Restored under another name (a drill's scratch database), the oplog is not replayed (it would write to the
 *   original database) and only the application database is taken out of a full dump and renamed.
 * - --drop only over existing data; an empty target has nothing to drop.
 */
export function restoreOptions(o: { oplogBackup: boolean; source: string; target: string; emptyTarget: boolean; drop: boolean; indexes: boolean }): Pick<RestoreOptions, 'drop' | 'oplogReplay' | 'indexes' | 'include' | 'rename'> {
  const renamed = o.target !== o.source;
  const oplogReplay = o.oplogBackup && !renamed;
  return {
    drop: o.emptyTarget ? false : o.drop,
    oplogReplay,
    indexes: o.indexes,
    include: o.oplogBackup && !oplogReplay ? [`${o.source}.*`] : [],
    rename: renamed ? { from: `${o.source}.*`, to: `${o.target}.*` } : undefined,
  };
}

/**
 * The collections a restore of this manifest can create: the archive's, plus what a replayed oplog may add. Undefined
 * when that is not known (the oplog carries commands or transactions): then nothing counts as this restore's own.
 */
function restorableNames(manifest: Manifest, oplogReplayed: boolean): string[] | undefined {
  const names = manifest.mongo.collections.map((c) => c.name);
  const created = oplogReplayed && manifest.manifestVersion === 2 ? manifest.mongo.createdDuringDump : undefined;
  if (created === '*') return undefined;
  return [...names, ...(created ?? [])];
}

/**
 * Undoes a failed restore into a database that was empty when it started. The inspector looks again right before
 * dropping: with only collections this restore can have created, it drops those (and so leaves the database empty
 * as found); with anything else there (another writer, e.g. an application started meanwhile), it drops nothing and
 * marks the database as an incomplete restore instead (docs/backup-format.md, "A restore that fails part-way").
 */
async function undoRestore(deps: BackupDeps, id: string, database: string, restored: string[] | undefined, code: string | undefined): Promise<void> {
  if (!deps.inspector.dropRestored) {
    deps.log.error({ backupId: id, database }, 'this executor cannot tell which collections the restore created: nothing dropped, the partly restored database is left as it is');
    return;
  }
  try {
    const r = await deps.inspector.dropRestored(database, restored ?? [], { backupId: id, reason: code ?? 'failed', at: deps.now().toISOString() });
    if (r.dropped.length > 0) deps.log.info({ backupId: id, database, dropped: r.dropped }, 'dropped the collections the failed restore created; the database is empty again');
    if (r.others.length > 0) {
      deps.log.error(
        { backupId: id, database, others: r.others.slice(0, 10), marker: RESTORE_INCOMPLETE_MARKER },
        'collections the restore did not create are in the database: nothing dropped; the database is marked as an incomplete restore',
      );
    }
  } catch (err) {
    deps.log.error({ err, backupId: id, database }, 'could not undo the partly restored database');
  }
}

export interface DrillResult {
  readonly passed: boolean;
  readonly backupId: string;
  readonly scratchDatabase: string;
  readonly collections: number;
  readonly documents: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface DrillOutcome {
  /** Plain data for the store and chat. */
  readonly result: DrillResult;
  /** The error that failed the drill, for the caller to report with its code and fix. */
  readonly error?: AppError;
}

/**
 * `backup drill`: restore into a scratch database, compare with the manifest, drop the scratch database whatever
 * happened. Returns the outcome either way so the store can record the evidence; never throws for a failed drill.
 */
export async function drillBackup(deps: BackupDeps, id: string, opts: { signal?: AbortSignal } = {}): Promise<DrillOutcome> {
  const startedAt = deps.now().toISOString();
  const scratch = `drill_${id.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 60);
  try {
    const r = await restoreBackup(deps, id, { database: scratch, drop: true }, { requireDigests: true, ...(opts.signal ? { signal: opts.signal } : {}) });
    return {
      result: {
        passed: true,
        backupId: id,
        scratchDatabase: scratch,
        collections: r.collections.length,
        documents: r.collections.reduce((n, c) => n + c.count, 0),
        startedAt,
        finishedAt: deps.now().toISOString(),
      },
    };
  } catch (err) {
    const appError = isAppError(err) ? err : new AppError('AKS_INTERNAL', { reference: `drill-${id}` }, { cause: err });
    deps.log.warn({ backupId: id, err }, 'restore drill failed');
    const error = { code: appError.code, message: appError.message };
    return { result: { passed: false, backupId: id, scratchDatabase: scratch, collections: 0, documents: 0, startedAt, finishedAt: deps.now().toISOString(), error }, error: appError };
  } finally {
    await deps.inspector.dropDatabase(scratch).catch((err: unknown) => deps.log.warn({ err, scratch }, 'could not drop the drill database'));
  }
}

function checkDigests(id: string, m: Manifest, cipher: { sha256: string; bytes: number }, plain: { sha256: string; bytes: number }): void {
  if (cipher.bytes !== m.archive.ciphertext.bytes) throw mismatch(id, 'the archive size', cipher.bytes, m.archive.ciphertext.bytes);
  if (cipher.sha256 !== m.archive.ciphertext.sha256) throw mismatch(id, 'the archive SHA-256', cipher.sha256, m.archive.ciphertext.sha256);
  if (plain.bytes !== m.archive.plaintext.bytes) throw mismatch(id, 'the decrypted size', plain.bytes, m.archive.plaintext.bytes);
  if (plain.sha256 !== m.archive.plaintext.sha256) throw mismatch(id, 'the decrypted SHA-256', plain.sha256, m.archive.plaintext.sha256);
}

function mismatch(backupId: string, what: string, found: string | number, expected: string | number): AppError {
  return new AppError('AKS_BACKUP_CHECKSUM_MISMATCH', { backupId, what, found, expected });
}

/** pipeline()'s options: only a signal that exists, so an unsignalled call is exactly what it was. */
function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
