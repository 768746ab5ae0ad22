import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Double, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { archiveBlobName, type ManifestV2, manifestBlobName } from '../../../../core/backup/manifest.js';
import { archiveInspector } from '../../../../core/backup/mongo/archive-inspector.js';
import type { ContentInspector } from '../../../../core/backup/mongo/content.js';
import { drillBackup, restoreBackup } from '../../../../core/backup/restore.js';
import type { BackupDeps } from '../../../../core/backup/types.js';
import { codeOf } from '../../../helpers/errors.js';
import { seedRocketChat, snapshot } from '../../../helpers/rocketchat-data.js';
import { putBack, writeSignedManifest } from './archive-edit.js';
import { type BackupSandbox, backupSandbox } from './setup.js';

/**
 * Counts and digests come from the archive stream at backup time and from the database after a restore: both
 * sides must compute the same digest (the restore passes), and one changed document must make it fail.
 */
describe('content digests: archive stream at backup, database after restore', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rc_content_${suffix}`;
  let s: BackupSandbox;
  let db: Db;
  let deps: BackupDeps;
  let m: ManifestV2;

  beforeAll(async () => {
    s = await backupSandbox(`content-${suffix}`, dbName);
    db = s.mongo.db(dbName);
    await seedRocketChat(db, { messages: 400 });
    await db.createCollection('rocketchat_empty');
    deps = s.deps();
    m = await runBackup(deps);
  });

  afterAll(async () => {
    if (!s) return;
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
  });

  it('the manifest lists every collection (the empty one too) with the counts the database has', async () => {
    expect(m.mongo.collections.find((c) => c.name === 'rocketchat_empty')).toEqual({ name: 'rocketchat_empty', count: 0, digest: '0'.repeat(64) });
    expect(m.mongo.collections.find((c) => c.name === 'rocketchat_message')?.count).toBe(401);
    expect(Object.fromEntries(m.mongo.collections.map((c) => [c.name, c.count]))).toEqual(await deps.inspector.counts!(dbName));
  });

  it('backup → restore into another database → compare passes, documents identical', async () => {
    const target = `${dbName}_r`;
    const r = await restoreBackup(deps, m.id, { database: target, drop: true });
    expect(r.collections).toEqual(m.mongo.collections);
    expect(await snapshot(s.mongo.db(target))).toEqual(await snapshot(db));
  });

  // the inspector changes one restored document just before it reads, as if mongorestore had written it wrongly
  const tampering = (change: (d: Db) => Promise<unknown>): ContentInspector => ({
    ...deps.inspector,
    stats: async (database) => {
      await change(s.mongo.db(database));
      return deps.inspector.stats(database);
    },
  });
  it.each<[string, (d: Db) => Promise<unknown>, RegExp]>([
    ['one changed message text', (d) => d.collection<{ _id: string }>('rocketchat_message').updateOne({ _id: 'msg-00000123' }, { $set: { msg: 'changed' } }), /rocketchat_message: same count \(401\) but different content/],
    ['one number stored as Double instead of Int32 (same value)', (d) => d.collection<{ _id: string }>('rocketchat_subscription').updateOne({ _id: 'GENERAL-zoe' }, { $set: { unread: new Double(3) } }), /rocketchat_subscription: same count/],
    ['one extra document', (d) => d.collection<{ _id: string }>('users').insertOne({ _id: 'u-intruder' }), /users: 6 documents, expected 5/],
  ])('%s in the restored database → AKS_BACKUP_CONTENT_MISMATCH naming the collection', async (_name, change, message) => {
    const target = `${dbName}_t${randomBytes(2).toString('hex')}`;
    const err = await restoreBackup({ ...deps, inspector: tampering(change) }, m.id, { database: target, drop: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_CONTENT_MISMATCH' });
    expect((err as Error).message).toMatch(message);
  });

  it('the dump-based inspector (no driver) computes the same counts, digests and server version', async () => {
    const inspector = archiveInspector(deps.tools, (d) => s.mongo.db(d).dropDatabase().then(() => undefined));
    // asked first, the version comes from the prelude of a dump of a database that does not exist
    expect(await archiveInspector(deps.tools, async () => undefined).serverVersion()).toBe(m.mongo.serverVersion);
    expect(await inspector.stats(dbName)).toEqual(m.mongo.collections);
    expect(await inspector.serverVersion()).toBe(m.mongo.serverVersion);
    expect(await inspector.serverVersion()).toBe(await deps.inspector.serverVersion());
    // a drill through it: restore into scratch, compare by dumping the scratch database, drop it
    const { result } = await drillBackup({ ...deps, inspector }, m.id);
    expect(result).toMatchObject({ passed: true, collections: m.mongo.collections.length });
  });

  it('a write during a dump without oplog → AKS_BACKUP_INCONSISTENT, and no set is left', async () => {
    const writing: BackupDeps = {
      ...deps,
      tools: {
        ...deps.tools,
        async dump(o) {
          const p = await deps.tools.dump(o);
          await db.collection<{ _id: string }>('rocketchat_message').insertOne({ _id: `during-${randomBytes(3).toString('hex')}` });
          return p;
        },
      },
    };
    const err = await runBackup(writing, { id: 'inconsistent-1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_INCONSISTENT' });
    expect((err as Error).message).toMatch(/rocketchat_message: 401 documents before the dump, 402 after/);
    await expect(s.container.getBlockBlobClient(manifestBlobName('sandbox', 'inconsistent-1')).exists()).resolves.toBe(false);
    await db.collection('rocketchat_message').deleteMany({ _id: { $regex: /^during-/ } } as never);
  });

  it('a dump that exits 0 but whose archive is cut short → AKS_BACKUP_ARCHIVE_INVALID, and no set is left', async () => {
    const cutting: BackupDeps = {
      ...deps,
      tools: {
        ...deps.tools,
        async dump(o) {
          const p = await deps.tools.dump(o);
          // valid gzip around an archive missing its last 30 bytes (the final end-of-namespace marker)
          const parts: Buffer[] = [];
          const cut = new Transform({
            transform(c: Buffer, _e, cb) {
              parts.push(c);
              cb();
            },
            flush(cb) {
              const archive = gunzipSync(Buffer.concat(parts));
              cb(null, gzipSync(archive.subarray(0, archive.length - 30)));
            },
          });
          return { ...p, stdout: p.stdout!.pipe(cut) };
        },
      },
    };
    expect(await codeOf(runBackup(cutting, { id: 'cut-1' }))).toBe('AKS_BACKUP_ARCHIVE_INVALID');
    await expect(s.container.getBlockBlobClient(manifestBlobName('sandbox', 'cut-1')).exists()).resolves.toBe(false);
    await expect(s.container.getBlockBlobClient(archiveBlobName('sandbox', 'cut-1')).exists()).resolves.toBe(false);
  });

  it('a version 1 manifest: a restore compares counts only, a drill refuses with AKS_BACKUP_MANIFEST_OLD', async () => {
    const { hashScheme: _scheme, ...mongo } = m.mongo;
    const v1 = {
      ...m,
      manifestVersion: 1,
      mongo: { ...mongo, consistency: 'unchanged-during-dump', collections: m.mongo.collections.map((c) => ({ name: c.name, count: c.count, sha256: 'f'.repeat(64) })) },
    };
    const was = await writeSignedManifest(s.container, deps.signer, 'sandbox', m.id, JSON.stringify(v1));
    try {
      const r = await restoreBackup(deps, m.id, { database: `${dbName}_v1`, drop: true });
      expect(r.manifest.manifestVersion).toBe(1);
      expect(await codeOf(drillBackup(deps, m.id).then((o) => { if (o.error) throw o.error; }))).toBe('AKS_BACKUP_MANIFEST_OLD');
    } finally {
      await putBack(s.container, 'sandbox', m.id, was);
    }
  });
});
