import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { archiveBlobName, type Manifest, manifestBlobName } from '../../../../core/backup/manifest.js';
import { listSets } from '../../../../core/backup/read-set.js';
import { drillBackup, restoreBackup, verifyBackup } from '../../../../core/backup/restore.js';
import type { BackupDeps } from '../../../../core/backup/types.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { gridfsHashes, seedRocketChat, snapshot, SEEDED_COLLECTIONS } from '../../../helpers/rocketchat-data.js';
import { chunkLayout, flipByte, readBlob, swapChunks, writeBlob } from './archive-edit.js';
import { type BackupSandbox, backupSandbox } from './setup.js';
import { codeOf } from '../../../helpers/errors.js';


describe('MongoDB backups: FerretDB → mongodump → encrypt → Azurite, and back', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rocketchat_${suffix}`;
  let s: BackupSandbox;
  let db: Db;
  let deps: BackupDeps;
  let before: Record<string, string[]>;
  let uploads: Record<string, string>;
  let good: Manifest;

  beforeAll(async () => {
    s = await backupSandbox(suffix, dbName);
    db = s.mongo.db(dbName);
    ({ uploads } = await seedRocketChat(db));
    before = await snapshot(db);
    deps = s.deps();
    good = await runBackup(deps);
  });

  afterAll(async () => {
    if (!s) return;
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
  });

  it('writes the archive and then a complete manifest beside it', async () => {
    expect(good.mongo.collections.map((c) => c.name)).toEqual([...SEEDED_COLLECTIONS]);
    expect(good.mongo.collections.find((c) => c.name === 'rocketchat_message')?.count).toBe(151);
    expect(good.mongo).toMatchObject({ database: dbName, oplog: false, consistency: 'counts-unchanged', hashScheme: 'sum256-sha256-bson/1', serverVersion: expect.stringMatching(/^\d+\./) });
    expect(good.manifestVersion).toBe(2);
    // the archive's counts and digests are what the driver reads from the live database
    expect(good.mongo.collections).toEqual(await deps.inspector.stats(dbName));
    expect(good.key.keyId).toContain(`/keys/${s.keyName}/`);
    expect(good.versions.mongodump).toBe('100.11.0');
    // the archive holds incompressible GridFS bytes: it is at least that big, and encrypted adds ~33 bytes per chunk
    expect(good.archive.plaintext.bytes).toBeGreaterThan(700_000);
    expect(good.archive.ciphertext.bytes - good.archive.plaintext.bytes).toBeLessThan(2_000);
    const sets = await listSets(s.container, 'sandbox');
    expect(sets.find((x) => x.id === good.id)).toMatchObject({ hasManifest: true, hasArchive: true });
    // no secret or plaintext in the blob: the archive does not start with gzip's magic
    expect((await readBlob(s.container, good.archive.blob)).subarray(0, 4).toString()).toBe('AKSB');
  });

  it('verify authenticates every chunk and matches the manifest checksums', async () => {
    const v = await verifyBackup(deps, good.id);
    expect(v.chunks).toBe(Math.ceil(good.archive.plaintext.bytes / (256 * 1024)));
  });

  it('restores over damaged data: identical documents (types, unicode, 1 MB doc) and byte-identical GridFS files', async () => {
    await db.collection('rocketchat_message').deleteMany({ rid: 'room-dev' });
    await db.collection('users').updateMany({}, { $set: { name: 'overwritten' } });
    await db.collection('rocketchat_subscription').drop();
    await db.collection('rocketchat_uploads.chunks').deleteMany({ n: { $gt: 0 } });
    expect(await snapshot(db)).not.toEqual(before);

    const r = await restoreBackup(deps, good.id);
    expect(r.database).toBe(dbName);
    expect(await snapshot(db)).toEqual(before);
    expect(await gridfsHashes(db)).toEqual(uploads);
  });

  it('into an empty database a restore reads the archive once (no verify pass, no --drop); over data it verifies first', async () => {
    const phases: string[] = [];
    const counted = countDownloads(deps.container);
    const d: BackupDeps = { ...deps, container: counted.container, onProgress: (p) => void (phases.at(-1) !== p.phase && phases.push(p.phase)) };
    const fresh = `${dbName}_fresh`;
    try {
      await restoreBackup(d, good.id, { database: fresh });
      expect(phases).toEqual(['restore']);
      expect(counted.archiveDownloads()).toBe(1);
      expect(await snapshot(s.mongo.db(fresh))).toEqual(before);
      expect(await gridfsHashes(s.mongo.db(fresh))).toEqual(uploads);
      phases.length = 0;
      // now it holds data: the full verify pass comes before anything is dropped, and without a spool the restore
      // downloads the archive a second time
      await restoreBackup(d, good.id, { database: fresh });
      expect(phases).toEqual(['verify', 'restore']);
      expect(counted.archiveDownloads()).toBe(3);
      expect(await snapshot(s.mongo.db(fresh))).toEqual(before);
    } finally {
      await s.mongo.db(fresh).dropDatabase();
    }
  });

  it('over data with a spool, the verify pass keeps the ciphertext and the restore reads that copy: one download', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'restore-spool-'));
    const counted = countDownloads(deps.container);
    const seen: string[][] = [];
    const d = s.deps({
      container: counted.container,
      settings: { restoreSpool: { dir: spoolDir, keepFreeBytes: 0 } },
      // while the restore runs, the spool (one private directory) exists; it is gone afterwards
      onProgress: (p) => void (p.phase === 'restore' && seen.push(readdirSync(spoolDir))),
    });
    try {
      await db.collection('rocketchat_message').deleteMany({});
      const r = await restoreBackup(d, good.id);
      expect(r.database).toBe(dbName);
      expect(counted.archiveDownloads()).toBe(1);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((names) => names.length === 1 && names[0]!.startsWith('aks-restore-'))).toBe(true);
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(await snapshot(db)).toEqual(before);
      expect(await gridfsHashes(db)).toEqual(uploads);
      // no room for the archive plus the reserve: the restore still works, downloading twice, and spools nothing
      await db.collection('users').deleteMany({});
      const tight = s.deps({ container: counted.container, settings: { restoreSpool: { dir: spoolDir, keepFreeBytes: Number.MAX_SAFE_INTEGER } } });
      await restoreBackup(tight, good.id);
      expect(counted.archiveDownloads()).toBe(3);
      expect(await snapshot(db)).toEqual(before);
    } finally {
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('a drill restores into a scratch database, compares, and drops it', async () => {
    const { result: r } = await drillBackup(deps, good.id);
    expect(r).toMatchObject({ passed: true, collections: 7 });
    const names = (await s.mongo.db().admin().listDatabases()).databases.map((d) => d.name);
    expect(names).not.toContain(r.scratchDatabase);
    expect(names).toContain(dbName);
  });

  describe('a damaged or mismatched set fails with its own error, and restore drops nothing first', () => {
    let victim: Manifest;
    let original: Buffer;
    let originalManifest: Buffer;
    beforeAll(async () => {
      // small chunks: the reader takes the chunk size from the archive header, so `deps` reads it as is
      victim = await runBackup(s.deps({ settings: { chunkSize: 64 * 1024 } }));
      original = await readBlob(s.container, victim.archive.blob);
      originalManifest = await readBlob(s.container, manifestBlobName('sandbox', victim.id));
      expect(chunkLayout(original).chunks.length).toBeGreaterThanOrEqual(4);
    });

    const cases: [string, string, (a: Buffer) => Buffer][] = [
      ['truncated blob', 'AKS_BACKUP_TRUNCATED', (a) => a.subarray(0, a.length - 1000)],
      ['truncated at a chunk boundary', 'AKS_BACKUP_TRUNCATED', (a) => a.subarray(0, chunkLayout(a).chunks.at(-1)!.start)],
      ['one flipped byte', 'AKS_BACKUP_TAMPERED', (a) => flipByte(a, chunkLayout(a).chunks[2]!.start + 500)],
      ['swapped chunks', 'AKS_BACKUP_CHUNK_ORDER', (a) => swapChunks(a, 1, 2)],
    ];
    it.each(cases)('%s → %s (verify and restore); the live data is untouched', async (_name, code, damage) => {
      const marker = { _id: `marker-${randomBytes(3).toString('hex')}`, msg: 'written after the backup' };
      await db.collection<{ _id: string }>('rocketchat_message').insertOne(marker);
      const live = await snapshot(db);
      await writeBlob(s.container, victim.archive.blob, damage(Buffer.from(original)));
      const empty = `${dbName}_empty_${randomBytes(2).toString('hex')}`;
      try {
        expect(await codeOf(verifyBackup(deps, victim.id))).toBe(code);
        expect(await codeOf(restoreBackup(deps, victim.id))).toBe(code);
        expect(await snapshot(db)).toEqual(live);
        // into an empty database (one pass): the same error, and what was restored before it is dropped again
        const logged = s.logs.text.length;
        expect(await codeOf(restoreBackup(deps, victim.id, { database: empty }))).toBe(code);
        expect(await s.mongo.db(empty).listCollections().toArray()).toEqual([]);
        expect(s.logs.text.slice(logged)).toContain('restore into an empty database failed: dropping what it restored');
      } finally {
        await writeBlob(s.container, victim.archive.blob, original);
        await db.collection<{ _id: string }>('rocketchat_message').deleteOne({ _id: marker._id });
      }
    });

    it('missing manifest → AKS_BACKUP_MANIFEST_MISSING; an unknown id → AKS_BACKUP_NOT_FOUND', async () => {
      await s.container.getBlockBlobClient(manifestBlobName('sandbox', victim.id)).delete();
      try {
        expect(await codeOf(restoreBackup(deps, victim.id))).toBe('AKS_BACKUP_MANIFEST_MISSING');
        expect(await codeOf(verifyBackup(deps, 'no-such-set'))).toBe('AKS_BACKUP_NOT_FOUND');
      } finally {
        await writeBlob(s.container, manifestBlobName('sandbox', victim.id), originalManifest);
      }
    });

    it('manifest from another backup → AKS_BACKUP_ID_MISMATCH; an archive from another backup → AKS_BACKUP_ID_MISMATCH', async () => {
      const other = await readBlob(s.container, manifestBlobName('sandbox', good.id));
      await writeBlob(s.container, manifestBlobName('sandbox', victim.id), other);
      try {
        expect(await codeOf(verifyBackup(deps, victim.id))).toBe('AKS_BACKUP_ID_MISMATCH');
      } finally {
        await writeBlob(s.container, manifestBlobName('sandbox', victim.id), originalManifest);
      }
      await writeBlob(s.container, victim.archive.blob, await readBlob(s.container, good.archive.blob));
      try {
        expect(await codeOf(restoreBackup(deps, victim.id))).toBe('AKS_BACKUP_ID_MISMATCH');
      } finally {
        await writeBlob(s.container, victim.archive.blob, original);
      }
    });

    it('the wrapping key deleted from Key Vault → AKS_BACKUP_KEY_UNAVAILABLE', async () => {
      const keyName = `doomed-kek-${randomBytes(3).toString('hex')}`;
      await s.keys.createRsaKey(keyName, { keySize: 2048 });
      const d = s.deps({ keyName });
      const m = await runBackup(d);
      await (await s.keys.beginDeleteKey(keyName)).pollUntilDone();
      expect(await codeOf(verifyBackup(d, m.id))).toBe('AKS_BACKUP_KEY_UNAVAILABLE');
    });

    it('the undamaged victim still verifies (every case restored it)', async () => {
      await expect(verifyBackup(deps, victim.id)).resolves.toMatchObject({ manifest: { id: victim.id } });
    });
  });

  it('a dump killed half-way leaves neither an archive nor a manifest', async () => {
    const killing: BackupDeps = {
      ...deps,
      tools: {
        ...deps.tools,
        async dump(o) {
          const p = await deps.tools.dump(o);
          // synchronously on the first bytes: mongodump cannot have written the rest (it blocks on the pipe)
          p.stdout!.once('data', () => p.kill('SIGKILL'));
          return p;
        },
      },
    };
    const err = await runBackup(killing, { id: 'killed-1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_EXEC_FAILED' });
    expect((await listSets(s.container, 'sandbox')).find((x) => x.id === 'killed-1')).toBeUndefined();
    await expect(s.container.getBlockBlobClient(archiveBlobName('sandbox', 'killed-1')).exists()).resolves.toBe(false);
  });

  it('refuses the chart’s "changeme" password before dumping anything', async () => {
    const d: BackupDeps = { ...deps, tools: { ...deps.tools, checkCredentials: async () => { throw new AppError('AKS_BACKUP_DEFAULT_PASSWORD', { environment: 'sandbox' }); } } };
    expect(await codeOf(runBackup(d, { id: 'changeme-1' }))).toBe('AKS_BACKUP_DEFAULT_PASSWORD');
    expect((await listSets(s.container, 'sandbox')).find((x) => x.id === 'changeme-1')).toBeUndefined();
  });

  it('never logs the connection string', () => {
    expect(s.logs.text).not.toContain(s.uri);
  });
});

/** The same container client, counting downloads of archive blobs (the verify pass and the restore each read one). */
function countDownloads(container: ContainerClient): { container: ContainerClient; archiveDownloads(): number } {
  let n = 0;
  const wrapped = new Proxy(container, {
    get(target, prop, receiver) {
      if (prop !== 'getBlockBlobClient') return Reflect.get(target, prop, receiver);
      return (name: string) => {
        const blob = target.getBlockBlobClient(name);
        if (!name.endsWith('/mongo.archive.enc')) return blob;
        return new Proxy(blob, {
          get(b, p, r) {
            if (p !== 'download') return Reflect.get(b, p, r);
            return (...args: Parameters<typeof blob.download>) => (n++, b.download(...args));
          },
        });
      };
    },
  });
  return { container: wrapped, archiveDownloads: () => n };
}
