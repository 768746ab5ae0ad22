import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, isAppError } from '../errors/app-error.js';
import { createEncryptor } from './crypto/encrypt.js';
import { hashTap } from './crypto/hash-tap.js';
import { exitGate } from './exit-gate.js';
import { botCompressor } from './parallel-gzip.js';
import { archiveBlobName, type ManifestV2, manifestBlobName, manifestSchema, newBackupId } from './manifest.js';
import { archiveTap, collectionStatsOf, createdDuringDumpOf, HASH_SCHEME } from './mongo/archive.js';
import { progressReporter } from './progress.js';
import { manifestSignatureBlobName, signManifest } from './signature.js';
import type { BackupDeps } from './types.js';

/**
 * One MongoDB backup, streamed: mongodump --archive --gzip → archive parser (counts and content digests, on a
 * gunzipped copy) → SHA-256 → AES-256-GCM chunks → Blob block upload, no temp file and constant memory; then the
 * manifest, last. The database is read once, by mongodump. Any failure removes the archive blob and writes no
 * manifest, so a set either is complete or does not look like one.
 *
 * `signal` is the run's: aborting it stops mongodump (its whole process group, or the pod exec) and the upload,
 * and the backup fails with AKS_BACKUP_ABORTED once mongodump is gone (docs/child-processes.md).
 */
