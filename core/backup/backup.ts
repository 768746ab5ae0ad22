import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, isAppError } from '../errors/app-error.js';
import { createEncryptor } from './crypto/encrypt.js';
import { hashTap } from './crypto/hash-tap.js';
import { exitGate } from './exit-gate.js';
import { archiveBlobName, compareCollections, type CollectionStat, type Manifest, manifestBlobName, manifestSchema, newBackupId } from './manifest.js';
import { progressReporter } from './progress.js';
import type { BackupDeps } from './types.js';

/**
 * One MongoDB backup, streamed: mongodump --archive --gzip → SHA-256 → AES-256-GCM chunks → Blob block upload,
 * no temp file and constant memory; then the manifest, last. Any failure removes the archive blob and writes no
 * manifest, so a set either is complete or does not look like one.
 */
export async function runBackup(deps: BackupDeps, opts: { id?: string } = {}): Promise<Manifest> {
  const { settings, container, log } = deps;
  const startedAt = deps.now();
  const id = opts.id ?? newBackupId(startedAt, randomBytes(3).toString('hex'));
  const archiveName = archiveBlobName(deps.prefix, id);
  const blob = container.getBlockBlobClient(archiveName);
  const abort = new AbortController();
  let dump: Awaited<ReturnType<typeof deps.tools.dump>> | undefined;

  await deps.tools.checkCredentials(deps.environment);
  log.info({ backupId: id, environment: deps.environment }, 'backup started');
  try {
    const [serverVersion, mongodump] = await Promise.all([deps.inspector.serverVersion(), deps.tools.version()]);
    const before = settings.oplog ? undefined : await deps.inspector.stats(settings.database);

    const progress = progressReporter('dump', deps.onProgress);
    const encryptor = await createEncryptor({ backupId: id, keys: deps.keys, chunkSize: settings.chunkSize });
    dump = await deps.tools.dump({ database: settings.database, oplog: settings.oplog, signal: abort.signal, onLine: progress.line });
    const plain = hashTap((n) => progress.bytes(n));
    const cipher = hashTap();
    const out = new PassThrough({ highWaterMark: settings.uploadBlockSize });
    const upload = blob.uploadStream(out, settings.uploadBlockSize, settings.uploadConcurrency, {
      abortSignal: abort.signal,
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      metadata: { backupid: id, format: 'AKSB1' },
    });
    const flow = pipeline(dump.stdout!, exitGate(dump.done), plain, encryptor.stream, cipher, out);
    // whichever side fails first stops the other, so a failed upload does not leave mongodump running
    await Promise.all([flow.catch((e: unknown) => { abort.abort(); throw e; }), upload.catch((e: unknown) => { abort.abort(); throw e; })]);
    progress.done();

    const after = await deps.inspector.stats(settings.database);
    if (before) {
      const differences = compareCollections(before, after);
      if (differences.length > 0) throw new AppError('AKS_BACKUP_INCONSISTENT', { backupId: id, differences: differences.slice(0, 5).join('; ') });
    }
    const manifest = manifestSchema.parse({
      manifestVersion: 1,
      id,
      environment: deps.environment,
      startedAt: startedAt.toISOString(),
      finishedAt: deps.now().toISOString(),
      mongo: {
        database: settings.database,
        oplog: settings.oplog,
        consistency: settings.oplog ? 'oplog' : 'unchanged-during-dump',
        serverVersion,
        collections: after satisfies CollectionStat[],
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
    } satisfies Manifest);
    const text = JSON.stringify(manifest, null, 2);
    // ifNoneMatch: a manifest is never overwritten, so a set cannot silently change after it was verified
    await container.getBlockBlobClient(manifestBlobName(deps.prefix, id)).upload(text, Buffer.byteLength(text), {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    log.info({ backupId: id, bytes: manifest.archive.plaintext.bytes, encrypted: manifest.archive.ciphertext.bytes }, 'backup finished');
    return manifest;
  } catch (err) {
    abort.abort();
    dump?.kill('SIGKILL');
    await blob.deleteIfExists().catch(() => undefined);
    log.warn({ backupId: id, err }, 'backup failed; archive removed, no manifest written');
    if (isAppError(err)) throw err;
    throw new AppError('AKS_BACKUP_ABORTED', { backupId: id, reason: reasonOf(err) }, { cause: err });
  }
}

function reasonOf(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'AbortError') return 'it was cancelled';
  return String(e.code ?? e.message ?? err).slice(0, 200);
}