export async function runBackup(deps: BackupDeps, opts: { id?: string; signal?: AbortSignal } = {}): Promise<ManifestV2> {
  const { settings, container, log } = deps;
  const startedAt = deps.now();
  const id = opts.id ?? newBackupId(startedAt, randomBytes(3).toString('hex'));
  const archiveName = archiveBlobName(deps.prefix, id);
  const blob = container.getBlockBlobClient(archiveName);
  const abort = new AbortController();
  const cancel = () => abort.abort(opts.signal?.reason);
  if (opts.signal?.aborted) cancel();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  let dump: Awaited<ReturnType<typeof deps.tools.dump>> | undefined;

  await deps.tools.checkCredentials(deps.environment);
  log.info({ backupId: id, environment: deps.environment }, 'backup started');
  try {
    abort.signal.throwIfAborted();
    const mongodump = await deps.tools.version(abort.signal);
    // Without --oplog, mongodump copies collections one by one, so a write during the dump could leave the archive
    // matching no single moment. The check is deliberately cheap (document counts from collection metadata before
    // and after; the full before/after content read it replaces doubled the backup's time): it catches documents
    // inserted or deleted during the dump, but NOT updates in place, nor an insert and a delete in the same
    // collection that cancel out. A replica set (--oplog) needs no check: the restore replays to one moment.
    const counts = settings.oplog ? undefined : deps.inspector.counts?.bind(deps.inspector);
    const before = counts ? await counts(settings.database) : undefined;

    const progress = progressReporter('dump', deps.onProgress);
    const encryptor = await createEncryptor({ backupId: id, keys: deps.keys, chunkSize: settings.chunkSize });
    abort.signal.throwIfAborted();
    // compressed on the bot host: mongodump sends the raw archive, parsed before the compressor (no gunzip copy)
    const compress = botCompressor(settings.compression);
    dump = await deps.tools.dump({ database: settings.database, oplog: settings.oplog, gzip: !compress, signal: abort.signal, onLine: progress.line });
    const plain = hashTap((n) => progress.bytes(n));
    const cipher = hashTap();
    const out = new PassThrough({ highWaterMark: settings.uploadBlockSize });
    const upload = blob.uploadStream(out, settings.uploadBlockSize, settings.uploadConcurrency, {
      abortSignal: abort.signal,
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      metadata: { backupid: id, format: 'AKSB1' },
    });
    const parsed = archiveTap({ gzip: !compress });
    const flow = pipeline([dump.stdout!, exitGate(dump.done), parsed, ...(compress ? [compress] : []), plain, encryptor.stream, cipher, out]);
    // whichever side fails first stops the other, so a failed upload does not leave mongodump running
    await Promise.all([flow.catch((e: unknown) => { abort.abort(); throw e; }), upload.catch((e: unknown) => { abort.abort(); throw e; })]);
    progress.done();

    const summary = await parsed.summary;
    const collections = collectionStatsOf(summary, settings.database);
    const created = settings.oplog ? createdDuringDumpOf(summary, settings.database) : undefined;
    if (counts && before) {
      const differences = countDifferences(before, await counts(settings.database));
      if (differences.length > 0) throw new AppError('AKS_BACKUP_INCONSISTENT', { backupId: id, differences: differences.slice(0, 5).join('; ') });
    } else if (!settings.oplog) {
      log.warn({ backupId: id }, 'no oplog and no cheap document count: writes during the dump would go unnoticed');
    }
    const manifest = manifestSchema.parse({
      manifestVersion: 2,
      id,
      environment: deps.environment,
      startedAt: startedAt.toISOString(),
      finishedAt: deps.now().toISOString(),
      mongo: {
        database: settings.database,
        oplog: settings.oplog,
        consistency: settings.oplog ? 'oplog' : before ? 'counts-unchanged' : 'unchecked',
        serverVersion: summary.serverVersion || 'unknown',
        hashScheme: HASH_SCHEME,
        collections,
        ...(created ? { createdDuringDump: created } : {}),
      },
      archive: {
        blob: archiveName,
        format: 'AKSB/1',
        chunkSize: settings.chunkSize,
        plaintext: plain.digest(),
        ciphertext: cipher.digest(),
      },
      key: { keyId: encryptor.key.keyId, algorithm: encryptor.key.algorithm },
      versions: { mongodump, ...deps.versions },
    } satisfies ManifestV2);
    const text = JSON.stringify(manifest, null, 2);
    // the signature first, the manifest last: "has a manifest" still means "complete", and a complete set is signed
    const signature = await signManifest(deps.signer, id, text);
    await container.getBlockBlobClient(manifestSignatureBlobName(deps.prefix, id)).upload(signature, Buffer.byteLength(signature), {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    // ifNoneMatch: a manifest is never overwritten, so a set cannot silently change after it was verified
    await container.getBlockBlobClient(manifestBlobName(deps.prefix, id)).upload(text, Buffer.byteLength(text), {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    log.info({ backupId: id, bytes: manifest.archive.plaintext.bytes, encrypted: manifest.archive.ciphertext.bytes }, 'backup finished');
    return manifest;
  } catch (err) {
    const cancelled = opts.signal?.aborted === true;
    abort.abort();
    dump?.kill('SIGKILL');
    // a failed pipeline destroyed stdout already; one that never started did not, and an unread pipe would hold
    // the exit back. `done` settles once mongodump's process group is empty, so no dump outlives the error below.
    dump?.stdout?.destroy();
    await dump?.done.catch(() => undefined);
    await blob.deleteIfExists().catch(() => undefined);
    await container.getBlockBlobClient(manifestSignatureBlobName(deps.prefix, id)).deleteIfExists().catch(() => undefined);
    log.warn({ backupId: id, err, cancelled }, 'backup failed; archive removed, no manifest written');
    // cancelled: whatever broke first (the tool's exit, the upload, the pipeline) is a consequence, not the cause
    if (cancelled) throw new AppError('AKS_BACKUP_ABORTED', { backupId: id, reason: 'it was cancelled' }, { cause: err });
    if (isAppError(err)) throw err;
    throw new AppError('AKS_BACKUP_ABORTED', { backupId: id, reason: reasonOf(err) }, { cause: err });
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
  }
}

/** Collections whose document count changed between two counts, as readable lines. */
function countDifferences(before: Record<string, number>, after: Record<string, number>): string[] {
  const out: string[] = [];
  for (const [name, n] of Object.entries(before)) {
    const m = after[name];
    if (m === undefined) out.push(`${name}: dropped during the dump`);
    else if (m !== n) out.push(`${name}: ${n} documents before the dump, ${m} after`);
  }
  for (const name of Object.keys(after)) if (!(name in before)) out.push(`${name}: created during the dump`);
  return out;
}

function reasonOf(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'AbortError') return 'it was cancelled';
  return String(e.code ?? e.message ?? err).slice(0, 200);
}
